using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Yamux;

public class YamuxHostileInputTests
{
    public static TheoryData<string, YamuxProtocolViolation, string> Scenarios => new()
    {
        { "bad version", YamuxProtocolViolation.UnsupportedVersion, "unsupported yamux version" },
        { "garbage", YamuxProtocolViolation.UnsupportedVersion, "unsupported yamux version" },
        { "unknown type", YamuxProtocolViolation.UnknownFrameType, "unknown frame type 7" },
        { "data on unknown stream", YamuxProtocolViolation.UnknownStream, "Data frame on stream 5, which was never opened" },
        { "window update on our unopened stream", YamuxProtocolViolation.UnknownStream, "WindowUpdate frame on stream 2, which was never opened" },
        { "wrong parity SYN", YamuxProtocolViolation.WrongParitySyn, "SYN on stream 2" },
        { "duplicate SYN", YamuxProtocolViolation.DuplicateSyn, "duplicate SYN on stream 1" },
        { "old id SYN", YamuxProtocolViolation.DuplicateSyn, "duplicate SYN on stream 1" },
        { "data after FIN", YamuxProtocolViolation.DataAfterFin, "data after FIN on stream 1" },
        { "data on stream 0", YamuxProtocolViolation.InvalidFrame, "Data frame on stream 0" },
        { "ping without flags", YamuxProtocolViolation.InvalidFrame, "ping with flags None" },
        { "window overflow", YamuxProtocolViolation.WindowOverflow, "window update on stream 1" },
        { "truncated", YamuxProtocolViolation.TruncatedFrame, "the connection ended in the middle of a frame" },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task ReadLoop_HostileInput_SessionEndsWithReasonAndGoAway(string scenario, YamuxProtocolViolation violation, string message)
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false);
        await using var _ = session;

