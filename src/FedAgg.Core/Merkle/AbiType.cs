using System.Globalization;

namespace FedAgg.Core.Merkle;

/// <summary>The family of a static Solidity ABI type.</summary>
public enum AbiTypeKind : byte
{
    /// <summary>No type: the <see langword="default"/> <see cref="AbiType"/>, which nothing accepts.</summary>
    None = 0,

    /// <summary><c>address</c>: 20 bytes, left-padded to a word.</summary>
    Address,

    /// <summary><c>bool</c>: the word 0 or 1.</summary>
    Bool,

    /// <summary><c>uint8</c> … <c>uint256</c>: big-endian, left-padded with zeros.</summary>
    Uint,

    /// <summary><c>int8</c> … <c>int256</c>: two's complement, sign-extended to a word.</summary>
    Int,

    /// <summary><c>bytes1</c> … <c>bytes32</c>: right-padded with zeros.</summary>
    FixedBytes,
}

/// <summary>
/// A static Solidity ABI type (one 32-byte word when encoded): <c>address</c>, <c>bool</c>, <c>uintN</c>,
/// <c>intN</c> or <c>bytesN</c>. Dynamic types (<c>bytes</c>, <c>string</c>, arrays) are not supported.
/// </summary>
public readonly struct AbiType : IEquatable<AbiType>
{
    private readonly byte _size;

    private AbiType(AbiTypeKind kind, int size)
    {
        Kind = kind;
        _size = (byte)(size & 0xFF);
    }

    /// <summary><c>address</c>.</summary>
    public static AbiType Address => new(AbiTypeKind.Address, 0);

    /// <summary><c>bool</c>.</summary>
    public static AbiType Bool => new(AbiTypeKind.Bool, 0);

    /// <summary><c>bytes32</c>.</summary>
    public static AbiType Bytes32 => new(AbiTypeKind.FixedBytes, 32);

    /// <summary><c>uint256</c>.</summary>
    public static AbiType Uint256 => new(AbiTypeKind.Uint, 256);

    /// <summary><c>uint64</c>.</summary>
    public static AbiType Uint64 => new(AbiTypeKind.Uint, 64);

    /// <summary><c>uint32</c>.</summary>
    public static AbiType Uint32 => new(AbiTypeKind.Uint, 32);

    /// <summary>The type family.</summary>
    public AbiTypeKind Kind { get; }

    /// <summary>The width in bits of <c>uintN</c>/<c>intN</c> (8 to 256); 0 for other kinds.</summary>
    public int IntegerBits => Kind is AbiTypeKind.Uint or AbiTypeKind.Int ? (_size == 0 ? 256 : _size) : 0;

    /// <summary>The length N of <c>bytesN</c> (1 to 32); 0 for other kinds.</summary>
    public int ByteLength => Kind == AbiTypeKind.FixedBytes ? _size : 0;

    /// <summary><c>uintN</c>.</summary>
    /// <param name="bits">A multiple of 8 from 8 to 256.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not a multiple of 8 from 8 to 256.</exception>
    public static AbiType Uint(int bits) => new(AbiTypeKind.Uint, CheckIntegerBits(bits));

    /// <summary><c>intN</c>.</summary>
    /// <param name="bits">A multiple of 8 from 8 to 256.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not a multiple of 8 from 8 to 256.</exception>
    public static AbiType Int(int bits) => new(AbiTypeKind.Int, CheckIntegerBits(bits));

    /// <summary><c>bytesN</c>.</summary>
    /// <param name="length">From 1 to 32.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not from 1 to 32.</exception>
    public static AbiType FixedBytes(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 32);
        return new AbiType(AbiTypeKind.FixedBytes, length);
    }

    /// <summary>
    /// Parses a Solidity type name: <c>address</c>, <c>bool</c>, <c>uintN</c>, <c>intN</c>, <c>bytesN</c>, and the
    /// aliases <c>uint</c>/<c>int</c> for 256 bits (as OpenZeppelin's encoder accepts them).
    /// </summary>
    /// <param name="name">The type name.</param>
    /// <exception cref="FormatException"><paramref name="name"/> is not a supported static type.</exception>
    public static AbiType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out var type)
            ? type
            : throw new FormatException($"Unsupported ABI type \"{name}\": expected address, bool, uint8…uint256, int8…int256 or bytes1…bytes32.");
    }

    /// <summary>Parses like <see cref="Parse"/>, returning <see langword="false"/> instead of throwing.</summary>
    /// <param name="name">The type name.</param>
    /// <param name="type">The type, or <see langword="default"/> when unsupported.</param>
    public static bool TryParse(ReadOnlySpan<char> name, out AbiType type)
    {
        type = default;
        switch (name)
        {
            case "address":
                type = Address;
                return true;
            case "bool":
                type = Bool;
                return true;
            case "uint":
                type = Uint256;
                return true;
            case "int":
                type = Int(256);
                return true;
        }

        if (name.StartsWith("uint") && TryParseSize(name[4..], out var uintBits) && IsIntegerBits(uintBits))
        {
            type = new AbiType(AbiTypeKind.Uint, uintBits);
            return true;
        }

        if (name.StartsWith("int") && TryParseSize(name[3..], out var intBits) && IsIntegerBits(intBits))
        {
            type = new AbiType(AbiTypeKind.Int, intBits);
            return true;
        }

        if (name.StartsWith("bytes") && TryParseSize(name[5..], out var length) && length is >= 1 and <= 32)
        {
            type = new AbiType(AbiTypeKind.FixedBytes, length);
            return true;
        }

        return false;
    }

    /// <summary>The canonical Solidity name (<c>uint256</c>, never the alias <c>uint</c>); <c>none</c> for the default.</summary>
    public override string ToString() => Kind switch
    {
        AbiTypeKind.Address => "address",
        AbiTypeKind.Bool => "bool",
        AbiTypeKind.Uint => string.Create(CultureInfo.InvariantCulture, $"uint{IntegerBits}"),
        AbiTypeKind.Int => string.Create(CultureInfo.InvariantCulture, $"int{IntegerBits}"),
        AbiTypeKind.FixedBytes => string.Create(CultureInfo.InvariantCulture, $"bytes{ByteLength}"),
        _ => "none",
    };

    /// <inheritdoc/>
    public bool Equals(AbiType other) => Kind == other.Kind && _size == other._size;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is AbiType other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)Kind << 8) | _size;

    /// <summary>Whether the types are the same.</summary>
    /// <param name="left">The first type.</param>
    /// <param name="right">The second type.</param>
    public static bool operator ==(AbiType left, AbiType right) => left.Equals(right);

    /// <summary>Whether the types differ.</summary>
    /// <param name="left">The first type.</param>
    /// <param name="right">The second type.</param>
    public static bool operator !=(AbiType left, AbiType right) => !left.Equals(right);

    internal static int CheckIntegerBits(int bits, string? parameterName = "bits")
    {
        if (!IsIntegerBits(bits))
        {
            throw new ArgumentOutOfRangeException(parameterName, bits, "Integer widths are multiples of 8 from 8 to 256.");
        }

        return bits;
    }

    private static bool IsIntegerBits(int bits) => bits is >= 8 and <= 256 && bits % 8 == 0;

    // Digits without a leading zero, as Solidity writes sizes; at most three of them.
    private static bool TryParseSize(ReadOnlySpan<char> digits, out int size)
    {
        size = 0;
        if (digits.Length is 0 or > 3 || digits[0] == '0')
        {
            return false;
        }

        foreach (var digit in digits)
        {
            if (!char.IsAsciiDigit(digit))
            {
                return false;
            }

            size = (size * 10) + (digit - '0');
        }

        return true;
    }
}
