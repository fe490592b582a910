namespace FedAgg.Libp2p.Yamux;

/// <summary>Limits and timers of a <see cref="YamuxSession"/>. Call <see cref="Validate"/> (the session does) before use.</summary>
public sealed class YamuxOptions
{
    /// <summary>The yamux specification's initial stream window (256 KiB); a smaller window is not allowed.</summary>
    public const int SpecInitialWindowBytes = 256 * 1024;

    /// <summary>
    /// The receive window we grant each stream, and so the most unread data we buffer per stream. Default 256 KiB;
    /// allowed 256 KiB to 16 MiB. A window above 256 KiB is granted in the stream's first window update.
    /// </summary>
    public int InitialWindowBytes { get; init; } = SpecInitialWindowBytes;

    /// <summary>Concurrent streams per session, both directions together. Default 256; allowed 1 to 65,536.
    /// Inbound streams beyond it are reset; opening beyond it throws.</summary>
    public int MaxStreams { get; init; } = 256;

    /// <summary>Inbound streams opened by the peer and not yet accepted. Default 64; allowed 1 to 65,536. Beyond it new
    /// inbound streams are reset.</summary>
    public int MaxAcceptBacklog { get; init; } = 64;

    /// <summary>How often we ping the peer; <see langword="null"/> turns keep-alive off. Default 30 s; allowed 1 ms to 1 day.</summary>
    public TimeSpan? KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keep-alive ping may wait for its answer before the session ends. Default 30 s; allowed 1 ms to 1 day.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest data payload we put in one frame; streams take turns frame by frame. Default 64 KiB;
    /// allowed 1 KiB to 256 KiB.</summary>
    public int MaxFrameDataBytes { get; init; } = 64 * 1024;

    /// <summary>Unsent bytes a stream's <see cref="YamuxStream.Output"/> holds before its <c>FlushAsync</c> waits.
    /// Default 64 KiB; allowed 1 byte to 16 MiB.</summary>
    public int StreamWriteBufferBytes { get; init; } = 64 * 1024;

    /// <summary>The block size of each stream's receive and send buffers. Default 4 KiB (the pipe default); allowed 4 KiB
    /// to 64 KiB. With windows and write buffers of hundreds of KiB, larger blocks keep the count of blocks in use within
    /// the shared array pool's cache (beyond it every block is a fresh allocation).</summary>
    public int StreamBufferSegmentBytes { get; init; } = 4 * 1024;

    /// <summary>How long an ending session may spend flushing its last frames (such as a go-away) to the connection.
    /// Default 5 s; allowed 0 to 1 minute.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its allowed range; the message names it.</exception>
    public void Validate()
    {
        Check(InitialWindowBytes, SpecInitialWindowBytes, 16 * 1024 * 1024, nameof(InitialWindowBytes));
        Check(MaxStreams, 1, 65_536, nameof(MaxStreams));
        Check(MaxAcceptBacklog, 1, 65_536, nameof(MaxAcceptBacklog));
        Check(MaxFrameDataBytes, 1024, SpecInitialWindowBytes, nameof(MaxFrameDataBytes));
        Check(StreamWriteBufferBytes, 1, 16 * 1024 * 1024, nameof(StreamWriteBufferBytes));
        Check(StreamBufferSegmentBytes, 4 * 1024, 64 * 1024, nameof(StreamBufferSegmentBytes));
        if (KeepAliveInterval is { } interval)
        {
            Check(interval, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1), nameof(KeepAliveInterval));
        }

        Check(KeepAliveTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1), nameof(KeepAliveTimeout));
        Check(CloseTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1), nameof(CloseTimeout));
    }

    private static void Check<T>(T value, T min, T max, string name)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"YamuxOptions.{name} must be between {min} and {max}.");
        }
    }
}
