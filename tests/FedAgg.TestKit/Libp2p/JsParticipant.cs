using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedAgg.Core.Codecs;
using FedAgg.Core.Updates;
using FedAgg.TestKit.Processes;

namespace FedAgg.TestKit.Libp2p;

/// <summary>What a js participant breaks on purpose, so the server must refuse its update.</summary>
public enum JsParticipantTamper
{
    /// <summary>A valid update (any status but 0 fails the run).</summary>
    None,

    /// <summary>One bit of the signature flipped: status 2 (bad signature).</summary>
    Signature,

    /// <summary>A base model hash of zeros: status 6 (stale base model).</summary>
    StaleBase,

    /// <summary>The open round + 1: status 3 (round not open).</summary>
    WrongRound,

    /// <summary>A signed payloadSha256 of other bytes than those sent: status 9 (payload hash mismatch).</summary>
    PayloadHash,
}

/// <summary>How to run <c>participant.mjs</c> (its options, documented at the top of the script).</summary>
public sealed record JsParticipantOptions
{
    /// <summary>The server's multiaddress, ending in <c>/p2p/</c> and its peer id.</summary>
    public required string Server { get; init; }

    /// <summary>The task to take part in.</summary>
    public required string TaskId { get; init; }

    /// <summary>A 32-byte Ed25519 seed in hex (a fixed identity); null: a fresh key.</summary>
    public string? KeySeedHex { get; init; }

    /// <summary>Rounds to take part in (default 1); after each it waits for a new model and a newer open round.</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>The update's element count; null (default): the model's.</summary>
    public int? Elements { get; init; }

    /// <summary>The delta's values lie in [-DeltaScale, DeltaScale) (default 0.01).</summary>
    public double DeltaScale { get; init; } = 0.01;

    /// <summary>The seed the deltas derive from; null (default): random.</summary>
    public ulong? Seed { get; init; }

    /// <summary>What to break (default nothing).</summary>
    public JsParticipantTamper Tamper { get; init; }

    /// <summary>An Ethereum address (0x + 40 hex digits) to sign a binding for; null: none.</summary>
    public string? BindAddress { get; init; }

