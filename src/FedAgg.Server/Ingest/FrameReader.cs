using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Core.Codecs;

namespace FedAgg.Server.Ingest;

/// <summary>What <see cref="FrameReader.ReadAsync"/> found.</summary>
internal enum FrameStatus
{
    /// <summary>A whole frame was read.</summary>
    Done,

    /// <summary>The stream ended cleanly before a frame started.</summary>
    Ended,

    /// <summary>The stream ended inside the frame.</summary>
    Truncated,

    /// <summary>The length prefix is not a minimal unsigned varint of at most 9 bytes.</summary>
    Invalid,

    /// <summary>The declared length is over the limit (nothing of the body was read).</summary>
    TooLarge,
}

/// <summary>
/// Reads one unsigned-varint length-prefixed frame from a pipe, bounding the length before reading the body, and
/// leaving whatever follows (a payload) in the pipe. A status for every peer mistake; exceptions only for a reset
/// stream or cancellation.
/// </summary>
internal static class FrameReader
{
    public static async ValueTask<(FrameStatus Status, byte[] Frame, ulong DeclaredLength)> ReadAsync(PipeReader input, int maxLength, CancellationToken cancellationToken)
    {
        ulong declared;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = UnsignedVarint.TryRead(buffer, out declared, out var consumed);
            if (status == VarintStatus.Invalid)
            {
                input.AdvanceTo(buffer.Start);
                return (FrameStatus.Invalid, [], 0);
            }

            if (status == VarintStatus.Done)
            {
                if (declared > (ulong)maxLength)
                {
                    input.AdvanceTo(buffer.Start);
                    return (FrameStatus.TooLarge, [], declared);
                }

                input.AdvanceTo(buffer.GetPosition(consumed));
                break;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return (buffer.IsEmpty ? FrameStatus.Ended : FrameStatus.Truncated, [], 0);
            }
        }

        var frame = new byte[(int)declared];
        var filled = 0;
        while (filled < frame.Length)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = (int)Math.Min(buffer.Length, frame.Length - filled);
            buffer.Slice(0, take).CopyTo(frame.AsSpan(filled));
            filled += take;
            input.AdvanceTo(buffer.GetPosition(take));
            if (filled < frame.Length && (result.IsCompleted || result.IsCanceled))
            {
                return (FrameStatus.Truncated, [], declared);
            }
        }

        return (FrameStatus.Done, frame, declared);
    }
}
