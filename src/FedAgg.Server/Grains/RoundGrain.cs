using FedAgg.Core.Codecs;
using FedAgg.Core.Updates;
using FedAgg.Grains.Reminders;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using FedAgg.Server.Hosting;
using FedAgg.Storage;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Grains;

/// <summary>
/// The round grain (see <see cref="IRoundGrain"/>); its state is stored as <c>round</c> in storage <c>Default</c>, its
/// deadline is the durable reminder <c>deadline</c>. Its accepted updates are the update store's journal for the round,
/// read at activation and kept in memory (the persisted state holds only the round's phase and bounds, so recording an
/// update writes nothing); activation also finishes a close that a restart interrupted.
/// </summary>
[GrainType("round")]
public sealed class RoundGrain(
    [PersistentState("round")] IPersistentState<RoundState> state,
    TaskDirectory directory,
    ServerStores stores,
    IRoundCloseHandler closeHandler,
    TimeProvider timeProvider,
    ILogger<RoundGrain> logger) : Grain, IRoundGrain, IRemindable
{
    /// <summary>The name of the deadline reminder.</summary>
    public const string DeadlineReminder = "deadline";

    /// <summary>The reason recorded when the round closes at its participant cap.</summary>
    public const string MaxParticipantsReason = "max participants";

    /// <summary>The reason recorded when the round closes at its deadline.</summary>
    public const string DeadlineReason = "deadline";

    private static readonly TimeSpan DeadlineCheckPeriod = TimeSpan.FromSeconds(1);

    // In-flight uploads (peer id → update id): in memory only, since after a restart nothing is in flight.
    private readonly Dictionary<string, string> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _updateIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _peers = new(StringComparer.Ordinal);
    private string _taskId = "";
    private ulong _round;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!RoundKey.TryParse(this.GetPrimaryKeyString(), out _taskId, out _round))
        {
            throw new ArgumentException($"'{this.GetPrimaryKeyString()}' is not a round key (taskId/round).");
        }

        // The update store's journal is the record of accepted updates (durable before any receipt); the grain keeps
        // them in memory only, so an update costs no state write and a restart loses nothing.
        var count = 0;
        foreach (var stored in stores.Updates.ReadRound(_taskId, _round))
        {
            if (Add(FromJournal(stored.Entry), replay: true))
            {
                count++;
            }
        }

        if (count > 0)
        {
            Log.RoundReconciled(logger, _taskId, _round, count);
        }

        if (state.State.Phase == RoundPhase.Closing)
        {
            await FinishCloseAsync();
        }
        else if (state.State.Phase == RoundPhase.Closed && !state.State.CloseHandled)
        {
            await RunCloseHandlerAsync();
        }

        directory.Publish(Status());
    }

    /// <inheritdoc />
    public async Task<RoundStatus> OpenAsync(RoundOpening opening)
    {
        ArgumentNullException.ThrowIfNull(opening);
        ArgumentOutOfRangeException.ThrowIfLessThan(opening.MaxParticipants, 1);
        var baseModel = Hex.TryDecode(opening.BaseModelHash, 32) is { } hash
            ? Hex.Encode(hash)
            : throw new ArgumentException($"The base model hash must be 0x followed by 64 hex digits; it is '{opening.BaseModelHash}'.", nameof(opening));
        var s = state.State;
        if (s.Phase != RoundPhase.NotOpened)
        {
            if (s.BaseModelHash != baseModel)
            {
                throw new InvalidOperationException($"Round {_round} of task '{_taskId}' was opened from model {s.BaseModelHash}, not {baseModel}.");
            }

            return s.Phase == RoundPhase.Open
                ? Status()
                : throw new InvalidOperationException($"Round {_round} of task '{_taskId}' is {s.Phase.ToString().ToLowerInvariant()}.");
        }

        s.Phase = RoundPhase.Open;
        s.BaseModelHash = baseModel;
        s.OpenedUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        s.DeadlineUnixMs = opening.DeadlineUnixMs;
        s.MinParticipants = opening.MinParticipants;
        s.MaxParticipants = opening.MaxParticipants;
        await state.WriteStateAsync();
        var due = TimeSpan.FromMilliseconds(Math.Max(0, opening.DeadlineUnixMs - s.OpenedUnixMs));
        await this.RegisterOrUpdateReminder(DeadlineReminder, due, DeadlineCheckPeriod);
        Log.RoundOpened(logger, _taskId, _round, baseModel, opening.DeadlineUnixMs, opening.MaxParticipants);
        var status = Status();
        directory.Publish(status);
        return status;
    }

    /// <inheritdoc />
    public async Task<SubmissionCheck> TryReserveAsync(string peerId, string updateId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        ArgumentNullException.ThrowIfNull(updateId);
        var s = state.State;
        if (s.Phase == RoundPhase.Open && timeProvider.GetUtcNow().ToUnixTimeMilliseconds() >= s.DeadlineUnixMs)
        {
            await DeadlinePassedAsync();
        }

        if (s.Phase != RoundPhase.Open)
        {
            return new(SubmitStatus.RoundNotOpen, s.Phase == RoundPhase.NotOpened
                ? $"round {_round} of task '{_taskId}' has not opened"
                : $"round {_round} of task '{_taskId}' is closed ({s.CloseReason})");
        }

        if (_peers.Contains(peerId))
        {
            return new(SubmitStatus.AlreadySubmitted, $"{peerId} already has an update in round {_round}; the first one stands");
        }

        if (_pending.ContainsKey(peerId))
        {
            return new(SubmitStatus.Unavailable, "another update of this peer for this round is being received; the first to finish stands");
        }

        if (s.Updates.Count + _pending.Count >= s.MaxParticipants)
        {
            return new(SubmitStatus.Unavailable,
                $"round {_round} has {s.Updates.Count} accepted updates and {_pending.Count} being received, of at most {s.MaxParticipants}; try later");
        }

        _pending[peerId] = updateId;

        // A slot is held in memory: keep the activation (and so the slot) until the upload ends.
        DelayDeactivation(TimeSpan.FromHours(1));
        return SubmissionCheck.Passed;
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(string peerId, string updateId)
    {
        if (_pending.TryGetValue(peerId, out var held) && held == updateId)
        {
            _pending.Remove(peerId);
            ReleaseKeepAliveWhenIdle();
            if (state.State.Phase == RoundPhase.Closing && _pending.Count == 0)
            {
                await FinishCloseAsync();
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> RecordAsync(AcceptedUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (_pending.TryGetValue(update.PeerId, out var held) && held == update.UpdateId)
        {
            _pending.Remove(update.PeerId);
            ReleaseKeepAliveWhenIdle();
        }

        var added = Add(update, replay: false);
        var s = state.State;
        if (s.Phase == RoundPhase.Open && s.Updates.Count >= s.MaxParticipants)
        {
            await BeginCloseAsync(MaxParticipantsReason);
        }
        else if (s.Phase == RoundPhase.Closing && _pending.Count == 0)
        {
            await FinishCloseAsync();
        }
        else if (added)
        {
            directory.Publish(Status());
        }

        return added;
    }

    /// <inheritdoc />
    public async Task<RoundStatus> CloseAsync(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (state.State.Phase == RoundPhase.NotOpened)
        {
            throw new InvalidOperationException($"Round {_round} of task '{_taskId}' was never opened.");
        }

        if (state.State.Phase == RoundPhase.Open)
        {
            await BeginCloseAsync(reason);
        }

        return Status();
    }

    /// <inheritdoc />
    public Task<RoundStatus> GetStatusAsync() => Task.FromResult(Status());

    /// <inheritdoc />
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != DeadlineReminder)
        {
            return;
        }

        var s = state.State;
        if (s.Phase == RoundPhase.Open && timeProvider.GetUtcNow().ToUnixTimeMilliseconds() >= s.DeadlineUnixMs)
        {
            await DeadlinePassedAsync();
        }
        else if (s.Phase != RoundPhase.Open)
        {
            await UnregisterDeadlineAsync();
        }
    }

    /// <summary>With no upload in flight nothing lives only in memory: the idle collector may take the activation again.</summary>
    private void ReleaseKeepAliveWhenIdle()
    {
        if (_pending.Count == 0)
        {
            DelayDeactivation(TimeSpan.FromTicks(-1));
        }
    }

    private bool Add(AcceptedUpdate update, bool replay)
    {
        if (!_updateIds.Add(update.UpdateId))
        {
            return false;
        }

        var s = state.State;
        if (!replay && (s.Phase != RoundPhase.Open || _peers.Contains(update.PeerId)))
        {
            Log.LateUpdateRecorded(logger, _taskId, _round, update.UpdateId, update.PeerId, s.Phase);
        }

        _peers.Add(update.PeerId);

        // Journal order (the store's sequence), whatever order the records arrive in.
        var index = s.Updates.FindLastIndex(u => u.Sequence < update.Sequence) + 1;
        s.Updates.Insert(index, update);
        return true;
    }

    /// <summary>
    /// At the deadline a round closes, unless it has fewer accepted updates than the task's minimum: then the deadline
    /// moves on by the round's duration (a round without enough updates cannot be aggregated, and closing it would
    /// stall the task).
    /// </summary>
    private async Task DeadlinePassedAsync()
    {
        var s = state.State;
        if (s.Updates.Count >= Math.Max(1, s.MinParticipants))
        {
            await BeginCloseAsync(DeadlineReason);
            return;
        }

        var duration = Math.Max(1000, s.DeadlineUnixMs - s.OpenedUnixMs);
        s.DeadlineUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() + duration;
        await state.WriteStateAsync();
        Log.DeadlineExtended(logger, _taskId, _round, s.Updates.Count, s.MinParticipants, s.DeadlineUnixMs);
        directory.Publish(Status());
    }

    private async Task BeginCloseAsync(string reason)
    {
        var s = state.State;
        s.Phase = RoundPhase.Closing;
        s.CloseReason = reason;
        await state.WriteStateAsync();
        Log.RoundClosing(logger, _taskId, _round, reason, _pending.Count);
        if (_pending.Count == 0)
        {
            await FinishCloseAsync();
        }
        else
        {
            directory.Publish(Status());
        }
    }

    private async Task FinishCloseAsync()
    {
        var s = state.State;
        s.Phase = RoundPhase.Closed;
        s.ClosedUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await state.WriteStateAsync();
        directory.Publish(Status());
        Log.RoundClosed(logger, _taskId, _round, s.CloseReason ?? "", s.Updates.Count);
        await UnregisterDeadlineAsync();
        await RunCloseHandlerAsync();
    }

    private async Task RunCloseHandlerAsync()
    {
        try
        {
            await closeHandler.OnRoundClosedAsync(Status(), CancellationToken.None);
        }
        catch (Exception e)
        {
            Log.CloseHandlerFailed(logger, _taskId, _round, e);
            return;
        }

        state.State.CloseHandled = true;
        await state.WriteStateAsync();
    }

    private async Task UnregisterDeadlineAsync()
    {
        if (await this.GetReminder(DeadlineReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private RoundStatus Status()
    {
        var s = state.State;
        return new RoundStatus(_taskId, _round, s.Phase, s.BaseModelHash, s.OpenedUnixMs, s.DeadlineUnixMs, s.MinParticipants, s.MaxParticipants,
            _pending.Count, [.. s.Updates], s.CloseReason, s.ClosedUnixMs);
    }

    /// <summary>The metadata a round keeps of a journalled update.</summary>
    /// <param name="entry">The journal entry.</param>
    /// <returns>The metadata.</returns>
    internal static AcceptedUpdate FromJournal(JournalEntry entry) => new(
        Hex.Encode(entry.UpdateId.Span),
        Core.Identity.PeerId.FromPublicKeyProtobuf(entry.SignerPublicKey.Span).ToString(),
        entry.Sequence,
        Hex.Encode(entry.PayloadSha256.Span),
        entry.ReceivedUnixMs,
        entry.PayloadLength);
}
