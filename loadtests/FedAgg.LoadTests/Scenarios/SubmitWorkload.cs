using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using FedAgg.Client;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.LoadTests.Runner;
using FedAgg.Libp2p;

namespace FedAgg.LoadTests.Scenarios;

/// <summary>How one round was published during a submit workload.</summary>
/// <param name="Round">The round.</param>
/// <param name="Updates">Updates receipted in it.</param>
/// <param name="CloseMs">round.close's answer time.</param>
/// <param name="PublishMs">From close to the manifest being served.</param>
/// <param name="NextRoundMs">From the manifest to the next round being open.</param>
/// <param name="Anchored">Whether the manifest names an anchor transaction.</param>
public sealed record RoundTiming(ulong Round, int Updates, double CloseMs, double PublishMs, double NextRoundMs, bool Anchored);

/// <summary>The manifest check: every receipted update must be in its round's manifest, accepted.</summary>
/// <param name="Receipted">Updates with a storing receipt (Accepted or Duplicate).</param>
/// <param name="Found">Of those, how many the manifests list as accepted.</param>
/// <param name="Rounds">Rounds checked.</param>
/// <param name="Missing">Up to 10 missing update ids (0x-hex).</param>
/// <param name="Unchecked">Receipted updates whose round was not published (no coordinator to close it).</param>
public sealed record ManifestCheck(long Receipted, long Found, int Rounds, IReadOnlyList<string> Missing, long Unchecked)
{
    /// <summary>Whether every receipted update was found.</summary>
    public bool Passed => Found == Receipted && Unchecked == 0;
}

