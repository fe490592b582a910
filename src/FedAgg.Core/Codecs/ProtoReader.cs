namespace FedAgg.Core.Codecs;

/// <summary>
/// A forward-only protobuf reader over a complete message held in memory. It never throws on peer bytes: every
/// method reports failure with <c>false</c>, and lengths are checked against the remaining bytes before use.
/// </summary>
public ref struct ProtoReader
{
    private ReadOnlySpan<byte> _remaining;

    /// <summary>Starts reading <paramref name="message"/>.</summary>
    public ProtoReader(ReadOnlySpan<byte> message) => _remaining = message;

    /// <summary>Whether every byte has been read.</summary>
    public readonly bool IsAtEnd => _remaining.IsEmpty;

    /// <summary>Reads the next field's number and wire type.</summary>
    public bool TryReadTag(out int fieldNumber, out ProtoWireType wireType)
    {
        fieldNumber = 0;
        wireType = default;
        if (!TryReadVarint(out var tag) || tag > int.MaxValue)
        {
            return false;
        }

        fieldNumber = (int)(tag >> 3);
        wireType = (ProtoWireType)(tag & 7);
        return fieldNumber > 0;
    }

    /// <summary>Reads a varint-encoded value (protobuf allows up to 10 bytes; non-minimal encodings are accepted as protobuf does).</summary>
    public bool TryReadVarint(out ulong value)
    {
        value = 0;
        for (var i = 0; i < 10 && i < _remaining.Length; i++)
        {
            var b = _remaining[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                _remaining = _remaining[(i + 1)..];
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <summary>Reads a length-delimited field whose length must not exceed <paramref name="maxLength"/>.</summary>
    public bool TryReadBytes(int maxLength, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!TryReadVarint(out var length) || length > (ulong)maxLength || length > (ulong)_remaining.Length)
        {
            return false;
        }

        value = _remaining[..(int)length];
        _remaining = _remaining[(int)length..];
        return true;
    }

    /// <summary>Skips a field of an unknown number so newer peers can add fields; groups (deprecated) are refused.</summary>
    public bool TrySkip(ProtoWireType wireType)
    {
        switch (wireType)
        {
            case ProtoWireType.Varint:
                return TryReadVarint(out _);
            case ProtoWireType.Fixed64:
                return TryAdvance(8);
            case ProtoWireType.LengthDelimited:
                return TryReadBytes(int.MaxValue, out _);
            case ProtoWireType.Fixed32:
                return TryAdvance(4);
            default:
                return false;
        }
    }

    private bool TryAdvance(int count)
    {
        if (_remaining.Length < count)
        {
            return false;
        }

        _remaining = _remaining[count..];
        return true;
    }
}

/// <summary>Protobuf wire types.</summary>
public enum ProtoWireType
{
    /// <summary>int32, uint64, bool, enum…</summary>
    Varint = 0,

    /// <summary>fixed64, double.</summary>
    Fixed64 = 1,

    /// <summary>bytes, string, embedded messages.</summary>
    LengthDelimited = 2,

    /// <summary>Deprecated start group.</summary>
    StartGroup = 3,

    /// <summary>Deprecated end group.</summary>
    EndGroup = 4,

    /// <summary>fixed32, float.</summary>
    Fixed32 = 5,
}
