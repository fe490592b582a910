using System.Buffers;
using System.Numerics;
using System.Text;

namespace FedAgg.Chain.Rlp;

/// <summary>
/// An RLP item as a tree: a byte string or a list of items. Immutable; the encoded size is computed once, when the
/// item is built. Equality is structural.
/// </summary>
public sealed class RlpItem : IEquatable<RlpItem>
{
    private static readonly RlpItem[] NoItems = [];

    private readonly byte[] _bytes;
    private readonly RlpItem[] _items;
    private readonly int _payloadLength;

    private RlpItem(byte[] bytes)
    {
        _bytes = bytes;
        _items = NoItems;
        EncodedLength = RlpEncoder.GetStringLength(bytes);
    }

    private RlpItem(RlpItem[] items)
    {
        _bytes = [];
        _items = items;
        var payload = 0;
        foreach (var item in items)
        {
            payload = checked(payload + item.EncodedLength);
        }

        _payloadLength = payload;
        EncodedLength = RlpEncoder.GetListLength(payload);
        IsList = true;
    }

    /// <summary>Whether this is a list (otherwise a byte string).</summary>
    public bool IsList { get; }

    /// <summary>The encoded size in bytes.</summary>
    public int EncodedLength { get; }

    /// <summary>The bytes of a byte string.</summary>
    /// <exception cref="InvalidOperationException">This is a list.</exception>
    public ReadOnlyMemory<byte> Bytes => IsList ? throw new InvalidOperationException("The RLP item is a list, not a byte string.") : _bytes;

    /// <summary>The items of a list.</summary>
    /// <exception cref="InvalidOperationException">This is a byte string.</exception>
    public IReadOnlyList<RlpItem> Items => IsList ? _items : throw new InvalidOperationException("The RLP item is a byte string, not a list.");

    /// <summary>A byte string item (the bytes are copied).</summary>
    /// <param name="bytes">The bytes.</param>
    public static RlpItem FromBytes(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    /// <summary>An integer as its minimal big-endian byte string (zero is the empty string).</summary>
    /// <param name="value">The value.</param>
    public static RlpItem FromInteger(ulong value)
    {
        var bytes = new byte[RlpEncoder.GetByteCount(value)];
        for (var i = bytes.Length - 1; i >= 0; i--, value >>= 8)
        {
            bytes[i] = (byte)value;
        }

        return new RlpItem(bytes);
    }

    /// <summary>A non-negative integer as its minimal big-endian byte string (zero is the empty string).</summary>
    /// <param name="value">Zero or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static RlpItem FromInteger(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "RLP integers are non-negative.");
        }

        return new RlpItem(value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true));
    }

    /// <summary>A list of items.</summary>
    /// <param name="items">The items, in order.</param>
    public static RlpItem List(params RlpItem[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(items));
        }

        return new RlpItem((RlpItem[])items.Clone());
    }

    /// <summary>A list of items.</summary>
    /// <param name="items">The items, in order.</param>
    public static RlpItem List(IEnumerable<RlpItem> items) => List([.. items]);

    /// <summary>The bytes of a byte string read as a canonical integer (no leading zeros).</summary>
    /// <param name="maxBytes">The largest size accepted.</param>
    /// <exception cref="InvalidOperationException">This is a list.</exception>
    /// <exception cref="RlpException">The bytes have leading zeros or are too long.</exception>
    public BigInteger ToBigInteger(int maxBytes = 32)
    {
        var bytes = Bytes.Span;
        if (bytes.Length > maxBytes)
        {
            throw new RlpException($"Integer of {bytes.Length} bytes exceeds the {maxBytes}-byte limit.");
        }

        if (bytes.Length > 0 && bytes[0] == 0)
        {
            throw new RlpException("Integer has leading zero bytes.");
        }

        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>The encoding as a new array.</summary>
    public byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        Encode(encoded);
        return encoded;
    }

    /// <summary>Writes the encoding at the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedLength"/> bytes.</param>
    /// <returns>The number of bytes written (<see cref="EncodedLength"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedLength)
        {
            throw new ArgumentException($"Destination needs {EncodedLength} bytes, has {destination.Length}.", nameof(destination));
        }

        var writer = new RlpWriter(destination);
        Write(ref writer);
        return writer.Position;
    }

    /// <summary>Appends the encoding to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where to write.</param>
    /// <returns>The number of bytes written (<see cref="EncodedLength"/>).</returns>
    public int Encode(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var written = Encode(writer.GetSpan(EncodedLength));
        writer.Advance(written);
        return written;
    }

    /// <summary>Decodes exactly one item spanning all of <paramref name="encoded"/>.</summary>
    /// <param name="encoded">The encoding.</param>
    /// <param name="maxDepth">How deeply lists may nest.</param>
    /// <exception cref="RlpException">The input is not one canonical item (the message names the offset and the problem).</exception>
    public static RlpItem Decode(ReadOnlySpan<byte> encoded, int maxDepth = RlpReader.DefaultMaxDepth)
    {
        var reader = new RlpReader(encoded, maxDepth);
        var item = Read(ref reader);
        reader.EnsureAtEnd();
        return item;
    }

    /// <summary>Reads the next item of <paramref name="reader"/> as a tree, checking everything inside it.</summary>
    /// <param name="reader">The reader.</param>
    /// <exception cref="RlpException">The item is invalid.</exception>
    public static RlpItem Read(ref RlpReader reader)
    {
        if (!reader.PeekIsList())
        {
            return new RlpItem(reader.ReadString().ToArray());
        }

        var list = reader.ReadList();
        var items = new List<RlpItem>();
        while (!list.IsAtEnd)
        {
            items.Add(Read(ref list));
        }

        return new RlpItem([.. items]);
    }

    /// <inheritdoc/>
    public bool Equals(RlpItem? other)
    {
        if (other is null || other.IsList != IsList || other.EncodedLength != EncodedLength)
        {
            return false;
        }

        if (!IsList)
        {
            return _bytes.AsSpan().SequenceEqual(other._bytes);
        }

        if (_items.Length != other._items.Length)
        {
            return false;
        }

        for (var i = 0; i < _items.Length; i++)
        {
            if (!_items[i].Equals(other._items[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RlpItem);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(IsList, EncodedLength, _payloadLength);

    /// <summary>A readable form: byte strings as <c>0x…</c> hex, lists as <c>[a, b]</c> (the form <c>cast to-rlp</c> reads).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Append(text);
        return text.ToString();
    }

    private void Append(StringBuilder text)
    {
        if (!IsList)
        {
            text.Append("0x").Append(Convert.ToHexStringLower(_bytes));
            return;
        }

        text.Append('[');
        for (var i = 0; i < _items.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            _items[i].Append(text);
        }

        text.Append(']');
    }

    private void Write(ref RlpWriter writer)
    {
        if (!IsList)
        {
            writer.WriteString(_bytes);
            return;
        }

        writer.WriteListHeader(_payloadLength);
        foreach (var item in _items)
        {
            item.Write(ref writer);
        }
    }
}