/// <summary>
/// P participants (each a libp2p peer with its own Ed25519 key and connection) submitting signed float32 updates to the
/// task's open round. The server takes one update per peer per round, so when all P have a stored receipt the
/// coordinator closes the round (<c>round.close</c>), waits for the manifest (which is checked against the receipts) and
/// for the next round, and the participants go again. Steps: <c>acquire</c> (wait for a participant who has not yet
/// submitted in the open round: includes waits for a round change) and <c>submit</c> (sign, send, receipt).
/// </summary>
public sealed class SubmitWorkload : IAsyncDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(3);
    private readonly Multiaddress _server;
    private readonly string _taskId;
    private readonly int _participantCount;
    private readonly string? _coordinatorKeyFile;
    private readonly TimeProvider _time;
    private readonly List<Participant> _participants = [];
    private readonly ConcurrentDictionary<ulong, ConcurrentBag<string>> _receipts = new();
    private readonly ConcurrentQueue<RoundTiming> _rounds = new();
    private readonly ConcurrentQueue<(ulong Round, int Found, int Receipted, List<string> Missing)> _checks = new();
    private readonly Lock _lock = new();
    private readonly Channel<Participant> _available = Channel.CreateUnbounded<Participant>();
    private Ed25519PrivateKey? _coordinatorKey;
    private FedAggClient? _coordinator;
    private volatile ModelResponse _base = null!;
    private byte[] _template = [];
    private UniquePayloadSource? _payloads;
    private int _doneInRound;
    private long _counter;
    private Task _rollover = Task.CompletedTask;

    /// <summary>Creates the workload (connects nothing until <see cref="InitAsync"/>).</summary>
    /// <param name="server">The server's address.</param>
    /// <param name="participants">P, 1 to 10,000.</param>
    /// <param name="coordinatorKeyFile">The coordinator's key file; without one rounds are not closed (each participant submits once).</param>
    /// <param name="taskId">The task (default <c>demo</c>).</param>
    /// <param name="timeProvider">The clock for expiries (default the system's).</param>
    public SubmitWorkload(Multiaddress server, int participants, string? coordinatorKeyFile, string taskId = "demo", TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(participants, 10_000);
        _server = server;
        _participantCount = participants;
        _coordinatorKeyFile = coordinatorKeyFile;
        _taskId = taskId;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The task the participants submit to.</summary>
    public string TaskId => _taskId;

    /// <summary>Whether rounds are closed and re-opened (a coordinator key was given).</summary>
    public bool RollsRounds => _coordinatorKeyFile is not null;

    /// <summary>The model's float32 elements (after <see cref="InitAsync"/>).</summary>
    public long Elements => (long)_base.NumElements;

    /// <summary>The update payload's bytes.</summary>
    public int PayloadBytes => _template.Length;

    /// <summary>The participants' connections.</summary>
    public IReadOnlyList<FedAggClient> Clients => [.. _participants.Select(static p => p.Client)];

    /// <summary>Rounds published so far.</summary>
    public IReadOnlyList<RoundTiming> Rounds => [.. _rounds];

    /// <summary>
    /// Awaited after a round is published and the next one is open, before the participants go again: a quiet point
    /// (no upload in flight) for measurements such as the server's retained heap. Its argument is the published round;
    /// its time counts in the next round's <c>acquire</c> latency, not in the round timings.
    /// </summary>
    public Func<ulong, CancellationToken, Task>? BetweenRounds { get; set; }

    /// <summary>Connects the participants (16 at a time) and the coordinator, and fetches the model.</summary>
    /// <param name="cancellationToken">Cancels the connects.</param>
    /// <returns>A task that completes when ready.</returns>
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        if (_coordinatorKeyFile is not null)
        {
            _coordinatorKey = KeyFile.Load(_coordinatorKeyFile, out _);
            _coordinator = await FedAggClient.ConnectAsync(_server, _coordinatorKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        using var gate = new SemaphoreSlim(16);
        var connects = Enumerable.Range(0, _participantCount).Select(async index =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var key = Ed25519PrivateKey.Generate();
                try
                {
                    var client = await FedAggClient.ConnectAsync(_server, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                    return new Participant(index, key, client);
                }
                catch
                {
                    key.Dispose();
                    throw;
                }
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        try
        {
            _participants.AddRange(await Task.WhenAll(connects).ConfigureAwait(false));
        }
        catch
        {
            foreach (var done in connects.Where(static c => c.IsCompletedSuccessfully))
            {
                _participants.Add(done.Result);
            }

            throw;
        }

        var model = await (_coordinator ?? _participants[0].Client).FetchModelAsync(_taskId, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (model.Response.Status != ModelStatus.Ok || model.Response.OpenRound == 0 || model.Response.Codec != PayloadCodec.Float32)
        {
            throw new InvalidOperationException($"task '{_taskId}' has no open float32 round (status {model.Response.Status}, open round {model.Response.OpenRound}, codec {model.Response.Codec})");
        }

        _base = model.Response;
        _template = new byte[checked((int)(model.Response.NumElements * 4))];

        var random = new Random(7);
        var values = MemoryMarshal.Cast<byte, float>(_template.AsSpan());
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.5) * 1e-3);
        }

        _payloads = new UniquePayloadSource(_template, _participants.Count);

        foreach (var participant in _participants)
        {
            _available.Writer.TryWrite(participant);
        }
    }

    /// <summary>The steps: <c>acquire</c> (a participant who has not submitted in the open round) and <c>submit</c>.</summary>
    /// <returns>The steps.</returns>
    public Step[] Steps() =>
    [
        new Step("acquire", async context =>
        {
            var participant = await _available.Reader.ReadAsync(context.CancellationToken).ConfigureAwait(false);
            context.Items["participant"] = participant;
            return StepResult.Ok();
        }),
        new Step("submit", context => SubmitAsync((Participant)context.Items["participant"]!, context.CancellationToken)),
    ];

    /// <summary>Waits for a round change in progress, closes the open round if it holds receipts, and checks every manifest.</summary>
    /// <param name="cancellationToken">Cancels the waits.</param>
    /// <returns>The check.</returns>
    public async Task<ManifestCheck> FinishAsync(CancellationToken cancellationToken)
    {
        await _rollover.WaitAsync(cancellationToken).ConfigureAwait(false);
        var open = _base.OpenRound;
        if (_coordinator is not null && _receipts.TryGetValue(open, out var pending) && !pending.IsEmpty)
        {
            await PublishAsync(open, nextRound: false, cancellationToken).ConfigureAwait(false);
        }

        var missing = _checks.SelectMany(static c => c.Missing).Take(10).ToList();
        var checkedRounds = _checks.Select(static c => c.Round).ToHashSet();
        var uncheckedCount = _receipts.Where(r => !checkedRounds.Contains(r.Key)).Sum(static r => (long)r.Value.Count);
        return new ManifestCheck(_checks.Sum(static c => (long)c.Receipted), _checks.Sum(static c => (long)c.Found), checkedRounds.Count, missing, uncheckedCount);
    }

    /// <summary>Closes every connection.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var participant in _participants)
        {
            await participant.Client.DisposeAsync().ConfigureAwait(false);
            participant.Key.Dispose();
        }

        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync().ConfigureAwait(false);
        }

        _coordinatorKey?.Dispose();
        _payloads?.Dispose();
    }

    /// <summary>Builds a signed request for <paramref name="payload"/> against the open round's model.</summary>
    internal SubmitRequest CreateRequest(Ed25519PrivateKey key, ReadOnlySpan<byte> payload, ModelResponse model, ulong? elements = null, byte[]? payloadSha256 = null) =>
        SubmitRequest.Create(new UpdatePreimage
        {
            ChainId = model.ChainId,
            Ledger = model.Ledger.Length == 20 ? model.Ledger : new byte[20],
            TaskId = _taskId,
            Round = model.OpenRound,
            BaseModelHash = model.ModelHash,
            Codec = PayloadCodec.Float32,
            NumElements = elements ?? (ulong)(payload.Length / 4),
            PayloadSha256 = payloadSha256 ?? SHA256.HashData(payload),
            NumSamples = 1,
            Nonce = RandomNumberGenerator.GetBytes(16),
            ExpiresUnixMs = (ulong)_time.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds(),
        }, key);

    /// <summary>The current base model (the open round's).</summary>
    internal ModelResponse BaseModel => _base;

    /// <summary>A fresh, unique payload of the model's size (rented: return it to the shared pool).</summary>
    internal byte[] RentPayload(out int length)
    {
        length = _template.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        _template.CopyTo(buffer, 0);
        var unique = Interlocked.Increment(ref _counter);
        var values = MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, length));
        values[0] = unique * 1e-7f;
        if (values.Length > 1)
        {
            values[1] = (unique >> 20) * 1e-7f;
        }

        return buffer;
    }

    private async ValueTask<StepResult> SubmitAsync(Participant participant, CancellationToken cancellationToken)
    {
        var model = _base;
        // The participant's own buffer: it has one upload at a time.
        var (payload, sha256) = _payloads!.Next(participant.Index);
        var length = payload.Length;
        var requeue = true;
        try
        {
            var request = CreateRequest(participant.Key, payload, model, payloadSha256: sha256);
            var outcome = await participant.Client.SubmitAsync(request, payload, cancellationToken).ConfigureAwait(false);
            var sent = length + request.Encode().Length;
            if (outcome.Receipt.IsStored)
            {
                requeue = false;
                _receipts.GetOrAdd(model.OpenRound, static _ => []).Add(Hex.Encode(outcome.UpdateId));
                Done(model.OpenRound);
                return StepResult.Ok(sent, outcome.Raw.Length);
            }

            if (outcome.Receipt.Status == SubmitStatus.AlreadySubmitted)
            {
                // An earlier attempt was stored without its receipt reaching us: this participant is done for the round.
                requeue = false;
                Done(model.OpenRound);
            }

            return StepResult.Fail("status:" + outcome.Receipt.Status, sent, outcome.Raw.Length);
        }
        finally
        {
            if (requeue)
            {
                _available.Writer.TryWrite(participant);
            }
        }
    }

    private void Done(ulong round)
    {
        lock (_lock)
        {
            if (round != _base.OpenRound || ++_doneInRound < _participantCount || _coordinator is null)
            {
                return;
            }

            _doneInRound = 0;
            _rollover = Task.Run(() => PublishAsync(round, nextRound: true, CancellationToken.None));
        }
    }

    private async Task PublishAsync(ulong round, bool nextRound, CancellationToken cancellationToken)
    {
        var coordinator = _coordinator!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        var watch = Stopwatch.StartNew();
        var close = await coordinator.AdminAsync("round.close", $$"""{"taskId":"{{_taskId}}"}""", timeout.Token).ConfigureAwait(false);
        if (close.Status != ServiceStatus.Ok)
        {
            throw new InvalidOperationException($"round.close of round {round} answered {close.Status}: {close.Reason}");
        }

        var closeMs = watch.Elapsed.TotalMilliseconds;
        RoundDownload published;
        while (true)
        {
            published = await coordinator.FetchRoundAsync(_taskId, round, timeout.Token).ConfigureAwait(false);
            if (published.Manifest is not null)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, timeout.Token).ConfigureAwait(false);
        }

        var publishMs = watch.Elapsed.TotalMilliseconds - closeMs;
        var manifest = published.Manifest;
        var accepted = manifest.Updates.Where(static u => u.Accepted).Select(static u => u.UpdateId.ToString()).ToHashSet(StringComparer.Ordinal);
        var receipted = _receipts.TryGetValue(round, out var bag) ? bag.ToArray() : [];
        var missing = receipted.Where(id => !accepted.Contains(id)).ToList();
        _checks.Enqueue((round, receipted.Length - missing.Count, receipted.Length, missing));

        double nextMs = 0;
        if (nextRound)
        {
            var opened = watch.Elapsed;
            while (true)
            {
                var model = await coordinator.FetchModelAsync(_taskId, cancellationToken: timeout.Token).ConfigureAwait(false);
                if (model.Response.Status == ModelStatus.Ok && model.Response.OpenRound > round)
                {
                    _base = model.Response;
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, timeout.Token).ConfigureAwait(false);
            }

            nextMs = (watch.Elapsed - opened).TotalMilliseconds;
            if (BetweenRounds is { } between)
            {
                await between(round, timeout.Token).ConfigureAwait(false);
            }

            foreach (var participant in _participants)
            {
                _available.Writer.TryWrite(participant);
            }
        }

        _rounds.Enqueue(new RoundTiming(round, receipted.Length, closeMs, publishMs, nextMs, manifest.AnchorTx is not null));
    }

    internal sealed record Participant(int Index, Ed25519PrivateKey Key, FedAggClient Client);
}