    /// <summary>The script's bound on each of its waits (default 60 s); the driver waits for the whole run accordingly.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the script polls the model while waiting for the next round (default 200 ms).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>A model the js participant fetched, as it reported it (hashes as 0x-hex).</summary>
/// <param name="ModelHash">The hash the server announced.</param>
/// <param name="PayloadSha256">The SHA-256 js computed over the payload it received.</param>
/// <param name="HashMatches">Whether the two agree (a run fails when they do not).</param>
/// <param name="Round">The round that produced the model (0 = initial).</param>
/// <param name="OpenRound">The open round the update went to.</param>
/// <param name="OpenRoundDeadlineUnixMs">The open round's deadline.</param>
/// <param name="PayloadBytes">The payload's length.</param>
/// <param name="Codec">The task's update codec.</param>
/// <param name="NumElements">The model's element count.</param>
/// <param name="ChainId">The chain the preimage named.</param>
/// <param name="Ledger">The ledger the preimage named.</param>
public sealed record JsModel(
    string ModelHash, string PayloadSha256, bool HashMatches, ulong Round, ulong OpenRound, ulong OpenRoundDeadlineUnixMs,
    long PayloadBytes, int Codec, ulong NumElements, ulong ChainId, string Ledger);

/// <summary>One submission of the js participant and the receipt it got, with the exact bytes on the wire.</summary>
/// <param name="Round">The preimage's round.</param>
/// <param name="Status">The receipt's status.</param>
/// <param name="Reason">The receipt's reason.</param>
/// <param name="UpdateId">The receipt's update id (0x-hex; empty when the receipt has none).</param>
/// <param name="ExpectedUpdateId">SHA-256 of the preimage js sent (0x-hex).</param>
/// <param name="UpdateIdMatches">Whether the receipt's update id (when present) is the expected one.</param>
/// <param name="Sequence">The receipt's sequence.</param>
/// <param name="ReceivedUnixMs">The receipt's time.</param>
/// <param name="SignatureValid">Whether js verified the server's signature with the receipt's key, that key being the dialled peer's.</param>
/// <param name="ServerPeerId">The peer id of the receipt's key (null on rejections).</param>
/// <param name="Receipt">The <c>SubmitReceipt</c> protobuf as received.</param>
/// <param name="Preimage">The signed preimage as sent.</param>
/// <param name="Signature">The signature as sent (tampered when asked).</param>
/// <param name="PublicKey">The <c>PublicKey</c> protobuf as sent.</param>
/// <param name="PayloadSha256">SHA-256 of the payload as sent (0x-hex).</param>
/// <param name="NumElements">The payload's element count.</param>
public sealed record JsReceipt(
    ulong Round, SubmitStatus Status, string Reason, string UpdateId, string ExpectedUpdateId, bool UpdateIdMatches, ulong Sequence,
    ulong ReceivedUnixMs, bool SignatureValid, string? ServerPeerId, byte[] Receipt, byte[] Preimage, byte[] Signature, byte[] PublicKey,
    string PayloadSha256, ulong NumElements);

/// <summary>
/// The address binding js signed (<c>"FEDAGG-BIND-V1" ‖ u64 chainId ‖ ledger ‖ address</c>) and, when the server speaks
/// <c>/fedagg/bind/1.0.0</c>, sent.
/// </summary>
/// <param name="Address">The bound address (0x-hex).</param>
/// <param name="ChainId">The chain.</param>
/// <param name="Ledger">The ledger (0x-hex).</param>
/// <param name="Signature">The Ed25519 signature.</param>
/// <param name="PublicKey">The raw 32-byte key that signed.</param>
/// <param name="Sent">Whether the server took the bind protocol (false: it does not speak it).</param>
/// <param name="Status">The server's answer when sent (0 = bound).</param>
/// <param name="Reason">The server's reason when sent.</param>
public sealed record JsBinding(string Address, ulong ChainId, string Ledger, byte[] Signature, byte[] PublicKey, bool Sent, uint? Status, string Reason);

/// <summary>A finished run of <c>participant.mjs</c>.</summary>
/// <param name="ExitCode">0 when every step succeeded.</param>
/// <param name="PeerId">The js participant's peer id (empty when it never got to dial).</param>
/// <param name="Models">The models it used, one per round.</param>
/// <param name="Receipts">Its submissions, one per round.</param>
/// <param name="Binding">The binding it signed, if asked.</param>
/// <param name="Error">The error it reported, if any.</param>
/// <param name="StandardError">Its recent stderr, for failure messages.</param>
public sealed record JsParticipantResult(
    int ExitCode, string PeerId, IReadOnlyList<JsModel> Models, IReadOnlyList<JsReceipt> Receipts, JsBinding? Binding, string? Error, string StandardError)
{
    /// <summary>Everything a failing test needs to say what went wrong.</summary>
    public string Describe() =>
        $"exit {ExitCode}, peer {PeerId}, error: {Error ?? "none"}, receipts: [{string.Join(", ", Receipts.Select(static r => $"{r.Status} {r.Reason}"))}]\nstderr:\n{StandardError}";
}

/// <summary>
/// Runs the js-libp2p FedAgg participant (<c>tests/FedAgg.Server.Tests/Interop/js/participant.mjs</c>), an
/// implementation of docs/PROTOCOL.md independent of the C# one, and reads its JSON lines as they come. Every wait has a
/// timeout and fails with the script's events and stderr; disposing kills the process tree if it is still running.
/// </summary>
public sealed class JsParticipant : IAsyncDisposable
{
    private const int StderrLines = 200;

    private readonly Process _process;
    private readonly TimeSpan _runLimit;
    private readonly List<JsonObject> _events = [];
    private readonly Queue<string> _stderr = new();
    private readonly Lock _lock = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stdoutEnded;

