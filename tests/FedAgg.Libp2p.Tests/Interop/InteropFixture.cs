using System.Security.Cryptography;
using FedAgg.Core.Identity;
using FedAgg.TestKit.Libp2p;
using FedAgg.Libp2p.Yamux;

namespace FedAgg.Libp2p.Tests.Interop;

/// <summary>
/// One js-libp2p peer (a node process) and one C# <see cref="Libp2pHost"/>, both listening on 127.0.0.1, shared by
/// the tests of one class. Both identities come from fixed seeds, so each side's peer id is predicted independently
/// (js derives its own from the seed). The C# host serves the same test protocols as the js peer and records what
/// every inbound stream saw in <see cref="Outcomes"/>.
/// </summary>
public class InteropFixture : IAsyncLifetime
{
    /// <summary>The agent version the js peer announces.</summary>
    public const string JsAgent = "fedagg-interop-js/1.0";

    /// <summary>The agent version the C# host announces.</summary>
    public const string CSharpAgent = "fedagg-interop-csharp/1.0";

    /// <summary>The C# host's message limit on the echo protocol, above the 16 MiB test message.</summary>
    public const int EchoMaxMessageBytes = 32 * 1024 * 1024;

    /// <summary>
    /// A protocol only the C# host registers and nobody opens: js learns it from identify alone (js also adds every
    /// protocol a peer opens a stream with to that peer's record, so the echo protocols prove less).
    /// </summary>
    public const string IdentifyOnlyProtocol = "/fedagg/test/identify-only/1.0.0";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] CSharpSeed = Enumerable.Repeat((byte)0x11, 32).ToArray();
    private static readonly byte[] JsSeed = Enumerable.Repeat((byte)0x22, 32).ToArray();

    private Ed25519PrivateKey? _key;

    /// <summary>The js peer's expected id, computed in C# from its seed.</summary>
    public static PeerId ExpectedJsPeerId { get; } = PeerIdOf(JsSeed);

    /// <summary>The C# host's expected id.</summary>
    public static PeerId ExpectedCSharpPeerId { get; } = PeerIdOf(CSharpSeed);

    public JsPeer Js { get; private set; } = null!;

    public Libp2pHost Host { get; private set; } = null!;

    public StreamOutcomes Outcomes { get; } = new();

    /// <summary>The C# host's recent log, for failure messages.</summary>
    public CollectingLoggerFactory HostLog { get; } = new();

    /// <summary>Both sides' recent logs, for failure messages.</summary>
    public string Diagnostics => $"C# stream outcomes:\n{Outcomes}\nC# host log:\n{HostLog.Recent}\njs stderr:\n{Js?.RecentStderr}";

    /// <summary>The C# host's listen address with its /p2p suffix.</summary>
    public Multiaddress HostAddress => Host.ListenAddresses[0].WithPeerId(Host.LocalPeerId);

    /// <summary>The js peer's address.</summary>
    public Multiaddress JsAddress => Multiaddress.Parse(Js.Address);

    /// <summary>Whether the C# host offers its muxer inside the Noise handshake.</summary>
    protected virtual bool EarlyMuxerNegotiation => false;

    public async Task InitializeAsync()
    {
        var js = JsPeer.StartAsync(Convert.ToHexString(JsSeed).ToLowerInvariant(), JsAgent, Timeout);
        try
        {
            _key = Ed25519PrivateKey.FromSeed(CSharpSeed);
            var options = new Libp2pHostOptions
            {
                AgentVersion = CSharpAgent,
                EarlyMuxerNegotiation = EarlyMuxerNegotiation,
                HandshakeTimeout = TimeSpan.FromSeconds(10),
                MaxStreamsPerConnection = 512,
                MaxInboundStreamBacklog = 256,
                YamuxInitialWindowBytes = 1024 * 1024,
            };
            options.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
            options.MaxMessageBytesPerProtocol[JsPeer.EchoProtocol] = EchoMaxMessageBytes;
            Host = new Libp2pHost(_key, options, HostLog);
            Host.RegisterProtocol(JsPeer.EchoProtocol, EchoAsync);
            Host.RegisterProtocol(JsPeer.RawEchoProtocol, RawEchoAsync);
            Host.RegisterProtocol(IdentifyOnlyProtocol, static (stream, _) =>
            {
                stream.Reset();
                return Task.CompletedTask;
            });
            using var start = new CancellationTokenSource(Timeout);
            await Host.StartAsync(start.Token);
        }
        finally
        {
            // Whatever happened above, the js process is owned (and so stopped by DisposeAsync) once it has started.
            Js = await js;
        }
    }

    public async Task DisposeAsync()
    {
        if (Js is not null)
        {
            await Js.DisposeAsync();
        }

        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        _key?.Dispose();
    }

    /// <summary>
    /// How the host's log says the muxer of its connections with the js peer was agreed (event 4102's <c>How</c>:
    /// "chosen in the Noise handshake" or "negotiated with multistream-select"), for the given direction (null: both).
    /// </summary>
    public IReadOnlyList<string?> MuxerNegotiations(bool? inbound) =>
        HostLog.EventsWithId(4102)
            .Where(e => e.GetValueOrDefault("PeerId") == ExpectedJsPeerId.ToString()
                && (inbound is null || e.GetValueOrDefault("Direction") == (inbound.Value ? "inbound" : "outbound")))
            .Select(static e => e.GetValueOrDefault("How"))
            .ToList();

    /// <summary>Runs a js command and fails the test, with the whole answer and both sides' logs, unless it answers <c>ok: true</c>.</summary>
    public async Task<System.Text.Json.Nodes.JsonObject> RunJsAsync(string command, object? arguments = null, TimeSpan? timeout = null)
    {
        var answer = await Js.SendAsync(command, arguments, timeout);
        if (answer["ok"]?.GetValue<bool>() != true)
        {
            Assert.Fail($"js-libp2p command {command} failed: {Shorten(answer.ToJsonString())}\n{Diagnostics}");
        }

        return answer;
    }

    /// <summary>The one open connection between the two, dialled by C# if there is none yet.</summary>
    public async Task<Libp2pConnection> ConnectionToJsAsync()
    {
        using var dial = new CancellationTokenSource(Timeout);
        return await Host.DialAsync(JsAddress, dial.Token);
    }

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Shorten(string text) => text.Length <= 6000 ? text : $"{text[..6000]}… ({text.Length} characters)";

    private static PeerId PeerIdOf(byte[] seed)
    {
        using var key = Ed25519PrivateKey.FromSeed(seed);
        return key.PeerId;
    }

    /// <summary>Echoes each length-prefixed message until the peer's FIN, then half-closes; records what it saw.</summary>
    private async Task EchoAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var hashes = new List<string>();
        long bytes = 0;
        try
        {
            while (await stream.ReadMessageAsync(cancellationToken) is { } message)
            {
                hashes.Add(Sha256Hex(message.Span));
                bytes += message.Length;
                await stream.WriteMessageAsync(message, cancellationToken);
            }

            await stream.CompleteWritesAsync();
            Outcomes.Add(new StreamOutcome(stream.Protocol, stream.RemotePeer, stream.Connection, StreamEnd.End, hashes, bytes, null));
        }
        catch (Libp2pException e)
        {
            Outcomes.Add(new StreamOutcome(stream.Protocol, stream.RemotePeer, stream.Connection, e is YamuxStreamResetException ? StreamEnd.Reset : StreamEnd.Error, hashes, bytes, e));
            throw;
        }
    }

    /// <summary>Echoes raw bytes until the peer's FIN, then half-closes; records their hash.</summary>
    private async Task RawEchoAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        try
        {
            while (true)
            {
                var read = await stream.Input.ReadAsync(cancellationToken);
                foreach (var segment in read.Buffer)
                {
                    hash.AppendData(segment.Span);
                    bytes += segment.Length;
                    await stream.Output.WriteAsync(segment, cancellationToken);
                }

                stream.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            await stream.CompleteWritesAsync();
            Outcomes.Add(new StreamOutcome(stream.Protocol, stream.RemotePeer, stream.Connection, StreamEnd.End, [Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()], bytes, null));
        }
        catch (Libp2pException e)
        {
            Outcomes.Add(new StreamOutcome(stream.Protocol, stream.RemotePeer, stream.Connection, e is YamuxStreamResetException ? StreamEnd.Reset : StreamEnd.Error, [], bytes, e));
            throw;
        }
    }
}

