using System.Buffers;
using System.Globalization;
using System.Numerics;

namespace FedAgg.Core.Merkle;

/// <summary>
/// A value of a static ABI type held as its encoded 32-byte word (no allocation). The text form
/// (<see cref="ToString"/>, <see cref="Parse"/>) is the one OpenZeppelin's Merkle-tree dumps use: <c>0x</c>-hex
/// for addresses and <c>bytesN</c>, decimal for integers, <c>true</c>/<c>false</c> for booleans.
/// </summary>
public readonly struct AbiValue : IEquatable<AbiValue>
{
    // Longer numeric text would only be leading zeros; the cap keeps BigInteger parsing linear in practice.
    private const int MaxNumberTextLength = 100;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private AbiValue(AbiType type, Bytes32 word)
    {
        Type = type;
        Word = word;
    }

    /// <summary>The value's type; <see cref="AbiTypeKind.None"/> for <see langword="default"/>.</summary>
    public AbiType Type { get; }

    /// <summary>The value's <c>abi.encode</c> word.</summary>
    public Bytes32 Word { get; }

    /// <summary>An <c>address</c>.</summary>
    /// <param name="address">Exactly 20 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not 20 bytes.</exception>
    public static AbiValue FromAddress(ReadOnlySpan<byte> address)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteAddress(address, word);
        return new AbiValue(AbiType.Address, new Bytes32(word));
    }

    /// <summary>A <c>bool</c>.</summary>
    /// <param name="value">The value.</param>
    public static AbiValue FromBool(bool value)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteBool(value, word);
        return new AbiValue(AbiType.Bool, new Bytes32(word));
    }

    /// <summary>A <c>bytes32</c>.</summary>
    /// <param name="value">The value.</param>
    public static AbiValue FromBytes32(Bytes32 value) => new(AbiType.Bytes32, value);

    /// <summary>A <c>bytes32</c>.</summary>
    /// <param name="value">Exactly 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not 32 bytes.</exception>
    public static AbiValue FromBytes32(ReadOnlySpan<byte> value)
    {
        if (value.Length != Bytes32.Size)
        {
            throw new ArgumentException($"bytes32 values are {Bytes32.Size} bytes, got {value.Length}.", nameof(value));
        }

        return new AbiValue(AbiType.Bytes32, new Bytes32(value));
    }

    /// <summary>A <c>bytesN</c> with N the length of <paramref name="value"/>.</summary>
    /// <param name="value">1 to 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is empty or longer than 32 bytes.</exception>
    public static AbiValue FromFixedBytes(ReadOnlySpan<byte> value)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteFixedBytes(value, word);
        return new AbiValue(AbiType.FixedBytes(value.Length), new Bytes32(word));
    }

    /// <summary>A <c>uint256</c>.</summary>
    /// <param name="value">From 0 to 2^256 − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative or at least 2^256.</exception>
    public static AbiValue FromUint256(BigInteger value) => FromUint(value, 256);

    /// <summary>A <c>uint64</c>.</summary>
    /// <param name="value">The value.</param>
    public static AbiValue FromUint64(ulong value)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteUint64(value, word);
        return new AbiValue(AbiType.Uint64, new Bytes32(word));
    }

    /// <summary>A <c>uint32</c>.</summary>
    /// <param name="value">The value.</param>
    public static AbiValue FromUint32(uint value)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteUint32(value, word);
        return new AbiValue(AbiType.Uint32, new Bytes32(word));
    }

    /// <summary>A <c>uintN</c>.</summary>
    /// <param name="value">From 0 to 2^<paramref name="bits"/> − 1.</param>
    /// <param name="bits">N: a multiple of 8 from 8 to 256.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> does not fit, or <paramref name="bits"/> is not a valid width.</exception>
    public static AbiValue FromUint(BigInteger value, int bits)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteUint(value, bits, word);
        return new AbiValue(AbiType.Uint(bits), new Bytes32(word));
    }

    /// <summary>An <c>intN</c>.</summary>
    /// <param name="value">From −2^(<paramref name="bits"/>−1) to 2^(<paramref name="bits"/>−1) − 1.</param>
    /// <param name="bits">N: a multiple of 8 from 8 to 256.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> does not fit, or <paramref name="bits"/> is not a valid width.</exception>
    public static AbiValue FromInt(BigInteger value, int bits)
    {
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        AbiEncoding.WriteInt(value, bits, word);
        return new AbiValue(AbiType.Int(bits), new Bytes32(word));
    }

    /// <summary>The number held by a <c>uintN</c>, <c>intN</c>, <c>bool</c> (0 or 1) or <c>address</c>.</summary>
    /// <exception cref="InvalidOperationException">The value is a <c>bytesN</c> or <see langword="default"/>.</exception>
    public BigInteger ToBigInteger() => Type.Kind switch
    {
        AbiTypeKind.Uint or AbiTypeKind.Bool or AbiTypeKind.Address => new BigInteger(Word.AsSpan(), isUnsigned: true, isBigEndian: true),
        AbiTypeKind.Int => new BigInteger(Word.AsSpan(), isUnsigned: false, isBigEndian: true),
        _ => throw new InvalidOperationException($"A {Type} value is not a number."),
    };

    /// <summary>
    /// The dump text: <c>0x</c> and lowercase hex for <c>address</c> (20 bytes) and <c>bytesN</c> (N bytes),
    /// decimal for <c>uintN</c>/<c>intN</c>, <c>true</c>/<c>false</c> for <c>bool</c>; <c>none</c> for the default.
    /// </summary>
    public override string ToString() => Type.Kind switch
    {
        AbiTypeKind.Address => Hex(Word.AsSpan()[(AbiEncoding.WordSize - AbiEncoding.AddressLength)..]),
        AbiTypeKind.FixedBytes => Hex(Word.AsSpan()[..Type.ByteLength]),
        AbiTypeKind.Uint or AbiTypeKind.Int => ToBigInteger().ToString(CultureInfo.InvariantCulture),
        AbiTypeKind.Bool => ToBigInteger().IsZero ? "false" : "true",
        _ => "none",
    };

    /// <summary>
    /// Parses the text of a value of type <paramref name="type"/>: <c>0x</c> and exactly 40 hex digits for an
    /// <c>address</c> and 2N for <c>bytesN</c> (either case); decimal, or <c>0x</c>-hex read as non-negative,
    /// for <c>uintN</c>/<c>intN</c>; <c>true</c>/<c>false</c> for <c>bool</c>.
    /// </summary>
    /// <param name="type">The value's type.</param>
    /// <param name="text">The text.</param>
    /// <exception cref="FormatException">The text is not a value of <paramref name="type"/> (the message says why).</exception>
    public static AbiValue Parse(AbiType type, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var error = TryParseCore(type, text, out var value);
        return error is null ? value : throw new FormatException(error);
    }

    /// <summary>Parses like <see cref="Parse"/>, returning <see langword="false"/> instead of throwing.</summary>
    /// <param name="type">The value's type.</param>
    /// <param name="text">The text.</param>
    /// <param name="value">The value, or <see langword="default"/> when the text is invalid.</param>
    public static bool TryParse(AbiType type, ReadOnlySpan<char> text, out AbiValue value) => TryParseCore(type, text, out value) is null;

    /// <inheritdoc/>
    public bool Equals(AbiValue other) => Type == other.Type && Word == other.Word;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is AbiValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Type, Word);

    /// <summary>Whether the values have the same type and word.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(AbiValue left, AbiValue right) => left.Equals(right);

    /// <summary>Whether the values differ in type or word.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(AbiValue left, AbiValue right) => !left.Equals(right);

    // Returns the reason the text is invalid, or null.
    internal static string? TryParseCore(AbiType type, ReadOnlySpan<char> text, out AbiValue value)
    {
        value = default;
        Span<byte> word = stackalloc byte[AbiEncoding.WordSize];
        switch (type.Kind)
        {
            case AbiTypeKind.Address:
                if (!TryParseHex(text, word[..AbiEncoding.AddressLength]))
                {
                    return $"Expected an address (0x and 40 hex digits), got \"{Shorten(text)}\".";
                }

                value = FromAddress(word[..AbiEncoding.AddressLength]);
                return null;
            case AbiTypeKind.FixedBytes:
                if (!TryParseHex(text, word[..type.ByteLength]))
                {
                    return $"Expected a {type} value (0x and {2 * type.ByteLength} hex digits), got \"{Shorten(text)}\".";
                }

                value = FromFixedBytes(word[..type.ByteLength]);
                return null;
            case AbiTypeKind.Bool:
                if (text is "true" or "false")
                {
                    value = FromBool(text is "true");
                    return null;
                }

                return $"Expected a bool (true or false), got \"{Shorten(text)}\".";
            case AbiTypeKind.Uint:
            case AbiTypeKind.Int:
                if (!TryParseInteger(text, allowNegative: type.Kind == AbiTypeKind.Int, out var number))
                {
                    return $"Expected a {type} value (decimal, or 0x and hex digits), got \"{Shorten(text)}\".";
                }

                var fits = type.Kind == AbiTypeKind.Uint
                    ? number.GetBitLength() <= type.IntegerBits
                    : number.GetBitLength() <= type.IntegerBits - 1;
                if (!fits)
                {
                    return $"{Shorten(text)} is out of range for {type}.";
                }

                value = type.Kind == AbiTypeKind.Uint ? FromUint(number, type.IntegerBits) : FromInt(number, type.IntegerBits);
                return null;
            default:
                return "A value needs a type (got the default AbiType).";
        }
    }

    private static bool TryParseHex(ReadOnlySpan<char> text, Span<byte> destination) =>
        text.StartsWith("0x")
        && text.Length == 2 + (2 * destination.Length)
        && Convert.FromHexString(text[2..], destination, out _, out var written) == OperationStatus.Done
        && written == destination.Length;

    private static bool TryParseInteger(ReadOnlySpan<char> text, bool allowNegative, out BigInteger number)
    {
        number = default;
        if (text.Length > MaxNumberTextLength)
        {
            return false;
        }

        if (text.StartsWith("0x"))
        {
            // A leading 0 keeps BigInteger from reading the top hex digit as a sign.
            var digits = text[2..];
            return digits.Length > 0
                && !digits.ContainsAnyExcept(HexDigits)
                && BigInteger.TryParse(string.Concat("0", digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out number);
        }

        var negative = allowNegative && text.StartsWith('-');
        var magnitude = negative ? text[1..] : text;
        return magnitude.Length > 0
            && !magnitude.ContainsAnyExceptInRange('0', '9')
            && BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => string.Concat("0x", Convert.ToHexStringLower(bytes));

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 80 ? text.ToString() : $"{text[..80]}…";
}