    private JsParticipant(Process process, TimeSpan runLimit)
    {
        _process = process;
        _runLimit = runLimit;
        _stdoutPump = Task.Run(PumpStdoutAsync);
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    /// <summary>The script, in the repository's source tree (node resolves its imports from the root's node_modules).</summary>
    public static string ScriptPath => Path.Combine(RepositoryRoot.Path, "tests", "FedAgg.Server.Tests", "Interop", "js", "participant.mjs");

    /// <summary>The events reported so far, in order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The script's recent stderr.</summary>
    public string RecentStderr
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>Starts the script (it dials at once); read its progress with the wait methods.</summary>
    /// <param name="options">What to run.</param>
    /// <returns>The running participant.</returns>
    public static JsParticipant Start(JsParticipantOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Rounds, 1);
        JsPeer.RequireInstalled();
        var start = new ProcessStartInfo(NodeRunner.Executable)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        var arguments = start.ArgumentList;
        arguments.Add(ScriptPath);
        Add(arguments, "--server", options.Server);
        Add(arguments, "--task", options.TaskId);
        Add(arguments, "--rounds", options.Rounds.ToString(CultureInfo.InvariantCulture));
        Add(arguments, "--delta-scale", options.DeltaScale.ToString("R", CultureInfo.InvariantCulture));
        Add(arguments, "--tamper", options.Tamper switch
        {
            JsParticipantTamper.None => "none",
            JsParticipantTamper.Signature => "signature",
            JsParticipantTamper.StaleBase => "stale-base",
            JsParticipantTamper.WrongRound => "wrong-round",
            JsParticipantTamper.PayloadHash => "payload-hash",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Tamper, "Unknown tamper."),
        });
        Add(arguments, "--timeout-ms", ((long)options.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        Add(arguments, "--poll-ms", ((long)options.PollInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        if (options.KeySeedHex is not null)
        {
            Add(arguments, "--key-seed", options.KeySeedHex);
        }

        if (options.Elements is { } elements)
        {
            Add(arguments, "--elements", elements.ToString(CultureInfo.InvariantCulture));
        }

        if (options.Seed is { } seed)
        {
            Add(arguments, "--seed", seed.ToString(CultureInfo.InvariantCulture));
        }

        if (options.BindAddress is not null)
        {
            Add(arguments, "--bind-address", options.BindAddress);
        }

        var process = NodeRunner.StartScript(start, ScriptPath);

        // The script bounds each wait by the timeout and the whole run by a watchdog of timeout × (3 × rounds + 2);
        // the driver allows a little more so the script's own error wins.
        return new JsParticipant(process, (options.Timeout * ((3 * options.Rounds) + 2)) + TimeSpan.FromSeconds(15));
    }

    /// <summary>Starts the script and waits until it exits.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="cancellationToken">Stops waiting (the process is killed).</param>
    /// <returns>The run.</returns>
    public static async Task<JsParticipantResult> RunAsync(JsParticipantOptions options, CancellationToken cancellationToken)
    {
        var participant = Start(options);
        await using (participant.ConfigureAwait(false))
        {
            return await participant.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the <paramref name="occurrence"/>-th event named <paramref name="name"/> (from 1).</summary>
    /// <param name="name">The event (<c>ready</c>, <c>model</c>, <c>binding</c>, <c>receipt</c>, <c>done</c>).</param>
    /// <param name="occurrence">Which one, from 1.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The event.</returns>
    /// <exception cref="TimeoutException">It did not come in time.</exception>
    /// <exception cref="InvalidOperationException">The script exited (or reported an error) without it.</exception>
    public async Task<JsonObject> WaitForEventAsync(string name, int occurrence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(occurrence, 1);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                var matching = _events.Where(e => e["event"]?.GetValue<string>() == name).ToList();
                if (matching.Count >= occurrence)
                {
                    return matching[occurrence - 1];
                }

                if (_events.Find(static e => e["event"]?.GetValue<string>() == "error") is { } error)
                {
                    throw new InvalidOperationException($"participant.mjs reported an error before {name} #{occurrence}: {error["message"]}\n{Describe()}");
                }

                if (_stdoutEnded)
                {
                    throw new InvalidOperationException($"participant.mjs exited before {name} #{occurrence}.\n{Describe()}");
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"participant.mjs did not report {name} #{occurrence} within {timeout.TotalSeconds} s.\n{Describe()}");
            }
        }
    }

    /// <summary>Waits for the <paramref name="occurrence"/>-th receipt (from 1).</summary>
    /// <param name="occurrence">Which one, from 1.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The receipt.</returns>
    public async Task<JsReceipt> WaitForReceiptAsync(int occurrence, TimeSpan timeout, CancellationToken cancellationToken) =>
        ParseReceipt(await WaitForEventAsync("receipt", occurrence, timeout, cancellationToken).ConfigureAwait(false));

    /// <summary>Waits until the script exits (at most its own time bound plus a margin; then it is killed).</summary>
    /// <param name="cancellationToken">Stops waiting (the process is killed).</param>
    /// <returns>The run.</returns>
    /// <exception cref="TimeoutException">It ran past its bound.</exception>
    public async Task<JsParticipantResult> WaitForExitAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_runLimit);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"participant.mjs did not exit within {_runLimit.TotalSeconds} s.\n{Describe()}");
        }

