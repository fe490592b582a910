namespace FedAgg.Core.Codecs;

/// <summary>
/// Writes protobuf fields in field-number order into a span sized beforehand with the matching <c>Size…</c> methods,
/// which gives the deterministic encoding libp2p requires for keys. Default values (0, empty) are omitted, as proto3 does.
/// </summary>
public ref struct ProtoWriter
{
    private readonly Span<byte> _destination;

    /// <summary>Starts writing at the beginning of <paramref name="destination"/>.</summary>
    public ProtoWriter(Span<byte> destination) => _destination = destination;

    /// <summary>The number of bytes written so far.</summary>
    public int Written { get; private set; }

    /// <summary>The encoded size of a varint field, 0 when <paramref name="value"/> is 0.</summary>
    public static int SizeVarint(int fieldNumber, ulong value) =>
        value == 0 ? 0 : UnsignedVarint.GetLength((ulong)fieldNumber << 3) + UnsignedVarint.GetLength(value);

    /// <summary>The encoded size of a bytes/string field of <paramref name="length"/> bytes, 0 when empty.</summary>
    public static int SizeBytes(int fieldNumber, int length) =>
        length == 0 ? 0 : UnsignedVarint.GetLength((ulong)fieldNumber << 3) + UnsignedVarint.GetLength((ulong)length) + length;

    /// <summary>Writes a varint field unless <paramref name="value"/> is 0.</summary>
    public void WriteVarint(int fieldNumber, ulong value)
    {
        if (value == 0)
        {
            return;
        }

        Written += UnsignedVarint.Write(((ulong)fieldNumber << 3) | (ulong)ProtoWireType.Varint, _destination[Written..]);
        Written += UnsignedVarint.Write(value, _destination[Written..]);
    }

    /// <summary>Writes a length-delimited field unless <paramref name="value"/> is empty.</summary>
    public void WriteBytes(int fieldNumber, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        Written += UnsignedVarint.Write(((ulong)fieldNumber << 3) | (ulong)ProtoWireType.LengthDelimited, _destination[Written..]);
        Written += UnsignedVarint.Write((ulong)value.Length, _destination[Written..]);
        value.CopyTo(_destination[Written..]);
        Written += value.Length;
    }
}
