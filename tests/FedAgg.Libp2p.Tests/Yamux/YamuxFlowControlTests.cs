using System.Buffers;
using System.Collections.Concurrent;
using FedAgg.Libp2p.Yamux;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Libp2p.Tests.Yamux;

public class YamuxFlowControlTests
{
    private const int Window = YamuxOptions.SpecInitialWindowBytes;

    [Fact]
    public async Task Write_ReceiverNotReading_SenderStopsAtExactlyTheWindowThenResumes()
    {
        await using var pair = YamuxPair.Start();
        var (client, server) = await pair.OpenAsync();
        long onWire = 0;
        var windowFull = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pair.Client.FrameWritten = h =>
        {
            if (h.Type == YamuxFrameType.Data && h.StreamId == client.Id && Interlocked.Add(ref onWire, h.Length) >= Window)
            {
                windowFull.TrySetResult();
            }
        };
        var data = StreamIo.Pattern(4 * Window, 7);

        var write = client.Output.WriteAsync(data).AsTask();
        await windowFull.Task.Within("a full window of data on the wire");
        await pair.Client.PingAsync(Timeouts.Token()).Within("ping behind the data");

        Assert.Equal(Window, Interlocked.Read(ref onWire));
        Assert.Equal(Window, client.SentBytes);
        Assert.Equal(0, client.SendWindow);
        Assert.Equal(Window, server.ReceivedBytes);
        Assert.Equal(Window, server.BufferedBytes);
        Assert.False(write.IsCompleted, "FlushAsync should wait while the peer's window is 0");

        var received = await StreamIo.ReadAllAsync(server.Input, stopAfter: data.Length).Within("all data");
        await write.Within("the writer resuming after window updates");
        Assert.Equal(data, received);
        Assert.Equal(data.Length, Interlocked.Read(ref onWire));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Data_PeerSendsOneByteMoreThanTheWindow_SessionEndsWithWindowOverrun(bool singleFrame)
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false);
        await using var _ = session;
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
        if (singleFrame)
        {
            await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, Window + 1, new byte[Window + 1]);
        }
        else
        {
            await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, Window, new byte[Window]);
            await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, 1, [1]);
        }

        var end = await session.Completion.Within("session end");
        Assert.Equal(YamuxSessionEndReason.ProtocolError, end.Reason);
        Assert.Equal(YamuxProtocolViolation.WindowOverrun, end.Violation);
        Assert.StartsWith("window overrun on stream 1", end.Message, StringComparison.Ordinal);
        var frames = await peer.ReadToEndAsync().Within("connection closed");
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, 1), frames[^1]);
    }

    [Fact]
    public async Task Data_PeerUsesExactlyTheWindow_IsAccepted()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false);
        await using var _ = session;
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 1, Window - 10, new byte[Window - 10]);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.Fin, 1, 10, new byte[10]);
        var stream = await session.AcceptStreamAsync(Timeouts.Token()).Within("stream");

        Assert.Equal(Window, (await StreamIo.ReadAllAsync(stream!.Input).Within("all data")).Length);
        Assert.False(session.Completion.IsCompleted);
    }

    [Fact]
    public async Task InitialWindowBytes_Larger_GrantedInSynAndAckAndEnforced()
    {
        const int Big = 1024 * 1024;
        var options = YamuxPair.QuietOptions(window: Big);
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true, options);
        await using var _ = session;

        var outbound = await session.OpenStreamAsync(Timeouts.Token());
        var (syn, _) = await peer.ReadUntilAsync(h => h.StreamId == outbound.Id, "SYN");
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 2, 0);
        var (ack, _) = await peer.ReadUntilAsync(h => h.StreamId == 2, "ACK");
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 2, Window, new byte[Window]);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 2, Big - Window, new byte[Big - Window]);
        var inbound = await session.AcceptStreamAsync(Timeouts.Token()).Within("inbound stream");
        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 9);
        await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "pong");

        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, Big - Window), syn);
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, 2, Big - Window), ack);
        Assert.Equal(Big, inbound!.BufferedBytes);
        Assert.False(session.Completion.IsCompleted);
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.None, 2, 1, [1]);
        Assert.Equal(YamuxProtocolViolation.WindowOverrun, (await session.Completion.Within("overrun")).Violation);
    }

    [Fact]
    public async Task SendWindow_PeerEnlargesIt_SenderUsesExactlyWhatWasGranted()
    {
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true);
        await using var _ = session;
        var stream = await session.OpenStreamAsync(Timeouts.Token());
        await peer.ReadUntilAsync(h => h.StreamId == stream.Id, "SYN");
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, stream.Id, 1024 * 1024);
        var granted = Window + (1024 * 1024);

        var write = stream.Output.WriteAsync(new byte[2 * 1024 * 1024]).AsTask();
        long received = 0;
        var maxFrame = 0u;
        while (received < granted)
        {
            var (h, payload) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Data, "data");
            received += payload.Length;
            maxFrame = Math.Max(maxFrame, h.Length);
        }

        Assert.Equal(granted, received);
        Assert.Equal(0, stream.SendWindow);
        Assert.InRange(maxFrame, 1u, (uint)new YamuxOptions().MaxFrameDataBytes);
        Assert.False(write.IsCompleted);

        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.None, stream.Id, 100);
        var (more, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Data, "data after a 100-byte grant");
        Assert.Equal(100u, more.Length);
        Assert.Equal(granted + 100, stream.SentBytes);

        // A writer waiting for window fails once the stream is reset.
        stream.Reset();
        await Assert.ThrowsAsync<YamuxStreamResetException>(() => write.WaitAsync(Timeouts.Default));
    }

    [Fact]
    public void BufferedBytes_RandomReadWriteSchedules_NeverExceedTheWindow()
    {
        var schedules =
            from writes in Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 200_000), n))
            from reads in Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 300_000), n))
            from seed in Gen.Choose(0, int.MaxValue)
            select (Writes: writes, Reads: reads, Seed: seed);
        var property = Prop.ForAll(schedules.ToArbitrary(), schedule => Task.Run(() => RunScheduleAsync(schedule.Writes, schedule.Reads, schedule.Seed)).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), property);
    }

    private static async Task<bool> RunScheduleAsync(int[] writes, int[] reads, int seed)
    {
        await using var pair = YamuxPair.Start();
        var violations = new ConcurrentQueue<string>();
        pair.Server.DataBuffered = s =>
        {
            if (s._buffered > Window || s._buffered + s._recvWindow + s._unacked != Window)
            {
                violations.Enqueue($"stream {s.Id}: buffered {s._buffered}, window left {s._recvWindow}, unacknowledged {s._unacked}");
            }
        };
        var (client, server) = await pair.OpenAsync();
        var data = StreamIo.Pattern(writes.Sum(), seed);

        var writer = Task.Run(async () =>
        {
            var offset = 0;
            foreach (var size in writes)
            {
                await client.Output.WriteAsync(data.AsMemory(offset, size));
                offset += size;
            }

            await client.Output.CompleteAsync();
        });

        // Reads wait for at least some bytes, then consume a scheduled amount (possibly less than is there).
        var received = new List<byte>(data.Length);
        for (var step = 0; ; step++)
        {
            var want = reads[step % reads.Length];
            var result = await server.Input.ReadAtLeastAsync(Math.Min(want, 1 + (step % 7) * 1000)).AsTask().WaitAsync(Timeouts.Default);
            var take = (int)Math.Min(result.Buffer.Length, want);
            received.AddRange(result.Buffer.Slice(0, take).ToArray());
            server.Input.AdvanceTo(result.Buffer.GetPosition(take));
            if (result.IsCompleted && take == result.Buffer.Length)
            {
                break;
            }

            if (step > 100_000)
            {
                throw new InvalidOperationException("the schedule did not finish");
            }
        }

        await writer.WaitAsync(Timeouts.Default);
        Assert.Empty(violations);
        Assert.Equal(data, received.ToArray());
        return true;
    }
}
