using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace FedAgg.Core.Merkle;

/// <summary>
/// Solidity's <c>abi.encode</c> for static types: each value is one 32-byte word, and a tuple of static values is
/// the concatenation of their words. Each writer fills the first 32 bytes of its destination.
/// </summary>
public static class AbiEncoding
{
    /// <summary>The size of one ABI word: 32 bytes.</summary>
    public const int WordSize = 32;

    /// <summary>The length of an address: 20 bytes.</summary>
    public const int AddressLength = 20;

    /// <summary>Writes a <c>bytes32</c> word (the bytes unchanged).</summary>
    /// <param name="value">Exactly 32 bytes.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public static void WriteBytes32(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        CheckLength(value, WordSize, nameof(value));
        value.CopyTo(Word(destination));
    }

    /// <summary>Writes a <c>bytesN</c> word for N = <paramref name="value"/>'s length: the bytes, then zeros.</summary>
    /// <param name="value">1 to 32 bytes.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public static void WriteFixedBytes(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (value.Length is 0 or > WordSize)
        {
            throw new ArgumentException($"bytesN values are 1 to {WordSize} bytes, got {value.Length}.", nameof(value));
        }

        var word = Word(destination);
        value.CopyTo(word);
        word[value.Length..].Clear();
    }

    /// <summary>Writes an <c>address</c> word: 12 zero bytes, then the 20 address bytes.</summary>
    /// <param name="address">Exactly 20 bytes.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public static void WriteAddress(ReadOnlySpan<byte> address, Span<byte> destination)
    {
        CheckLength(address, AddressLength, nameof(address));
        var word = Word(destination);
        word[..(WordSize - AddressLength)].Clear();
        address.CopyTo(word[(WordSize - AddressLength)..]);
    }

    /// <summary>Writes a <c>bool</c> word: 1 or 0.</summary>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteBool(bool value, Span<byte> destination) => WriteUint64(value ? 1UL : 0UL, destination);

    /// <summary>Writes a <c>uint256</c> word: big-endian, left-padded with zeros.</summary>
    /// <param name="value">From 0 to 2^256 − 1.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative or at least 2^256.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteUint256(BigInteger value, Span<byte> destination) => WriteUint(value, 256, destination);

    /// <summary>Writes a <c>uintN</c> word: big-endian, left-padded with zeros.</summary>
    /// <param name="value">From 0 to 2^<paramref name="bits"/> − 1.</param>
    /// <param name="bits">N: a multiple of 8 from 8 to 256.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> does not fit, or <paramref name="bits"/> is not a valid width.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteUint(BigInteger value, int bits, Span<byte> destination)
    {
        AbiType.CheckIntegerBits(bits);
        if (value.Sign < 0 || value.GetBitLength() > bits)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"uint{bits} values are from 0 to 2^{bits} - 1.");
        }

        var word = Word(destination);
        var length = value.GetByteCount(isUnsigned: true);
        word[..(WordSize - length)].Clear();
        value.TryWriteBytes(word[(WordSize - length)..], out _, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Writes a <c>uint64</c> word: big-endian, left-padded with zeros.</summary>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteUint64(ulong value, Span<byte> destination)
    {
        var word = Word(destination);
        word[..(WordSize - sizeof(ulong))].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(word[(WordSize - sizeof(ulong))..], value);
    }

    /// <summary>Writes a <c>uint32</c> word: big-endian, left-padded with zeros.</summary>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteUint32(uint value, Span<byte> destination) => WriteUint64(value, destination);

    /// <summary>Writes an <c>intN</c> word: two's complement, sign-extended to 32 bytes.</summary>
    /// <param name="value">From −2^(<paramref name="bits"/>−1) to 2^(<paramref name="bits"/>−1) − 1.</param>
    /// <param name="bits">N: a multiple of 8 from 8 to 256.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> does not fit, or <paramref name="bits"/> is not a valid width.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void WriteInt(BigInteger value, int bits, Span<byte> destination)
    {
        AbiType.CheckIntegerBits(bits);

        // GetBitLength excludes the sign bit, so an intN value needs at most N − 1 of them.
        if (value.GetBitLength() > bits - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"int{bits} values are from -2^{bits - 1} to 2^{bits - 1} - 1.");
        }

        var word = Word(destination);
        var length = value.GetByteCount(isUnsigned: false);
        word[..(WordSize - length)].Fill(value.Sign < 0 ? (byte)0xFF : (byte)0);
        value.TryWriteBytes(word[(WordSize - length)..], out _, isUnsigned: false, isBigEndian: true);
    }

    /// <summary>The length of <c>abi.encode</c> of <paramref name="count"/> static values: 32 bytes each.</summary>
    /// <param name="count">The number of values.</param>
    public static int GetEncodedLength(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return checked(count * WordSize);
    }

    /// <summary><c>abi.encode(values…)</c>: the values' words, in order, at the start of <paramref name="destination"/>.</summary>
    /// <param name="values">Values of static types.</param>
    /// <param name="destination">At least 32 bytes per value.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">A value is <see langword="default"/>, or <paramref name="destination"/> is too short.</exception>
    public static int Encode(ReadOnlySpan<AbiValue> values, Span<byte> destination)
    {
        var length = GetEncodedLength(values.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"Destination needs {length} bytes, has {destination.Length}.", nameof(destination));
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Type.Kind == AbiTypeKind.None)
            {
                throw new ArgumentException($"Value {i} has no type (a default {nameof(AbiValue)}).", nameof(values));
            }

            values[i].Word.CopyTo(destination[(i * WordSize)..]);
        }

        return length;
    }

    /// <summary><c>abi.encode(values…)</c> as a new array.</summary>
    /// <param name="values">Values of static types.</param>
    /// <exception cref="ArgumentException">A value is <see langword="default"/>.</exception>
    public static byte[] Encode(ReadOnlySpan<AbiValue> values)
    {
        var encoded = new byte[GetEncodedLength(values.Length)];
        Encode(values, encoded);
        return encoded;
    }

    /// <summary><c>abi.encode(values…)</c> appended to <paramref name="writer"/>.</summary>
    /// <param name="values">Values of static types.</param>
    /// <param name="writer">Where to write.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">A value is <see langword="default"/>.</exception>
    public static int Encode(ReadOnlySpan<AbiValue> values, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(values.Length);
        var written = Encode(values, writer.GetSpan(length));
        writer.Advance(written);
        return written;
    }

    private static Span<byte> Word(Span<byte> destination)
    {
        if (destination.Length < WordSize)
        {
            throw new ArgumentException($"Destination needs {WordSize} bytes, has {destination.Length}.", nameof(destination));
        }

        return destination[..WordSize];
    }

    private static void CheckLength(ReadOnlySpan<byte> value, int expected, string parameterName)
    {
        if (value.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} bytes, got {value.Length}.", parameterName);
        }
    }
}
