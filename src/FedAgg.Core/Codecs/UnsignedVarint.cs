using System.Buffers;

namespace FedAgg.Core.Codecs;

/// <summary>
/// The multiformats unsigned varint (LEB128, at most 9 bytes, minimally encoded) used by libp2p framing, multihash,
/// multicodec and protobuf lengths.
/// </summary>
public static class UnsignedVarint
{
    /// <summary>The longest encoding the multiformats spec allows (63 bits of payload).</summary>
    public const int MaxLength = 9;

    /// <summary>The number of bytes <paramref name="value"/> takes when encoded.</summary>
    public static int GetLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> to the start of <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static int Write(ulong value, Span<byte> destination)
    {
        var length = GetLength(value);
        if (destination.Length < length)
        {
            throw new ArgumentException("The destination is too short for the varint.", nameof(destination));
        }

        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Writes <paramref name="value"/> into <paramref name="writer"/>.</summary>
    public static void Write(ulong value, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(MaxLength + 1);
        writer.Advance(Write(value, span));
    }

    /// <summary>
    /// Reads a varint from the start of <paramref name="source"/>. Returns <see cref="VarintStatus.NeedMoreData"/> when the
    /// bytes end inside the varint, and <see cref="VarintStatus.Invalid"/> for an over-long or non-minimal encoding.
    /// </summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> source, out ulong value, out int consumed)
    {
        value = 0;
        consumed = 0;
        for (var i = 0; i < MaxLength; i++)
        {
            if (i == source.Length)
            {
                return VarintStatus.NeedMoreData;
            }

            var b = source[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    // A trailing zero group means the same number has a shorter encoding.
                    value = 0;
                    return VarintStatus.Invalid;
                }

                consumed = i + 1;
                return VarintStatus.Done;
            }
        }

        value = 0;
        return VarintStatus.Invalid;
    }

    /// <summary>Reads a varint from the start of <paramref name="source"/>, as <see cref="TryRead(ReadOnlySpan{byte}, out ulong, out int)"/>.</summary>
    public static VarintStatus TryRead(ReadOnlySequence<byte> source, out ulong value, out int consumed)
    {
        if (source.IsSingleSegment || source.FirstSpan.Length >= MaxLength)
        {
            return TryRead(source.FirstSpan, out value, out consumed);
        }

        Span<byte> head = stackalloc byte[MaxLength];
        var available = (int)Math.Min(MaxLength, source.Length);
        source.Slice(0, available).CopyTo(head);
        return TryRead(head[..available], out value, out consumed);
    }
}

/// <summary>The outcome of decoding a length or a frame from bytes received so far.</summary>
public enum VarintStatus
{
    /// <summary>A complete value was read.</summary>
    Done,

    /// <summary>The bytes end before the value does; read more and try again.</summary>
    NeedMoreData,

    /// <summary>The bytes can never form a valid value.</summary>
    Invalid,
}
