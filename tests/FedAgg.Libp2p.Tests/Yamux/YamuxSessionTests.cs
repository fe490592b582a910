using System.Diagnostics;
using System.Security.Cryptography;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Time;
using Xunit.Abstractions;

namespace FedAgg.Libp2p.Tests.Yamux;

public class YamuxSessionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OpenStreamAsync_BothRoles_ClientIdsOddServerIdsEven()
    {
        await using var pair = YamuxPair.Start();

        var clientIds = new List<uint>();
        var serverIds = new List<uint>();
        for (var i = 0; i < 3; i++)
        {
            clientIds.Add((await pair.Client.OpenStreamAsync(Timeouts.Token())).Id);
            serverIds.Add((await pair.Server.OpenStreamAsync(Timeouts.Token())).Id);
        }

        Assert.Equal([1u, 3u, 5u], clientIds);
        Assert.Equal([2u, 4u, 6u], serverIds);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(serverIds[i], (await pair.Client.AcceptStreamAsync(Timeouts.Token()).Within("server stream accepted"))!.Id);
            Assert.Equal(clientIds[i], (await pair.Server.AcceptStreamAsync(Timeouts.Token()).Within("client stream accepted"))!.Id);
        }

        Assert.Equal(6, pair.Client.ActiveStreamCount);
        Assert.Equal(6, pair.Server.ActiveStreamCount);
    }

    [Fact]
    public async Task OpenAccept_Echo_ReturnsSameBytesAndClosesBothWays()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();
        var echo = Task.Run(async () =>
        {
            var received = await StreamIo.ReadAllAsync(server.Input);
            await StreamIo.WriteAllAsync(server.Output, received);
        });
        var message = StreamIo.Pattern(100_000, 1);

        await StreamIo.WriteAllAsync(client.Output, message);
        var back = await StreamIo.ReadAllAsync(client.Input).Within("echoed bytes and FIN");

        Assert.Equal(message, back);
        await echo.Within("echo task");
        Assert.Equal(0, pair.Client.ActiveStreamCount);
        Assert.Equal(0, pair.Server.ActiveStreamCount);
    }

    [Fact]
    public async Task HalfClose_EachSideFinishesFirst_OtherDirectionKeepsWorking()
    {
        await using var pair = YamuxPair.Start();

        // Client finishes first: the server still answers after seeing FIN.
        var (client, server) = await pair.OpenAsync();
        await StreamIo.WriteAllAsync(client.Output, "request"u8.ToArray());
        Assert.Equal("request"u8.ToArray(), await StreamIo.ReadAllAsync(server.Input).Within("request and FIN"));
        await StreamIo.WriteAllAsync(server.Output, "response after FIN"u8.ToArray(), complete: false);
        Assert.Equal("response after FIN"u8.ToArray(), await StreamIo.ReadExactlyAsync(client.Input, 18).WaitAsync(Timeouts.Default));
        await server.Output.CompleteAsync();
        Assert.Empty(await StreamIo.ReadAllAsync(client.Input).Within("server FIN"));

        // Server finishes first: the client still writes after seeing FIN.
        var (client2, server2) = await pair.OpenAsync();
        await StreamIo.WriteAllAsync(server2.Output, "greeting"u8.ToArray());
        Assert.Equal("greeting"u8.ToArray(), await StreamIo.ReadAllAsync(client2.Input).Within("greeting and FIN"));
        await StreamIo.WriteAllAsync(client2.Output, "reply"u8.ToArray());
        Assert.Equal("reply"u8.ToArray(), await StreamIo.ReadAllAsync(server2.Input).Within("reply and FIN"));

        Assert.Equal(0, pair.Client.ActiveStreamCount);
        Assert.Equal(0, pair.Server.ActiveStreamCount);
    }

    [Fact]
    public async Task Reset_MidTransfer_BothSidesFailWithStreamReset()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();
        await StreamIo.WriteAllAsync(client.Output, new byte[10_000], complete: false);
        Assert.Equal(10_000, (await StreamIo.ReadExactlyAsync(server.Input, 10_000).WaitAsync(Timeouts.Default)).Length);

        server.Reset();

        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await server.Input.ReadAsync());
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await client.Input.ReadAsync().AsTask().WaitAsync(Timeouts.Default));
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () =>
        {
            // The writer learns of the reset at its next flush at the latest.
            for (var i = 0; i < 1_000; i++)
            {
                await client.Output.WriteAsync(new byte[1024]).AsTask().WaitAsync(Timeouts.Default);
            }
        });
        Assert.Equal(0, pair.Client.ActiveStreamCount);
        Assert.Equal(0, pair.Server.ActiveStreamCount);
        Assert.False(pair.Client.Completion.IsCompleted);

        // The session is unaffected.
        var (c, s) = await pair.OpenAsync();
        await StreamIo.WriteAllAsync(c.Output, "still fine"u8.ToArray());
        Assert.Equal("still fine"u8.ToArray(), await StreamIo.ReadAllAsync(s.Input).Within("data on a new stream"));
    }

    [Fact]
    public async Task ConcurrentStreams_100Times64KiB_AllEchoedIntact()
    {
        // All 100 may arrive before the first is accepted, so the backlog must hold them.
        await using var pair = YamuxPair.Start(server: YamuxPair.QuietOptions(backlog: 100));
        var server = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < 100; i++)
            {
                var stream = await pair.Server.AcceptStreamAsync(Timeouts.Token());
                Assert.NotNull(stream);
                echoes.Add(Task.Run(async () => await StreamIo.WriteAllAsync(stream.Output, await StreamIo.ReadAllAsync(stream.Input))));
            }

            await Task.WhenAll(echoes);
        });

        var clients = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            var stream = await pair.Client.OpenStreamAsync(Timeouts.Token());
            var data = StreamIo.Pattern(64 * 1024, i);
            var write = StreamIo.WriteAllAsync(stream.Output, data, chunk: 8 * 1024);
            var back = await StreamIo.ReadAllAsync(stream.Input);
            await write;
            Assert.Equal(data, back);
        })).ToList();

        await Task.WhenAll(clients).Within("100 echoed streams");
        await server.Within("server echo tasks");
        Assert.Equal(0, pair.Client.ActiveStreamCount);
        Assert.Equal(0, pair.Server.ActiveStreamCount);
    }

    [Fact]
    public async Task LargeTransfer_16MiB_ArrivesIntactInBoundedFrames()
    {
        await using var pair = YamuxPair.Start();
        var maxFrame = 0L;
        pair.Client.FrameWritten = h => maxFrame = h.Type == YamuxFrameType.Data ? Math.Max(maxFrame, h.Length) : maxFrame;
        var (client, server) = await pair.OpenAsync();
        var data = StreamIo.Pattern(16 * 1024 * 1024, 16);
        var stopwatch = Stopwatch.StartNew();

        var write = StreamIo.WriteAllAsync(client.Output, data, chunk: 256 * 1024);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        while (true)
        {
            var result = await server.Input.ReadAsync().AsTask().WaitAsync(Timeouts.Default);
            foreach (var segment in result.Buffer)
            {
                sha.AppendData(segment.Span);
                total += segment.Length;
            }

            server.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await write.Within("writer done");
        stopwatch.Stop();
        Assert.Equal(data.Length, total);
        Assert.Equal(SHA256.HashData(data), sha.GetHashAndReset());
        Assert.InRange(maxFrame, 1, new YamuxOptions().MaxFrameDataBytes);
        output.WriteLine($"16 MiB in {stopwatch.ElapsedMilliseconds} ms ({data.Length / 1048576.0 / stopwatch.Elapsed.TotalSeconds:F0} MiB/s)");
    }

    [Fact]
    public async Task Fairness_SmallWriterBesideHugeWriter_IsNotStarved()
    {
        await using var pair = YamuxPair.Start();
        var (bigClient, bigServer) = await pair.OpenAsync();
        var (smallClient, smallServer) = await pair.OpenAsync();
        long bigReceived = 0;
        var bigReader = Task.Run(async () =>
        {
            while (true)
            {
                var result = await bigServer.Input.ReadAsync();
                Interlocked.Add(ref bigReceived, result.Buffer.Length);
                bigServer.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });
        var big = new byte[16 * 1024 * 1024];
        var bigWrite = StreamIo.WriteAllAsync(bigClient.Output, big, chunk: 1024 * 1024);
        await pair.Client.PingAsync(Timeouts.Token());

        await StreamIo.WriteAllAsync(smallClient.Output, "tiny"u8.ToArray());
        var small = await StreamIo.ReadAllAsync(smallServer.Input).Within("the small stream's data");
        var bigAtThatPoint = Interlocked.Read(ref bigReceived);

        Assert.Equal("tiny"u8.ToArray(), small);
        Assert.True(bigAtThatPoint < big.Length / 2, $"the small stream waited until {bigAtThatPoint} of {big.Length} bytes of the big one had arrived");
        await bigWrite.Within("big writer");
        await bigReader.Within("big reader");
        Assert.Equal(big.Length, Interlocked.Read(ref bigReceived));
    }

    [Fact]
    public async Task PingAsync_PairedSessions_ReturnsRoundTripTime()
    {
        await using var pair = YamuxPair.Start();

        var rtt = await pair.Client.PingAsync(Timeouts.Token()).Within("client ping");
        var rtt2 = await pair.Server.PingAsync(Timeouts.Token()).Within("server ping");

        Assert.InRange(rtt, TimeSpan.Zero, Timeouts.Default);
        Assert.InRange(rtt2, TimeSpan.Zero, Timeouts.Default);
    }

    [Fact]
    public async Task PingAsync_PeerAnswersAfter42ms_ReportsExactly42msOnSessionClock()
    {
        var time = new ManualTimeProvider();
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true, time: time);
        await using var _ = session;

        var ping = session.PingAsync(Timeouts.Token()).AsTask();
        var (request, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "ping request");
        time.Advance(TimeSpan.FromMilliseconds(42));
        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Ack, 0, request.Length);

        Assert.Equal(YamuxFlags.Syn, request.Flags);
        Assert.Equal(TimeSpan.FromMilliseconds(42), await ping.Within("ping answer"));
    }

    [Fact]
    public async Task GoAwayAsync_NoStreams_BothSessionsEndAndNoNewStreams()
    {
        await using var pair = YamuxPair.Start();

        await pair.Client.GoAwayAsync(YamuxGoAwayCode.Normal, Timeouts.Token()).AsTask().Within("go-away flushed");

        var clientEnd = await pair.Client.Completion.Within("client end");
        var serverEnd = await pair.Server.Completion.Within("server end");
        Assert.Equal(YamuxSessionEndReason.LocalClose, clientEnd.Reason);
        Assert.Equal(YamuxSessionEndReason.RemoteGoAway, serverEnd.Reason);
        Assert.Equal(YamuxGoAwayCode.Normal, serverEnd.GoAwayCode);
        await Assert.ThrowsAsync<Libp2pException>(async () => await pair.Server.OpenStreamAsync(Timeouts.Token()));
        await Assert.ThrowsAsync<Libp2pException>(async () => await pair.Client.OpenStreamAsync(Timeouts.Token()));
        Assert.Null(await pair.Server.AcceptStreamAsync(Timeouts.Token()));
    }

    [Fact]
    public async Task GoAwayAsync_OpenStream_StreamDrainsThenSessionsEnd()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();

        await pair.Client.GoAwayAsync(YamuxGoAwayCode.Normal, Timeouts.Token()).AsTask().Within("go-away flushed");
        await pair.Client.PingAsync(Timeouts.Token()).Within("ping after go-away");

        await Assert.ThrowsAsync<Libp2pException>(async () => await pair.Server.OpenStreamAsync(Timeouts.Token()));
        Assert.False(pair.Server.Completion.IsCompleted);
        await StreamIo.WriteAllAsync(server.Output, "last words"u8.ToArray());
        Assert.Equal("last words"u8.ToArray(), await StreamIo.ReadAllAsync(client.Input).Within("data after go-away"));
        await client.Output.CompleteAsync();
        Assert.Empty(await StreamIo.ReadAllAsync(server.Input).Within("client FIN"));
        Assert.Equal(YamuxSessionEndReason.LocalClose, (await pair.Client.Completion.Within("client end")).Reason);
        Assert.Equal(YamuxSessionEndReason.RemoteGoAway, (await pair.Server.Completion.Within("server end")).Reason);
    }

    [Fact]
    public async Task GoAwayAsync_ProtocolErrorCode_EndsBothSessionsAtOnce()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();

        await pair.Server.GoAwayAsync(YamuxGoAwayCode.InternalError, Timeouts.Token()).AsTask().Within("go-away flushed");

        var serverEnd = await pair.Server.Completion.Within("server end");
        var clientEnd = await pair.Client.Completion.Within("client end");
        Assert.Equal(YamuxSessionEndReason.LocalGoAway, serverEnd.Reason);
        Assert.Equal(YamuxSessionEndReason.RemoteGoAway, clientEnd.Reason);
        Assert.Equal(YamuxGoAwayCode.InternalError, clientEnd.GoAwayCode);
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await client.Input.ReadAsync());
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await server.Input.ReadAsync());
    }

    [Fact]
    public async Task MaxStreams_PeerOpensOneTooMany_ThatStreamIsResetAndSessionLives()
    {
        await using var pair = YamuxPair.Start(server: YamuxPair.QuietOptions(maxStreams: 2));
        var (first, firstServer) = await pair.OpenAsync();
        await pair.OpenAsync();

        var third = await pair.Client.OpenStreamAsync(Timeouts.Token());

        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await third.Input.ReadAsync().AsTask().WaitAsync(Timeouts.Default));
        await Assert.ThrowsAsync<Libp2pException>(async () => await pair.Server.OpenStreamAsync(Timeouts.Token()));
        await StreamIo.WriteAllAsync(first.Output, "ok"u8.ToArray());
        Assert.Equal("ok"u8.ToArray(), await StreamIo.ReadAllAsync(firstServer.Input).Within("data on an admitted stream"));
        Assert.False(pair.Server.Completion.IsCompleted);
        Assert.Equal(2, pair.Server.ActiveStreamCount);
    }

    [Fact]
    public async Task MaxAcceptBacklog_NobodyAccepts_StreamsBeyondBacklogAreReset()
    {
        await using var pair = YamuxPair.Start(server: YamuxPair.QuietOptions(backlog: 2));
        var streams = new List<YamuxStream>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await pair.Client.OpenStreamAsync(Timeouts.Token()));
        }

        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await streams[2].Input.ReadAsync().AsTask().WaitAsync(Timeouts.Default));
        var accepted = await pair.Server.AcceptStreamAsync(Timeouts.Token()).Within("first backlog stream");
        Assert.Equal(streams[0].Id, accepted!.Id);

        // Accepting made room: a new stream is admitted again.
        var fourth = await pair.Client.OpenStreamAsync(Timeouts.Token());
        Assert.Equal(streams[1].Id, (await pair.Server.AcceptStreamAsync(Timeouts.Token()).Within("second"))!.Id);
        Assert.Equal(fourth.Id, (await pair.Server.AcceptStreamAsync(Timeouts.Token()).Within("fourth"))!.Id);
    }

    [Fact]
    public async Task DisposeAsync_OpenStreams_StreamsFailAndPeerSessionEnds()
    {
        var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();
        var (finished, finishedServer) = await pair.OpenAsync();
        await StreamIo.WriteAllAsync(finishedServer.Output, "complete"u8.ToArray());
        await pair.Client.PingAsync(Timeouts.Token());

        await pair.Client.DisposeAsync();

        Assert.Equal(YamuxSessionEndReason.LocalClose, (await pair.Client.Completion.Within("client end")).Reason);
        var serverEnd = await pair.Server.Completion.Within("server end");
        Assert.Equal(YamuxSessionEndReason.RemoteGoAway, serverEnd.Reason);
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await client.Input.ReadAsync());
        await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await server.Input.ReadAsync());
        Assert.Equal("complete"u8.ToArray(), await StreamIo.ReadAllAsync(finished.Input));
        Assert.Null(await pair.Client.AcceptStreamAsync(Timeouts.Token()));
        await Assert.ThrowsAsync<Libp2pException>(async () => await pair.Client.PingAsync(Timeouts.Token()));
        await pair.Server.DisposeAsync();
    }

    [Fact]
    public async Task ConnectionClosed_ReaderCompletes_SessionEndsAndUnfinishedStreamsFault()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false);
        await using var _ = session;
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.Syn, 3, 4, [1, 2, 3, 4]);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.Fin, 3, 0);
        var open = await session.AcceptStreamAsync(Timeouts.Token()).Within("stream 1");
        var finished = await session.AcceptStreamAsync(Timeouts.Token()).Within("stream 3");

        await peer.Connection.Output.CompleteAsync();

        var end = await session.Completion.Within("session end");
        Assert.Equal(YamuxSessionEndReason.TransportClosed, end.Reason);
        var error = await Assert.ThrowsAsync<YamuxStreamResetException>(async () => await open!.Input.ReadAsync());
        Assert.IsAssignableFrom<Libp2pException>(error);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, await StreamIo.ReadAllAsync(finished!.Input));
        await Assert.ThrowsAsync<Libp2pException>(async () => await session.OpenStreamAsync(Timeouts.Token()));
    }

    [Fact]
    public async Task DisposeAsync_StreamWithUnreadData_PeerGetsNoMoreWindowAndRetiresTheStreamByResetting()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();
        var clientRemoved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverRemoved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pair.Client.StreamRemoved = s => clientRemoved.TrySetResult();
        pair.Server.StreamRemoved = s => serverRemoved.TrySetResult();
        await StreamIo.WriteAllAsync(client.Output, new byte[100_000], complete: false);
        await pair.Client.PingAsync(Timeouts.Token());

        await server.DisposeAsync();

        // The peer may use what is left of the window it had, then nothing: what it sends to a stream nobody reads is
        // dropped without being credited back (a rejected upload costs the server one window, not the whole upload).
        var writing = StreamIo.WriteAllAsync(client.Output, new byte[4 * YamuxOptions.SpecInitialWindowBytes]);
        await WaitUntilAsync(() => client.SentBytes == YamuxOptions.SpecInitialWindowBytes, "the writer to use up the window");
        await pair.Client.PingAsync(Timeouts.Token()); // any window update would have arrived before the pong
        Assert.Equal(YamuxOptions.SpecInitialWindowBytes, client.SentBytes);
        Assert.False(writing.IsCompleted);

        // A peer that has its answer resets the stream; both sides then retire it and the session goes on.
        client.Reset();
        await Assert.ThrowsAnyAsync<Exception>(() => writing).Within("the stalled write to fail on the reset");
        await clientRemoved.Task.Within("client stream retired after its reset");
        await serverRemoved.Task.Within("server stream retired on the peer's reset");
        Assert.Equal(0, pair.Client.ActiveStreamCount);
        Assert.Equal(0, pair.Server.ActiveStreamCount);
        Assert.False(pair.Server.Completion.IsCompleted);
        var (again, againServer) = await pair.OpenAsync();
        Assert.NotNull(again);
        Assert.NotNull(againServer);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string expectation)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < Timeouts.Default, $"Timed out waiting for {expectation}.");
            await Task.Delay(5);
        }
    }

    [Theory]
    [InlineData(nameof(YamuxOptions.InitialWindowBytes))]
    [InlineData(nameof(YamuxOptions.MaxStreams))]
    [InlineData(nameof(YamuxOptions.MaxAcceptBacklog))]
    [InlineData(nameof(YamuxOptions.KeepAliveInterval))]
    [InlineData(nameof(YamuxOptions.KeepAliveTimeout))]
    [InlineData(nameof(YamuxOptions.MaxFrameDataBytes))]
    [InlineData(nameof(YamuxOptions.StreamWriteBufferBytes))]
    [InlineData(nameof(YamuxOptions.CloseTimeout))]
    public void Validate_OptionOutOfRange_ThrowsNamingTheOption(string option)
    {
        var options = option switch
        {
            nameof(YamuxOptions.InitialWindowBytes) => new YamuxOptions { InitialWindowBytes = 64 * 1024 },
            nameof(YamuxOptions.MaxStreams) => new YamuxOptions { MaxStreams = 0 },
            nameof(YamuxOptions.MaxAcceptBacklog) => new YamuxOptions { MaxAcceptBacklog = 0 },
            nameof(YamuxOptions.KeepAliveInterval) => new YamuxOptions { KeepAliveInterval = TimeSpan.Zero },
            nameof(YamuxOptions.KeepAliveTimeout) => new YamuxOptions { KeepAliveTimeout = TimeSpan.FromDays(2) },
            nameof(YamuxOptions.MaxFrameDataBytes) => new YamuxOptions { MaxFrameDataBytes = 512 * 1024 },
            nameof(YamuxOptions.StreamWriteBufferBytes) => new YamuxOptions { StreamWriteBufferBytes = 0 },
            _ => new YamuxOptions { CloseTimeout = TimeSpan.FromSeconds(-1) },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
        new YamuxOptions().Validate();
        new YamuxOptions { KeepAliveInterval = null }.Validate();
    }
}
