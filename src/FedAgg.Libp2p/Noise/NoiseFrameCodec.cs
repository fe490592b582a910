using System.Buffers;
using System.Buffers.Binary;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// libp2p Noise framing: every handshake and transport message is prefixed with its length as a 2-byte big-endian
/// integer, so a frame holds at most 65535 bytes (65519 bytes of plaintext plus the 16-byte tag).
/// </summary>
internal static class NoiseFrameCodec
{
    /// <summary>The largest frame body.</summary>
    public const int MaxFrameLength = ushort.MaxValue;

    /// <summary>The most plaintext one transport frame carries.</summary>
    public const int MaxPlaintextLength = MaxFrameLength - NoiseCipherState.TagLength;

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>: <c>true</c> with the frame body and the position after
    /// it, or <c>false</c> when the bytes end inside the frame (the length prefix itself cannot be invalid).
    /// </summary>
    public static bool TryRead(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, out SequencePosition consumed)
    {
        frame = default;
        consumed = buffer.Start;
        if (buffer.Length < 2)
        {
            return false;
        }

        int length;
        if (buffer.FirstSpan.Length >= 2)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(buffer.FirstSpan);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[2];
            buffer.Slice(0, 2).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        }

        if (buffer.Length < 2 + length)
        {
            return false;
        }

        frame = buffer.Slice(2, length);
        consumed = frame.End;
        return true;
    }

    /// <summary>Writes a frame holding <paramref name="body"/>.</summary>
    /// <exception cref="ArgumentException">The body is longer than 65535 bytes.</exception>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxFrameLength)
        {
            throw new ArgumentException($"A Noise frame holds at most {MaxFrameLength} bytes.", nameof(body));
        }

        var span = writer.GetSpan(2 + body.Length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)body.Length);
        body.CopyTo(span[2..]);
        writer.Advance(2 + body.Length);
    }
}
