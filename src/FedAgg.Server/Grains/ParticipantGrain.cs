using System.Globalization;
using System.Numerics;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Grains;

/// <summary>The participant grain (see <see cref="IParticipantGrain"/>); its state is stored as <c>participant</c> in storage <c>Default</c>.</summary>
[GrainType("participant")]
public sealed class ParticipantGrain(
    [PersistentState("participant")] IPersistentState<ParticipantState> state,
    TimeProvider timeProvider,
    ILogger<ParticipantGrain> logger) : Grain, IParticipantGrain
{
    // Times (Unix ms) of recent admitted submissions, oldest first: the sliding window of the rate limit.
    private readonly Queue<long> _recent = new();

    /// <inheritdoc />
    public Task<SubmissionCheck> AdmitAsync(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = state.State;
        if (s.BannedEverywhere is { } everywhere)
        {
            return Refuse(SubmitStatus.NotAdmitted, $"the peer is banned: {everywhere}");
        }

        if (s.BannedTasks.TryGetValue(request.TaskId, out var reason))
        {
            return Refuse(SubmitStatus.NotAdmitted, $"the peer is banned from task '{request.TaskId}': {reason}");
        }

        switch (request.Policy)
        {
            case AdmissionPolicy.Allowlist when s.AllowedTasks.BinarySearch(request.TaskId, StringComparer.Ordinal) < 0:
                return Refuse(SubmitStatus.NotAdmitted, $"task '{request.TaskId}' admits only peers on its allowlist");
            case AdmissionPolicy.Registered when s.Binding is not { } binding || binding.ChainId != request.ChainId
                || !string.Equals(binding.Ledger, request.Ledger, StringComparison.OrdinalIgnoreCase):
                return Refuse(SubmitStatus.NotAdmitted, $"task '{request.TaskId}' admits only peers that bound an address on chain {request.ChainId}");
            default:
                break;
        }

        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var windowStart = now - (long)request.Window.TotalMilliseconds;
        while (_recent.TryPeek(out var oldest) && oldest <= windowStart)
        {
            _recent.Dequeue();
        }

        if (_recent.Count >= request.MaxSubmissions)
        {
            var retryMs = _recent.Peek() - windowStart;
            return Refuse(SubmitStatus.RateLimited,
                $"at most {request.MaxSubmissions} submissions per {request.Window.TotalSeconds:0.###} s; try again in {Math.Max(1, retryMs)} ms");
        }

        _recent.Enqueue(now);
        return Task.FromResult(SubmissionCheck.Passed);
    }

    /// <inheritdoc />
    public async Task BanAsync(string? taskId, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (taskId is null)
        {
            state.State.BannedEverywhere = reason;
        }
        else
        {
            state.State.BannedTasks[taskId] = reason;
        }

        await state.WriteStateAsync();
        Log.ParticipantBanned(logger, GrainId, taskId ?? "*", reason);
    }

    /// <inheritdoc />
    public async Task UnbanAsync(string? taskId)
    {
        var changed = taskId is null
            ? state.State.BannedEverywhere is not null
            : state.State.BannedTasks.Remove(taskId);
        if (taskId is null)
        {
            state.State.BannedEverywhere = null;
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public async Task SetAllowedAsync(string taskId, bool allowed)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var list = state.State.AllowedTasks;
        var index = list.BinarySearch(taskId, StringComparer.Ordinal);
        if (allowed == index >= 0)
        {
            return;
        }

        if (allowed)
        {
            list.Insert(~index, taskId);
        }
        else
        {
            list.RemoveAt(index);
        }

        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task<bool> BindAddressAsync(AddressBindingRecord binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (!PeerId.TryParse(this.GetPrimaryKeyString(), out var peer) || !peer.TryGetPublicKey(out var key)
            || Hex.TryDecode(binding.Ledger, 20) is not { } ledger || Hex.TryDecode(binding.Address, 20) is not { } address
            || Hex.TryDecode(binding.Signature, 64) is not { } signature
            || !AddressBinding.Verify(key, binding.ChainId, ledger, address, signature))
        {
            return false;
        }

        state.State.Binding = binding with { Ledger = Hex.Encode(ledger), Address = Hex.Encode(address), Signature = Hex.Encode(signature) };
        await state.WriteStateAsync();
        Log.AddressBound(logger, peer, binding.Address, binding.ChainId);
        return true;
    }

    /// <inheritdoc />
    public async Task RecordCreditAsync(CreditRecord credit)
    {
        ArgumentNullException.ThrowIfNull(credit);
        var totals = state.State.CreditTotals;
        var history = state.State.Credits;
        if (!totals.TryGetValue(credit.TaskId, out var total))
        {
            total = TotalOf(history.Where(c => c.TaskId == credit.TaskId)); // state written before totals were kept
        }

        if (total is not null && credit.Round <= total.LastRound)
        {
            return; // a restart re-publishing the round records it again; a task's rounds are published in order
        }

        if (!BigInteger.TryParse(credit.Credit, NumberStyles.None, CultureInfo.InvariantCulture, out var earned))
        {
            throw new ArgumentException($"credit '{credit.Credit}' is not a non-negative decimal integer", nameof(credit));
        }

        var sum = (total is null ? BigInteger.Zero : BigInteger.Parse(total.Credits, CultureInfo.InvariantCulture)) + earned;
        totals[credit.TaskId] = new CreditTotal(
            (total?.Rounds ?? 0) + 1,
            (total?.AcceptedRounds ?? 0) + (credit.Accepted ? 1UL : 0UL),
            sum.ToString(CultureInfo.InvariantCulture),
            credit.Round);
        history.Add(credit);
        if (history.Count > ParticipantState.MaxCreditHistory)
        {
            history.RemoveRange(0, history.Count - ParticipantState.MaxCreditHistory);
        }

        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<ParticipantStatus> GetStatusAsync()
    {
        var s = state.State;
        return Task.FromResult(new ParticipantStatus(
            this.GetPrimaryKeyString(), s.BannedEverywhere, new Dictionary<string, string>(s.BannedTasks, StringComparer.Ordinal), [.. s.AllowedTasks], s.Binding,
            [.. s.Credits],
            new Dictionary<string, CreditTotal>(s.CreditTotals, StringComparer.Ordinal)));
    }

    private static CreditTotal? TotalOf(IEnumerable<CreditRecord> records)
    {
        CreditTotal? total = null;
        foreach (var record in records)
        {
            var credits = (total is null ? BigInteger.Zero : BigInteger.Parse(total.Credits, CultureInfo.InvariantCulture))
                + BigInteger.Parse(record.Credit, CultureInfo.InvariantCulture);
            total = new CreditTotal(
                (total?.Rounds ?? 0) + 1, (total?.AcceptedRounds ?? 0) + (record.Accepted ? 1UL : 0UL),
                credits.ToString(CultureInfo.InvariantCulture), Math.Max(total?.LastRound ?? 0, record.Round));
        }

        return total;
    }

    private static Task<SubmissionCheck> Refuse(SubmitStatus status, string reason) => Task.FromResult(new SubmissionCheck(status, reason));
}
