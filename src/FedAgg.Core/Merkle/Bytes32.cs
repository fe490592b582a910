using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FedAgg.Core.Merkle;

/// <summary>
/// Exactly 32 bytes held inline (a Keccak-256 hash, an ABI word, a Merkle node), so arrays of them are one
/// allocation. Ordered by unsigned lexicographic byte comparison, which is the numeric order of the big-endian
/// value and the order OpenZeppelin sorts hashes in. Text form: <c>0x</c> and 64 lowercase hex digits.
/// </summary>
public readonly struct Bytes32 : IEquatable<Bytes32>, IComparable<Bytes32>, IComparable, ISpanFormattable
{
    /// <summary>The number of bytes: 32.</summary>
    public const int Size = 32;

    private const int HexLength = 2 + (2 * Size);

    private readonly Buffer _bytes;

    /// <summary>Copies exactly 32 bytes.</summary>
    /// <param name="bytes">The 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 32 bytes long.</exception>
    public Bytes32(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"Expected {Size} bytes, got {bytes.Length}.", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    /// <summary>All zero bytes (the same as <see langword="default"/>).</summary>
    public static Bytes32 Zero => default;

    /// <summary>The 32 bytes, without copying; valid as long as this value is.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>Copies the 32 bytes to the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"Destination needs {Size} bytes, has {destination.Length}.", nameof(destination));
        }

        AsSpan().CopyTo(destination);
    }

    /// <summary>A new array with the 32 bytes.</summary>
    public byte[] ToArray() => AsSpan().ToArray();

    /// <summary>Parses <c>0x</c> followed by 64 hex digits (either case); the prefix may be left out.</summary>
    /// <param name="text">The text.</param>
    /// <exception cref="FormatException"><paramref name="text"/> is not 32 bytes of hex.</exception>
    public static Bytes32 Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text.AsSpan());
    }

    /// <inheritdoc cref="Parse(string)"/>
    public static Bytes32 Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out var value)
            ? value
            : throw new FormatException($"Expected 0x and {2 * Size} hex digits, got \"{Truncate(text)}\".");

    /// <summary>Parses like <see cref="Parse(ReadOnlySpan{char})"/>, returning <see langword="false"/> instead of throwing.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The bytes, or zero when the text is invalid.</param>
    public static bool TryParse(ReadOnlySpan<char> text, out Bytes32 value)
    {
        value = default;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (text.Length != 2 * Size
            || Convert.FromHexString(text, bytes, out _, out var written) != OperationStatus.Done
            || written != Size)
        {
            return false;
        }

        value = new Bytes32(bytes);
        return true;
    }

    /// <summary><c>0x</c> followed by 64 lowercase hex digits.</summary>
    public override string ToString() => string.Create(HexLength, this, static (chars, value) => value.Format(chars));

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

        Format(destination);
        charsWritten = HexLength;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(Bytes32 other) => AsSpan().SequenceEqual(other.AsSpan());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Bytes32 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(AsSpan()) ^ BinaryPrimitives.ReadInt32LittleEndian(AsSpan()[28..]);

    /// <summary>Unsigned lexicographic comparison of the bytes (the numeric order of the big-endian values).</summary>
    /// <param name="other">The value to compare with.</param>
    public int CompareTo(Bytes32 other) => AsSpan().SequenceCompareTo(other.AsSpan());

    /// <inheritdoc/>
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        Bytes32 other => CompareTo(other),
        _ => throw new ArgumentException($"Expected a {nameof(Bytes32)}.", nameof(obj)),
    };

    /// <summary>Whether the bytes are equal.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(Bytes32 left, Bytes32 right) => left.Equals(right);

    /// <summary>Whether the bytes differ.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(Bytes32 left, Bytes32 right) => !left.Equals(right);

    /// <summary>Whether <paramref name="left"/> sorts before <paramref name="right"/>.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator <(Bytes32 left, Bytes32 right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> sorts before or equals <paramref name="right"/>.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator <=(Bytes32 left, Bytes32 right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> sorts after <paramref name="right"/>.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator >(Bytes32 left, Bytes32 right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> sorts after or equals <paramref name="right"/>.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator >=(Bytes32 left, Bytes32 right) => left.CompareTo(right) >= 0;

    private void Format(Span<char> destination)
    {
        destination[0] = '0';
        destination[1] = 'x';
        Convert.TryToHexStringLower(AsSpan(), destination[2..], out _);
    }

    private static string Truncate(ReadOnlySpan<char> text) => text.Length <= 80 ? text.ToString() : $"{text[..80]}…";

    [InlineArray(Size)]
    private struct Buffer
    {
        private byte _element;
    }
}
