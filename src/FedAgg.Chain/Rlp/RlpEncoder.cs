using System.Buffers.Binary;
using System.Numerics;

namespace FedAgg.Chain.Rlp;

/// <summary>
/// Canonical RLP encoding, sized first: the <c>Get…Length</c> methods give the exact encoded size, the <c>Write…</c>
/// methods write that many bytes at the start of a span and return the count. Integers are minimal big-endian byte
/// strings (zero is the empty string, <c>0x80</c>).
/// </summary>
public static class RlpEncoder
{
    /// <summary>The largest payload a header can describe here (lengths are <see cref="int"/>s).</summary>
    public const int MaxPayloadLength = int.MaxValue - 9;

    /// <summary>The size of the header of a string or list whose payload is <paramref name="payloadLength"/> bytes.</summary>
    /// <param name="payloadLength">The payload length.</param>
    public static int GetHeaderLength(int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        return payloadLength < 56 ? 1 : 1 + GetLengthOfLength(payloadLength);
    }

    /// <summary>The encoded size of the byte string <paramref name="value"/>.</summary>
    /// <param name="value">The bytes.</param>
    public static int GetStringLength(ReadOnlySpan<byte> value) =>
        value.Length == 1 && value[0] < 0x80 ? 1 : checked(GetHeaderLength(value.Length) + value.Length);

    /// <summary>The encoded size of a list whose items' encodings total <paramref name="payloadLength"/> bytes.</summary>
    /// <param name="payloadLength">The summed encoded sizes of the items.</param>
    public static int GetListLength(int payloadLength) => checked(GetHeaderLength(payloadLength) + payloadLength);

    /// <summary>The encoded size of the integer <paramref name="value"/>.</summary>
    /// <param name="value">The value.</param>
    public static int GetIntegerLength(ulong value)
    {
        var byteCount = GetByteCount(value);
        return value < 0x80 && value != 0 ? 1 : 1 + byteCount;
    }

    /// <summary>The encoded size of the non-negative integer <paramref name="value"/>.</summary>
    /// <param name="value">Zero or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static int GetIntegerLength(BigInteger value)
    {
        CheckNonNegative(value);
        if (value < 0x80)
        {
            return 1;
        }

        var byteCount = value.GetByteCount(isUnsigned: true);
        return GetHeaderLength(byteCount) + byteCount;
    }

    /// <summary>Writes the byte string <paramref name="value"/>.</summary>
    /// <param name="value">The bytes.</param>
    /// <param name="destination">At least <see cref="GetStringLength"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteString(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (value.Length == 1 && value[0] < 0x80)
        {
            destination[0] = value[0];
            return 1;
        }

        var header = WriteHeader(0x80, value.Length, destination);
        value.CopyTo(destination[header..]);
        return header + value.Length;
    }

    /// <summary>Writes the header of a list whose items' encodings total <paramref name="payloadLength"/> bytes; the items follow.</summary>
    /// <param name="payloadLength">The summed encoded sizes of the items.</param>
    /// <param name="destination">At least <see cref="GetHeaderLength"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteListHeader(int payloadLength, Span<byte> destination) => WriteHeader(0xC0, payloadLength, destination);

    /// <summary>Writes the integer <paramref name="value"/> as a minimal big-endian byte string.</summary>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least <see cref="GetIntegerLength(ulong)"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteInteger(ulong value, Span<byte> destination)
    {
        if (value == 0)
        {
            destination[0] = 0x80;
            return 1;
        }

        if (value < 0x80)
        {
            destination[0] = (byte)value;
            return 1;
        }

        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return WriteString(bytes[(sizeof(ulong) - GetByteCount(value))..], destination);
    }

    /// <summary>Writes the non-negative integer <paramref name="value"/> as a minimal big-endian byte string.</summary>
    /// <param name="value">Zero or more.</param>
    /// <param name="destination">At least <see cref="GetIntegerLength(BigInteger)"/> bytes.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static int WriteInteger(BigInteger value, Span<byte> destination)
    {
        CheckNonNegative(value);
        if (value.IsZero)
        {
            destination[0] = 0x80;
            return 1;
        }

        var byteCount = value.GetByteCount(isUnsigned: true);
        if (byteCount == 1 && value < 0x80)
        {
            destination[0] = (byte)value;
            return 1;
        }

        var header = WriteHeader(0x80, byteCount, destination);
        value.TryWriteBytes(destination.Slice(header, byteCount), out _, isUnsigned: true, isBigEndian: true);
        return header + byteCount;
    }

    /// <summary>The number of bytes of the minimal big-endian form of <paramref name="value"/> (0 for zero).</summary>
    internal static int GetByteCount(ulong value) => (64 - BitOperations.LeadingZeroCount(value) + 7) / 8;

    private static int GetLengthOfLength(int length) => GetByteCount((ulong)length);

    private static int WriteHeader(byte offset, int payloadLength, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        if (payloadLength < 56)
        {
            destination[0] = (byte)(offset + payloadLength);
            return 1;
        }

        var lengthOfLength = GetLengthOfLength(payloadLength);
        destination[0] = (byte)(offset + 55 + lengthOfLength);
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)payloadLength);
        bytes[(sizeof(ulong) - lengthOfLength)..].CopyTo(destination[1..]);
        return 1 + lengthOfLength;
    }

    private static void CheckNonNegative(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "RLP integers are non-negative.");
        }
    }
}

/// <summary>
/// Writes RLP items one after another into a span sized beforehand with <see cref="RlpEncoder"/>'s
/// <c>Get…Length</c> methods (a list is its header, written with <see cref="WriteListHeader"/>, then its items).
/// </summary>
public ref struct RlpWriter
{
    private readonly Span<byte> _destination;

    /// <summary>Starts writing at the beginning of <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to write; must be large enough for everything written.</param>
    public RlpWriter(Span<byte> destination)
    {
        _destination = destination;
        Position = 0;
    }

    /// <summary>The number of bytes written so far.</summary>
    public int Position { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _destination[..Position];

    /// <summary>Writes a byte string.</summary>
    /// <param name="value">The bytes.</param>
    public void WriteString(scoped ReadOnlySpan<byte> value) => Position += RlpEncoder.WriteString(value, _destination[Position..]);

    /// <summary>Writes an integer as a minimal big-endian byte string.</summary>
    /// <param name="value">The value.</param>
    public void WriteInteger(ulong value) => Position += RlpEncoder.WriteInteger(value, _destination[Position..]);

    /// <summary>Writes a non-negative integer as a minimal big-endian byte string.</summary>
    /// <param name="value">Zero or more.</param>
    public void WriteInteger(BigInteger value) => Position += RlpEncoder.WriteInteger(value, _destination[Position..]);

    /// <summary>Writes a list header; the list's items are written next.</summary>
    /// <param name="payloadLength">The summed encoded sizes of the items.</param>
    public void WriteListHeader(int payloadLength) => Position += RlpEncoder.WriteListHeader(payloadLength, _destination[Position..]);

    /// <summary>Copies bytes that are already RLP (an encoded item) as they are.</summary>
    /// <param name="encoded">One or more encoded items.</param>
    public void WriteEncoded(scoped ReadOnlySpan<byte> encoded)
    {
        encoded.CopyTo(_destination[Position..]);
        Position += encoded.Length;
    }
}