/// <summary>The same pair with the C# host offering <c>/yamux/1.0.0</c> inside the Noise handshake.</summary>
public sealed class EarlyMuxerInteropFixture : InteropFixture
{
    protected override bool EarlyMuxerNegotiation => true;
}

public enum StreamEnd
{
    /// <summary>The peer half-closed cleanly (between messages) and we closed too.</summary>
    End,

    /// <summary>The stream was reset.</summary>
    Reset,

    /// <summary>Another stream error (truncated message, oversized length…).</summary>
    Error,
}

/// <summary>What a C# test-protocol handler saw on one inbound stream: the SHA-256 of each message (or of all raw bytes).</summary>
public sealed record StreamOutcome(string Protocol, PeerId RemotePeer, Libp2pConnection Connection, StreamEnd End, IReadOnlyList<string> Hashes, long Bytes, Exception? Error)
{
    public override string ToString() =>
        $"{Protocol} from {RemotePeer}: {End} after {Hashes.Count} messages / {Bytes} bytes{(Error is null ? "" : $" ({Error.GetType().Name}: {Error.Message})")}";
}

/// <summary>The outcomes of the C# handlers, with a wait for one that matches.</summary>
public sealed class StreamOutcomes
{
    private readonly Lock _lock = new();
    private readonly List<StreamOutcome> _outcomes = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(StreamOutcome outcome)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _outcomes.Add(outcome);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return string.Join('\n', _outcomes.TakeLast(20));
        }
    }

    /// <summary>Waits until <paramref name="count"/> outcomes match <paramref name="predicate"/>; fails naming <paramref name="what"/> and listing what was seen.</summary>
    public async Task<IReadOnlyList<StreamOutcome>> WaitAsync(Func<StreamOutcome, bool> predicate, int count, string what, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? InteropFixture.Timeout);
        while (true)
        {
            Task changed;
            List<StreamOutcome> matching;
            List<StreamOutcome> all;
            lock (_lock)
            {
                all = [.. _outcomes];
                matching = all.Where(predicate).ToList();
                changed = _changed.Task;
            }

            if (matching.Count >= count)
            {
                return matching;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"expected {count} C# stream outcomes: {what}; saw {matching.Count} matching of {all.Count}:\n{string.Join('\n', all.TakeLast(20))}");
            }
        }
    }
}
