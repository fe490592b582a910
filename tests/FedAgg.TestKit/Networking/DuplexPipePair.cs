using System.IO.Pipelines;

namespace FedAgg.TestKit.Networking;

/// <summary>
/// Two connected in-memory ends of a byte channel, the stand-in for a TCP connection in protocol unit tests:
/// what <see cref="Left"/> writes, <see cref="Right"/> reads and vice versa. Each direction is a bounded
/// <see cref="Pipe"/> (back-pressure like a socket buffer).
/// </summary>
public sealed class DuplexPipePair
{
    private DuplexPipePair(IDuplexPipe left, IDuplexPipe right)
    {
        Left = left;
        Right = right;
    }

    /// <summary>One end (by convention the dialler).</summary>
    public IDuplexPipe Left { get; }

    /// <summary>The other end (by convention the listener).</summary>
    public IDuplexPipe Right { get; }

    /// <summary>Creates a connected pair; each direction buffers at most <paramref name="bufferBytes"/> before the writer waits.</summary>
    public static DuplexPipePair Create(long bufferBytes = 1 << 20)
    {
        var options = new PipeOptions(
            pauseWriterThreshold: bufferBytes,
            resumeWriterThreshold: bufferBytes / 2,
            useSynchronizationContext: false);
        var leftToRight = new Pipe(options);
        var rightToLeft = new Pipe(options);
        return new DuplexPipePair(
            new End(rightToLeft.Reader, leftToRight.Writer),
            new End(leftToRight.Reader, rightToLeft.Writer));
    }

    private sealed class End(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
