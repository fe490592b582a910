using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain;

/// <summary>
/// A 20-byte Ethereum account or contract address, held inline. Text form: <c>0x</c> and 40 hex digits with the
/// EIP-55 mixed-case checksum (<see cref="ToString()"/>); parsing accepts all-lowercase and all-uppercase digits,
/// and mixed case only when it is a valid checksum. The <see langword="default"/> value is <see cref="Zero"/>.
/// </summary>
public readonly struct EthereumAddress : IEquatable<EthereumAddress>, IComparable<EthereumAddress>, ISpanFormattable
{
    /// <summary>The number of bytes: 20.</summary>
    public const int Size = 20;

    private const int HexLength = 2 + (2 * Size);

    private readonly Buffer _bytes;

    private EthereumAddress(ReadOnlySpan<byte> bytes) => bytes.CopyTo(_bytes);

    /// <summary>The zero address <c>0x0000…0000</c>.</summary>
    public static readonly EthereumAddress Zero;

    /// <summary>Whether this is the zero address.</summary>
    public bool IsZero => AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Copies exactly 20 bytes.</summary>
    /// <param name="twentyBytes">The address bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="twentyBytes"/> is not 20 bytes long.</exception>
    public static EthereumAddress FromBytes(ReadOnlySpan<byte> twentyBytes)
    {
        if (twentyBytes.Length != Size)
        {
            throw new ArgumentException($"An address is {Size} bytes, got {twentyBytes.Length}.", nameof(twentyBytes));
        }

        return new EthereumAddress(twentyBytes);
    }

    /// <summary>The address of an uncompressed secp256k1 public key: the last 20 bytes of keccak256(X || Y).</summary>
    /// <param name="publicKey">65 bytes starting with 0x04, or the 64 bytes X || Y.</param>
    /// <exception cref="ArgumentException"><paramref name="publicKey"/> has another length or prefix.</exception>
    public static EthereumAddress FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length == 65 && publicKey[0] == 0x04)
        {
            publicKey = publicKey[1..];
        }

        if (publicKey.Length != 64)
        {
            throw new ArgumentException("Expected an uncompressed public key: 65 bytes starting with 0x04, or 64 bytes.", nameof(publicKey));
        }

        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(publicKey, hash);
        return new EthereumAddress(hash[(Keccak256.HashSize - Size)..]);
    }

    /// <summary>The 20 bytes, without copying; valid as long as this value is.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>A new array with the 20 bytes.</summary>
    public byte[] ToArray() => AsSpan().ToArray();

    /// <summary>Copies the 20 bytes to the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least 20 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 20 bytes.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"Destination needs {Size} bytes, has {destination.Length}.", nameof(destination));
        }

        AsSpan().CopyTo(destination);
    }

    /// <summary>
    /// Parses <c>0x</c> and 40 hex digits. All-lowercase and all-uppercase digits are accepted as they are; mixed case
    /// must be the EIP-55 checksum of the address.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">The text is not an address, or its mixed case is not a valid checksum (the message says which).</exception>
    public static EthereumAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var error = TryParseCore(text, out var address);
        return error is null ? address : throw new FormatException(error);
    }

    /// <summary>Parses like <see cref="Parse"/>, returning <see langword="false"/> instead of throwing.</summary>
    /// <param name="text">The text.</param>
    /// <param name="address">The address, or <see cref="Zero"/> when the text is invalid.</param>
    public static bool TryParse([NotNullWhen(true)] string? text, out EthereumAddress address)
    {
        address = default;
        return text is not null && TryParseCore(text, out address) is null;
    }

    /// <summary>The EIP-55 checksummed form: <c>0x</c> and 40 hex digits, letters uppercased where the address's hash says so.</summary>
    public override string ToString() => string.Create(HexLength, this, static (chars, value) => value.FormatChecksummed(chars));

    /// <summary><c>0x</c> and 40 lowercase hex digits (the form JSON-RPC accepts everywhere).</summary>
    public string ToLowerHex() => string.Concat("0x", Convert.ToHexStringLower(AsSpan()));

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (destination.Length < HexLength)
        {
            charsWritten = 0;
            return false;
        }

        FormatChecksummed(destination);
        charsWritten = HexLength;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(EthereumAddress other) => AsSpan().SequenceEqual(other.AsSpan());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EthereumAddress other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(AsSpan()) ^ BinaryPrimitives.ReadInt32LittleEndian(AsSpan()[16..]);

    /// <summary>Unsigned lexicographic comparison of the bytes.</summary>
    /// <param name="other">The address to compare with.</param>
    public int CompareTo(EthereumAddress other) => AsSpan().SequenceCompareTo(other.AsSpan());

    /// <summary>Whether the bytes are equal.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator ==(EthereumAddress left, EthereumAddress right) => left.Equals(right);

    /// <summary>Whether the bytes differ.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator !=(EthereumAddress left, EthereumAddress right) => !left.Equals(right);

    /// <summary>Whether <paramref name="left"/> sorts before <paramref name="right"/>.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator <(EthereumAddress left, EthereumAddress right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> sorts before or equals <paramref name="right"/>.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator <=(EthereumAddress left, EthereumAddress right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> sorts after <paramref name="right"/>.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator >(EthereumAddress left, EthereumAddress right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> sorts after or equals <paramref name="right"/>.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    public static bool operator >=(EthereumAddress left, EthereumAddress right) => left.CompareTo(right) >= 0;

    // Returns why the text is not an address, or null.
    private static string? TryParseCore(ReadOnlySpan<char> text, out EthereumAddress address)
    {
        address = default;
        if (!text.StartsWith("0x", StringComparison.Ordinal) && !text.StartsWith("0X", StringComparison.Ordinal))
        {
            return $"An address starts with 0x, got \"{Shorten(text)}\".";
        }

        var digits = text[2..];
        Span<byte> bytes = stackalloc byte[Size];
        if (digits.Length != 2 * Size
            || Convert.FromHexString(digits, bytes, out _, out var written) != OperationStatus.Done
            || written != Size)
        {
            return $"An address is 0x and {2 * Size} hex digits, got \"{Shorten(text)}\".";
        }

        var parsed = new EthereumAddress(bytes);
        var hasLower = digits.ContainsAnyInRange('a', 'f');
        var hasUpper = digits.ContainsAnyInRange('A', 'F');
        if (hasLower && hasUpper)
        {
            Span<char> expected = stackalloc char[HexLength];
            parsed.FormatChecksummed(expected);
            if (!digits.SequenceEqual(expected[2..]))
            {
                return $"\"{text}\" has mixed case but is not a valid EIP-55 checksum (expected {expected}); use all lowercase to skip the check.";
            }
        }

        address = parsed;
        return null;
    }

    private void FormatChecksummed(Span<char> destination)
    {
        destination[0] = '0';
        destination[1] = 'x';
        var digits = destination[2..HexLength];
        Convert.TryToHexStringLower(AsSpan(), digits, out _);

        // EIP-55: hash the lowercase hex text; a letter is uppercased where the hash's matching nibble is >= 8.
        Span<byte> ascii = stackalloc byte[2 * Size];
        for (var i = 0; i < ascii.Length; i++)
        {
            ascii[i] = (byte)digits[i];
        }

        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(ascii, hash);
        for (var i = 0; i < digits.Length; i++)
        {
            var nibble = (i & 1) == 0 ? hash[i >> 1] >> 4 : hash[i >> 1] & 0x0F;
            if (nibble >= 8 && digits[i] >= 'a')
            {
                digits[i] = (char)(digits[i] - ('a' - 'A'));
            }
        }
    }

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 80 ? text.ToString() : $"{text[..80]}…";

    [InlineArray(Size)]
    private struct Buffer
    {
        private byte _element;
    }
}
