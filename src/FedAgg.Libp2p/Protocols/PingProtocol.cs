using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;

namespace FedAgg.Libp2p.Protocols;

/// <summary>
/// libp2p ping (<c>/ipfs/ping/1.0.0</c>): the dialler sends 32 random bytes, the listener echoes them; the listener
/// keeps echoing until the stream ends.
/// </summary>
internal static class PingProtocol
{
    public const string ProtocolId = "/ipfs/ping/1.0.0";

    public const int PayloadLength = 32;

    /// <summary>The most pings one inbound stream may carry before it is closed (a bound on a single stream's work).</summary>
    public const int MaxPingsPerStream = 1 << 16;

    /// <summary>Echoes 32-byte blocks until the peer half-closes the stream.</summary>
    public static async Task ServeAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var input = stream.Input;
        for (var i = 0; i < MaxPingsPerStream; i++)
        {
            var result = await input.ReadAtLeastAsync(PayloadLength, cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length < PayloadLength)
            {
                input.AdvanceTo(buffer.End);
                break;
            }

            var block = buffer.Slice(0, PayloadLength);
            foreach (var segment in block)
            {
                stream.Output.Write(segment.Span);
            }

            input.AdvanceTo(block.End);
            var flush = await stream.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                break;
            }
        }

        await stream.CompleteWritesAsync().ConfigureAwait(false);
    }

    /// <summary>Sends one ping on <paramref name="stream"/> and returns the round-trip time.</summary>
    /// <exception cref="Libp2pException">The echo differs, or the stream ended first.</exception>
    public static async Task<TimeSpan> PingOnceAsync(IDuplexPipe stream, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var payload = RandomNumberGenerator.GetBytes(PayloadLength);
        var started = timeProvider.GetTimestamp();
        stream.Output.Write(payload);
        var flush = await stream.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCompleted)
        {
            throw new Libp2pException("The ping stream was closed by the peer.");
        }

        var result = await stream.Input.ReadAtLeastAsync(PayloadLength, cancellationToken).ConfigureAwait(false);
        var elapsed = timeProvider.GetElapsedTime(started);
        var buffer = result.Buffer;
        if (buffer.Length < PayloadLength)
        {
            stream.Input.AdvanceTo(buffer.End);
            throw new Libp2pException("The peer closed the ping stream without answering.");
        }

        var echo = buffer.Slice(0, PayloadLength).ToArray();
        stream.Input.AdvanceTo(buffer.GetPosition(PayloadLength));
        if (!echo.AsSpan().SequenceEqual(payload))
        {
            throw new Libp2pException("The peer answered the ping with different bytes.");
        }

        return elapsed;
    }
}
