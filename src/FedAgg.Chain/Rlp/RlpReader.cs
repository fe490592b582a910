using System.Numerics;

namespace FedAgg.Chain.Rlp;

/// <summary>
/// A strict, allocation-free RLP reader over one span: items are read in order, lists open a nested reader over their
/// payload. Every header is checked before use: lengths must lie within the input, be minimal (short form below 56
/// bytes, no leading zero length bytes) and a single byte below 0x80 must not carry a string header. Integers must have
/// no leading zeros. Violations throw <see cref="RlpException"/> naming the offset in the whole input.
/// </summary>
public ref struct RlpReader
{
    /// <summary>The default limit on list nesting: 32.</summary>
    public const int DefaultMaxDepth = 32;

    private readonly ReadOnlySpan<byte> _input;
    private readonly int _baseOffset;
    private readonly int _maxDepth;
    private int _position;

    /// <summary>Reads the items in <paramref name="input"/> (the top level, depth 0).</summary>
    /// <param name="input">The encoded items.</param>
    /// <param name="maxDepth">How deeply lists may nest; opening a list at depth <paramref name="maxDepth"/> fails.</param>
    public RlpReader(ReadOnlySpan<byte> input, int maxDepth = DefaultMaxDepth)
        : this(input, 0, 0, maxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDepth);
    }

    /// <summary>Reads the items in <paramref name="input"/>, reporting offsets as if it began at <paramref name="baseOffset"/> (e.g. after a type byte).</summary>
    /// <param name="input">The encoded items.</param>
    /// <param name="baseOffset">The offset of <paramref name="input"/> in the whole message.</param>
    /// <param name="maxDepth">How deeply lists may nest.</param>
    public RlpReader(ReadOnlySpan<byte> input, int baseOffset, int maxDepth)
        : this(input, baseOffset, 0, maxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(maxDepth);
    }

    private RlpReader(ReadOnlySpan<byte> input, int baseOffset, int depth, int maxDepth)
    {
        _input = input;
        _baseOffset = baseOffset;
        Depth = depth;
        _maxDepth = maxDepth;
        _position = 0;
    }

    /// <summary>How many lists enclose the items this reader reads.</summary>
    public int Depth { get; }

    /// <summary>The offset of the next item in the whole input.</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Whether every item has been read.</summary>
    public readonly bool IsAtEnd => _position == _input.Length;

    /// <summary>Whether the next item is a list (throws when none is left or its header is invalid).</summary>
    public readonly bool PeekIsList()
    {
        var header = ReadHeader(out _);
        return header.IsList;
    }

    /// <summary>Reads a byte string item.</summary>
    /// <returns>The string's bytes, a slice of the input.</returns>
    /// <exception cref="RlpException">The next item is missing, invalid or a list.</exception>
    public ReadOnlySpan<byte> ReadString()
    {
        var offset = Offset;
        var header = ReadHeader(out var payloadStart);
        if (header.IsList)
        {
            throw new RlpException(offset, "expected a byte string, found a list");
        }

        var payload = _input.Slice(payloadStart, header.PayloadLength);
        _position = payloadStart + header.PayloadLength;
        return payload;
    }

    /// <summary>Reads a list item and returns a reader over its items.</summary>
    /// <returns>A reader at depth <see cref="Depth"/> + 1; call <see cref="EnsureAtEnd"/> on it after its items.</returns>
    /// <exception cref="RlpException">The next item is missing, invalid or a string, or the nesting is too deep.</exception>
    public RlpReader ReadList()
    {
        var offset = Offset;
        var header = ReadHeader(out var payloadStart);
        if (!header.IsList)
        {
            throw new RlpException(offset, "expected a list, found a byte string");
        }

        if (Depth >= _maxDepth)
        {
            throw new RlpException(offset, $"lists nest deeper than {_maxDepth}");
        }

        var nested = new RlpReader(_input.Slice(payloadStart, header.PayloadLength), _baseOffset + payloadStart, Depth + 1, _maxDepth);
        _position = payloadStart + header.PayloadLength;
        return nested;
    }

    /// <summary>Skips the next item, string or list, checking its header (not the items inside a list).</summary>
    /// <returns>The whole encoded item (header included), a slice of the input.</returns>
    public ReadOnlySpan<byte> ReadEncodedItem()
    {
        var start = _position;
        var header = ReadHeader(out var payloadStart);
        _position = payloadStart + header.PayloadLength;
        return _input[start.._position];
    }

    /// <summary>Reads an integer of at most 8 bytes with no leading zeros (zero is the empty string).</summary>
    /// <exception cref="RlpException">The item is not a canonical integer or does not fit in 64 bits.</exception>
    public ulong ReadUInt64()
    {
        var offset = Offset;
        var bytes = ReadIntegerBytes(sizeof(ulong), offset);
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    /// <summary>Reads a non-negative integer of at most <paramref name="maxBytes"/> bytes with no leading zeros.</summary>
    /// <param name="maxBytes">The largest size accepted; 32 (uint256) by default.</param>
    /// <exception cref="RlpException">The item is not a canonical integer or is longer than <paramref name="maxBytes"/>.</exception>
    public BigInteger ReadBigInteger(int maxBytes = 32)
    {
        var offset = Offset;
        var bytes = ReadIntegerBytes(maxBytes, offset);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Throws unless every item has been read.</summary>
    /// <exception cref="RlpException">Bytes are left over.</exception>
    public readonly void EnsureAtEnd()
    {
        if (!IsAtEnd)
        {
            var where = Depth == 0 ? "after the top-level item" : "inside the list after its last expected item";
            throw new RlpException(Offset, $"{_input.Length - _position} trailing byte(s) {where}");
        }
    }

    private ReadOnlySpan<byte> ReadIntegerBytes(int maxBytes, int offset)
    {
        var bytes = ReadString();
        if (bytes.Length > maxBytes)
        {
            throw new RlpException(offset, $"integer of {bytes.Length} bytes exceeds the {maxBytes}-byte limit");
        }

        if (bytes.Length > 0 && bytes[0] == 0)
        {
            throw new RlpException(offset, "integer has leading zero bytes (zero is the empty string 0x80)");
        }

        return bytes;
    }

    private readonly Header ReadHeader(out int payloadStart)
    {
        var remaining = _input[_position..];
        var offset = Offset;
        if (remaining.IsEmpty)
        {
            throw new RlpException(offset, "expected an item, reached the end of the input");
        }

        var prefix = remaining[0];
        Header header;
        if (prefix < 0x80)
        {
            payloadStart = _position;
            return new Header(false, 1);
        }

        if (prefix <= 0xB7)
        {
            header = new Header(false, prefix - 0x80);
            payloadStart = _position + 1;
            if (header.PayloadLength == 1 && remaining.Length > 1 && remaining[1] < 0x80)
            {
                throw new RlpException(offset, $"single byte 0x{remaining[1]:x2} below 0x80 must be encoded as itself, not as 0x81{remaining[1]:x2}");
            }
        }
        else if (prefix <= 0xBF)
        {
            header = new Header(false, ReadLongLength(remaining, prefix - 0xB7, offset));
            payloadStart = _position + 1 + (prefix - 0xB7);
        }
        else if (prefix <= 0xF7)
        {
            header = new Header(true, prefix - 0xC0);
            payloadStart = _position + 1;
        }
        else
        {
            header = new Header(true, ReadLongLength(remaining, prefix - 0xF7, offset));
            payloadStart = _position + 1 + (prefix - 0xF7);
        }

        if (header.PayloadLength > _input.Length - payloadStart)
        {
            throw new RlpException(offset, $"{(header.IsList ? "list" : "string")} length {header.PayloadLength} runs past the end of the input ({_input.Length - payloadStart} byte(s) left)");
        }

        return header;
    }

    private static int ReadLongLength(ReadOnlySpan<byte> remaining, int lengthOfLength, int offset)
    {
        if (remaining.Length < 1 + lengthOfLength)
        {
            throw new RlpException(offset, $"length of {lengthOfLength} byte(s) runs past the end of the input");
        }

        var lengthBytes = remaining.Slice(1, lengthOfLength);
        if (lengthBytes[0] == 0)
        {
            throw new RlpException(offset, "length has leading zero bytes");
        }

        ulong length = 0;
        foreach (var b in lengthBytes)
        {
            if (length > (ulong)RlpEncoder.MaxPayloadLength >> 8)
            {
                throw new RlpException(offset, $"length exceeds {RlpEncoder.MaxPayloadLength} bytes");
            }

            length = (length << 8) | b;
        }

        if (length > RlpEncoder.MaxPayloadLength)
        {
            throw new RlpException(offset, $"length exceeds {RlpEncoder.MaxPayloadLength} bytes");
        }

        if (length < 56)
        {
            throw new RlpException(offset, $"length {length} below 56 must use the short form");
        }

        return (int)length;
    }

    private readonly record struct Header(bool IsList, int PayloadLength);
}
