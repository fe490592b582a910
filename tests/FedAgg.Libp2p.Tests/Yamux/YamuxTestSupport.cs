using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Yamux;

/// <summary>Two started sessions, client on the left end of a <see cref="DuplexPipePair"/>, server on the right.</summary>
public sealed class YamuxPair : IAsyncDisposable
{
    private YamuxPair(YamuxSession client, YamuxSession server)
    {
        Client = client;
        Server = server;
    }

    public YamuxSession Client { get; }

    public YamuxSession Server { get; }

    public static YamuxOptions QuietOptions(int maxStreams = 256, int backlog = 64, int window = YamuxOptions.SpecInitialWindowBytes) => new()
    {
        KeepAliveInterval = null,
        MaxStreams = maxStreams,
        MaxAcceptBacklog = backlog,
        InitialWindowBytes = window,
    };

    public static YamuxPair Start(YamuxOptions? client = null, YamuxOptions? server = null, TimeProvider? time = null)
    {
        var pipes = DuplexPipePair.Create();
        var pair = new YamuxPair(
            new YamuxSession(pipes.Left, isClient: true, client ?? QuietOptions(), timeProvider: time),
            new YamuxSession(pipes.Right, isClient: false, server ?? QuietOptions(), timeProvider: time));
        pair.Client.Start();
        pair.Server.Start();
        return pair;
    }

    public async Task<(YamuxStream Client, YamuxStream Server)> OpenAsync()
    {
        var opened = await Client.OpenStreamAsync(Timeouts.Token());
        var accepted = await Server.AcceptStreamAsync(Timeouts.Token());
        Assert.NotNull(accepted);
        Assert.Equal(opened.Id, accepted.Id);
        return (opened, accepted);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>Bounded waits: every wait in these tests fails with a message instead of hanging.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static CancellationToken Token() => new CancellationTokenSource(Default).Token;

    public static async Task<T> Within<T>(this Task<T> task, string expectation)
    {
        try
        {
            return await task.WaitAsync(Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out after {Default.TotalSeconds} s waiting for: {expectation}");
        }
    }

    public static async Task Within(this Task task, string expectation)
    {
        try
        {
            await task.WaitAsync(Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out after {Default.TotalSeconds} s waiting for: {expectation}");
        }
    }

    public static Task<T> Within<T>(this ValueTask<T> task, string expectation) => task.AsTask().Within(expectation);
}

/// <summary>Stream helpers: write all, read all.</summary>
public static class StreamIo
{
    public static async Task WriteAllAsync(PipeWriter output, ReadOnlyMemory<byte> data, int chunk = 32 * 1024, bool complete = true)
    {
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            var result = await output.WriteAsync(data.Slice(offset, Math.Min(chunk, data.Length - offset)));
            Assert.False(result.IsCompleted, "the stream's reader side completed while writing");
        }

        if (complete)
        {
            await output.CompleteAsync();
        }
    }

    /// <summary>Reads (consuming as it goes) until FIN, or until <paramref name="stopAfter"/> bytes if given.</summary>
    public static async Task<byte[]> ReadAllAsync(PipeReader input, long? expect = null, long? stopAfter = null)
    {
        var collected = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                collected.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || collected.WrittenCount >= stopAfter)
            {
                break;
            }

            if (expect is { } n && collected.WrittenCount > n)
            {
                throw new InvalidOperationException($"read {collected.WrittenCount} bytes, more than the {n} expected");
            }
        }

        return collected.WrittenSpan.ToArray();
    }

    public static async Task<byte[]> ReadExactlyAsync(PipeReader input, int count)
    {
        var result = await input.ReadAtLeastAsync(count);
        Assert.True(result.Buffer.Length >= count, $"stream ended after {result.Buffer.Length} of {count} bytes");
        var bytes = result.Buffer.Slice(0, count).ToArray();
        input.AdvanceTo(result.Buffer.GetPosition(count));
        return bytes;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>The far end of a session's connection, driven frame by frame by a test (a hostile or silent peer).</summary>
internal sealed class RawYamuxPeer(IDuplexPipe connection)
{
    public IDuplexPipe Connection { get; } = connection;

    public static (YamuxSession Session, RawYamuxPeer Peer) Start(
        bool sessionIsClient, YamuxOptions? options = null, TimeProvider? time = null, long bufferBytes = 1 << 20)
    {
        var pipes = DuplexPipePair.Create(bufferBytes);
        var session = new YamuxSession(pipes.Left, sessionIsClient, options ?? YamuxPair.QuietOptions(), timeProvider: time);
        session.Start();
        return (session, new RawYamuxPeer(pipes.Right));
    }

    public async Task SendAsync(YamuxFrameType type, YamuxFlags flags, uint streamId, uint length, byte[]? payload = null)
    {
        var header = new YamuxFrameHeader(type, flags, streamId, length);
        YamuxFrameCodec.WriteFrame(Connection.Output, header, payload ?? []);
        await Connection.Output.FlushAsync();
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await Connection.Output.WriteAsync(bytes);
    }

    /// <summary>Reads the next frame, or null when the session closed the connection.</summary>
    public async Task<(YamuxFrameHeader Header, byte[] Payload)?> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(Timeouts.Default);
        while (true)
        {
            var result = await Connection.Input.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            var status = YamuxFrameCodec.TryReadFrame(buffer, uint.MaxValue, out var header, out var payload, out var consumed, out var error);
            if (status == YamuxDecodeStatus.Complete)
            {
                var bytes = payload.ToArray();
                Connection.Input.AdvanceTo(buffer.GetPosition(consumed));
                return (header, bytes);
            }

            Assert.NotEqual(YamuxDecodeStatus.Invalid, status);
            Connection.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, "the session closed the connection in the middle of a frame");
                return null;
            }
        }
    }

    /// <summary>Reads frames until one matches, failing if the connection closes first.</summary>
    public async Task<(YamuxFrameHeader Header, byte[] Payload)> ReadUntilAsync(Func<YamuxFrameHeader, bool> match, string what)
    {
        for (var i = 0; i < 100_000; i++)
        {
            var frame = await ReadFrameAsync() ?? throw new InvalidOperationException($"connection closed before {what}");
            if (match(frame.Header))
            {
                return frame;
            }
        }

        throw new InvalidOperationException($"no {what} in 100,000 frames");
    }

    /// <summary>Reads every remaining frame until the session closes the connection.</summary>
    public async Task<List<YamuxFrameHeader>> ReadToEndAsync()
    {
        var frames = new List<YamuxFrameHeader>();
        for (var i = 0; i < 100_000; i++)
        {
            var frame = await ReadFrameAsync();
            if (frame is null)
            {
                return frames;
            }

            frames.Add(frame.Value.Header);
        }

        throw new InvalidOperationException("the session never closed the connection");
    }
}