        var events = Events;
        string Of(JsonObject e) => e["event"]?.GetValue<string>() ?? "";
        return new JsParticipantResult(
            _process.ExitCode,
            events.FirstOrDefault(e => Of(e) == "ready")?["peerId"]?.GetValue<string>() ?? "",
            [.. events.Where(e => Of(e) == "model").Select(ParseModel)],
            [.. events.Where(e => Of(e) == "receipt").Select(ParseReceipt)],
            events.FirstOrDefault(e => Of(e) == "binding") is { } binding ? ParseBinding(binding) : null,
            events.FirstOrDefault(e => Of(e) == "error")?["message"]?.GetValue<string>(),
            RecentStderr);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A process that ignores SIGKILL for 10 s is the system's problem; the test has its answer already.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static void Add(IList<string> arguments, string name, string value)
    {
        arguments.Add(name);
        arguments.Add(value);
    }

    private static JsModel ParseModel(JsonObject e) => new(
        Text(e, "modelHash"), Text(e, "payloadSha256"), e["hashMatches"]!.GetValue<bool>(), U64(e, "round"), U64(e, "openRound"),
        U64(e, "openRoundDeadlineUnixMs"), e["payloadBytes"]!.GetValue<long>(), e["codec"]!.GetValue<int>(), U64(e, "numElements"),
        U64(e, "chainId"), Text(e, "ledger"));

    private static JsReceipt ParseReceipt(JsonObject e) => new(
        U64(e, "round"), (SubmitStatus)e["status"]!.GetValue<uint>(), Text(e, "reason"), Text(e, "updateId"), Text(e, "expectedUpdateId"),
        e["updateIdMatches"]!.GetValue<bool>(), U64(e, "sequence"), U64(e, "receivedUnixMs"), e["signatureValid"]!.GetValue<bool>(),
        e["serverPeerId"]?.GetValue<string>(), Bytes(e, "receipt"), Bytes(e, "preimage"), Bytes(e, "signature"), Bytes(e, "publicKey"),
        Text(e, "payloadSha256"), U64(e, "numElements"));

    private static JsBinding ParseBinding(JsonObject e) => new(
        Text(e, "address"), U64(e, "chainId"), Text(e, "ledger"), Bytes(e, "signature"), Bytes(e, "publicKey"), e["sent"]!.GetValue<bool>(),
        e["status"]?.GetValue<uint>(), e["reason"]?.GetValue<string>() ?? "");

    private static string Text(JsonObject e, string name) =>
        e[name]?.GetValue<string>() ?? throw new InvalidOperationException($"participant.mjs event {e.ToJsonString()} has no {name}.");

    private static byte[] Bytes(JsonObject e, string name) =>
        Hex.TryDecode(Text(e, name)) ?? throw new InvalidOperationException($"participant.mjs event field {name} is not hex: {e.ToJsonString()}");

    // The script writes a u64 as a number when it is exactly representable and as a decimal string otherwise.
    private static ulong U64(JsonObject e, string name) => e[name] switch
    {
        JsonValue value when value.TryGetValue<ulong>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new InvalidOperationException($"participant.mjs event field {name} is not a u64: {e.ToJsonString()}"),
    };

    private string Describe()
    {
        lock (_lock)
        {
            return $"events:\n{string.Join('\n', _events.Select(static e => e.ToJsonString()))}\nstderr:\n{string.Join('\n', _stderr)}";
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It has exited meanwhile.
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                JsonObject? message = null;
                try
                {
                    message = JsonNode.Parse(line) as JsonObject;
                }
                catch (JsonException)
                {
                }

                lock (_lock)
                {
                    if (message is null)
                    {
                        AddStderrLocked($"(stdout, not a JSON object) {line}");
                    }
                    else
                    {
                        _events.Add(message);
                    }

                    Signal();
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _stdoutEnded = true;
                Signal();
            }
        }
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_lock)
            {
                AddStderrLocked(line);
            }
        }
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void AddStderrLocked(string line)
    {
        _stderr.Enqueue(line);
        while (_stderr.Count > StderrLines)
        {
            _stderr.Dequeue();
        }
    }
}