        switch (scenario)
        {
            case "bad version":
                await peer.SendRawAsync(Convert.FromHexString("010100000000000100000000"));
                break;
            case "garbage":
                await peer.SendRawAsync("hello, yamux!"u8.ToArray());
                break;
            case "unknown type":
                await peer.SendRawAsync(Convert.FromHexString("000700000000000100000000"));
                break;
            case "data on unknown stream":
                await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 5, 3, [1, 2, 3]);
                break;
            case "window update on our unopened stream":
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.None, 2, 3);
                break;
            case "wrong parity SYN":
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 2, 0);
                break;
            case "duplicate SYN":
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
                break;
            case "old id SYN":
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 3, 0);
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
                break;
            case "data after FIN":
                await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.Syn | YamuxFlags.Fin, 1, 2, [1, 2]);
                await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, 1, [3]);
                break;
            case "data on stream 0":
                await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 0, 0);
                break;
            case "ping without flags":
                await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.None, 0, 1);
                break;
            case "window overflow":
                await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, uint.MaxValue);
                break;
            default:
                await peer.SendRawAsync(Convert.FromHexString("0000000000000001000000"));
                await peer.Connection.Output.CompleteAsync();
                break;
        }

        var end = await session.Completion.Within($"session end after {scenario}");
        Assert.Equal(YamuxSessionEndReason.ProtocolError, end.Reason);
        Assert.Equal(violation, end.Violation);
        Assert.Equal(YamuxGoAwayCode.ProtocolError, end.GoAwayCode);
        Assert.StartsWith(message, end.Message, StringComparison.Ordinal);
        var frames = await peer.ReadToEndAsync().Within("the session closing the connection");
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, (uint)YamuxGoAwayCode.ProtocolError), frames[^1]);
        await Assert.ThrowsAsync<Libp2pException>(async () => await session.OpenStreamAsync(Timeouts.Token()));
        Assert.Null(await session.AcceptStreamAsync(Timeouts.Token()));
    }

    [Fact]
    public async Task ReadLoop_PeerCorruptsTheWire_OtherSessionEndsCleanlyAndOtherPairsAreUnaffected()
    {
        var watch = UnobservedExceptions.Start();
        var relay = Relay.Start();
        var client = new YamuxSession(relay.ClientEnd, isClient: true, YamuxPair.QuietOptions());
        var server = new YamuxSession(relay.ServerEnd, isClient: false, YamuxPair.QuietOptions());
        client.Start();
        server.Start();
        await using var bystanders = YamuxPair.Start();
        var opened = await client.OpenStreamAsync(Timeouts.Token());
        await StreamIo.WriteAllAsync(opened.Output, "before"u8.ToArray(), complete: false);
        var accepted = await server.AcceptStreamAsync(Timeouts.Token()).Within("accept");
        Assert.Equal("before"u8.ToArray(), await StreamIo.ReadExactlyAsync(accepted!.Input, 6).WaitAsync(Timeouts.Default));

        await relay.InjectToServerAsync(Convert.FromHexString("00ff00000000000000000000"));

        var serverEnd = await server.Completion.Within("server end");
        var clientEnd = await client.Completion.Within("client end");
        Assert.Equal(YamuxSessionEndReason.ProtocolError, serverEnd.Reason);
        Assert.Equal(YamuxProtocolViolation.UnknownFrameType, serverEnd.Violation);
        Assert.Equal(YamuxSessionEndReason.RemoteGoAway, clientEnd.Reason);
        Assert.Equal(YamuxGoAwayCode.ProtocolError, clientEnd.GoAwayCode);
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await opened.Input.ReadAsync());
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await accepted.Input.ReadAsync());

        var (c, s) = await bystanders.OpenAsync();
        await StreamIo.WriteAllAsync(c.Output, "unaffected"u8.ToArray());
        Assert.Equal("unaffected"u8.ToArray(), await StreamIo.ReadAllAsync(s.Input).Within("bystander data"));
        await client.DisposeAsync();
        await server.DisposeAsync();
        await relay.Completion.Within("relay done");
        watch.AssertNone();
    }

    [Fact]
    public async Task ReadLoop_PeerFloodsPingsWithoutReading_SessionEndsInsteadOfQueueingForever()
    {
        var options = new YamuxOptions { KeepAliveInterval = null, CloseTimeout = TimeSpan.FromMilliseconds(100) };
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false, options, bufferBytes: 4096);
        await using var _ = session;
        var pings = new ArrayBufferWriter<byte>();
        for (uint i = 0; i < 10_000; i++)
        {
            YamuxFrameCodec.WriteHeader(pings, new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, i));
        }

        var send = peer.SendRawAsync(pings.WrittenSpan.ToArray());

        var end = await session.Completion.Within("session end");
        Assert.Equal(YamuxProtocolViolation.ControlFlood, end.Violation);
        await peer.ReadToEndAsync().Within("connection closed");
        await send.Within("peer writes done");
    }

    [Fact]
    public async Task ReadLoop_FrameForStreamWeReset_IsIgnored()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false);
        await using var _ = session;
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
        var stream = await session.AcceptStreamAsync(Timeouts.Token()).Within("stream");

        stream!.Reset();
        var (rst, _) = await peer.ReadUntilAsync(h => (h.Flags & YamuxFlags.Rst) != 0, "RST");
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, 4, [1, 2, 3, 4]);
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Fin, 1, 10);
        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 77);
        var (pong, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "pong");

        Assert.Equal(1u, rst.StreamId);
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, 77), pong);
        Assert.False(session.Completion.IsCompleted);
        Assert.Equal(0, session.ActiveStreamCount);
    }

    [Fact]
    public async Task ReadLoop_PeerResetsStream_InputThrowsAndSessionLives()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true);
        await using var _ = session;
        var stream = await session.OpenStreamAsync(Timeouts.Token());
        await peer.ReadUntilAsync(h => h.StreamId == stream.Id, "SYN");

        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Ack | YamuxFlags.Rst, stream.Id, 0);

        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await stream.Input.ReadAsync().AsTask().WaitAsync(Timeouts.Default));
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await stream.Output.WriteAsync(new byte[1]));
        Assert.Equal(0, session.ActiveStreamCount);
        Assert.False(session.Completion.IsCompleted);
    }

    [Fact]
    public async Task ReadLoop_UnsolicitedPongAndPing_PongIgnoredPingAnswered()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true);
        await using var _ = session;

        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Ack, 0, 12345);
        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 0xfeedface);
        var (pong, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "pong");

        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, 0xfeedface), pong);
        Assert.False(session.Completion.IsCompleted);
    }

    /// <summary>Copies bytes between two sessions and lets a test slip bytes into the server-bound direction.</summary>
    private sealed class Relay
    {
        private readonly SemaphoreSlim _toServerLock = new(1, 1);
        private readonly PipeWriter _toServer;

        private Relay(DuplexPipePair clientSide, DuplexPipePair serverSide)
        {
            ClientEnd = clientSide.Left;
            ServerEnd = serverSide.Right;
            _toServer = serverSide.Left.Output;
            Completion = Task.WhenAll(
                CopyAsync(clientSide.Right.Input, serverSide.Left.Output, _toServerLock),
                CopyAsync(serverSide.Left.Input, clientSide.Right.Output, new SemaphoreSlim(1, 1)));
        }

        public IDuplexPipe ClientEnd { get; }

        public IDuplexPipe ServerEnd { get; }

        public Task Completion { get; }

        public static Relay Start() => new(DuplexPipePair.Create(), DuplexPipePair.Create());

        public async Task InjectToServerAsync(byte[] bytes)
        {
            await _toServerLock.WaitAsync();
            try
            {
                await _toServer.WriteAsync(bytes);
            }
            finally
            {
                _toServerLock.Release();
            }
        }

        private static async Task CopyAsync(PipeReader from, PipeWriter to, SemaphoreSlim gate)
        {
            await Task.Yield();
            try
            {
                while (true)
                {
                    var result = await from.ReadAsync();
                    await gate.WaitAsync();
                    try
                    {
                        foreach (var segment in result.Buffer)
                        {
                            to.Write(segment.Span);
                        }

                        var flush = await to.FlushAsync();
                        from.AdvanceTo(result.Buffer.End);
                        if (result.IsCompleted || flush.IsCompleted)
                        {
                            return;
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }
            finally
            {
                await from.CompleteAsync();
                await to.CompleteAsync();
            }
        }
    }
}

/// <summary>Collects unobserved task exceptions that mention yamux while a test runs.</summary>
internal sealed class UnobservedExceptions
{
    private readonly List<Exception> _seen = [];

    public static UnobservedExceptions Start()
    {
        var watch = new UnobservedExceptions();
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            if (e.Exception.ToString().Contains("Yamux", StringComparison.Ordinal))
            {
                lock (watch._seen)
                {
                    watch._seen.Add(e.Exception);
                }
            }
        };
        return watch;
    }

    public void AssertNone()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        lock (_seen)
        {
            Assert.Empty(_seen);
        }
    }
}
