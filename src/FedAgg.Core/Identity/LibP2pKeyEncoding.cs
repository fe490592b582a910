using FedAgg.Core.Codecs;

namespace FedAgg.Core.Identity;

/// <summary>
/// The libp2p key protobufs (<c>message PublicKey { required KeyType Type = 1; required bytes Data = 2; }</c>, the same
/// shape for <c>PrivateKey</c>), encoded deterministically: fields in order, both present, nothing else.
/// </summary>
public static class LibP2pKeyEncoding
{
    /// <summary>The largest key protobuf accepted from a peer (an RSA-4096 public key is about 550 bytes).</summary>
    public const int MaxEncodedKeyLength = 2048;

    /// <summary>Encodes a key of <paramref name="type"/> with the raw key bytes <paramref name="data"/>.</summary>
    public static byte[] Encode(KeyType type, ReadOnlySpan<byte> data)
    {
        // Type is a proto2 required field, so it is written even when it is 0 (RSA).
        var size = 1 + UnsignedVarint.GetLength((ulong)type) + ProtoWriter.SizeBytes(2, data.Length);
        var bytes = new byte[size];
        bytes[0] = 0x08;
        var written = 1 + UnsignedVarint.Write((ulong)type, bytes.AsSpan(1));
        var writer = new ProtoWriter(bytes.AsSpan(written));
        writer.WriteBytes(2, data);
        return bytes;
    }

    /// <summary>
    /// Decodes a key protobuf. Fails (returns <c>false</c>, never throws) on truncation, unknown or repeated fields, a
    /// missing field, or an encoding longer than <see cref="MaxEncodedKeyLength"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, out KeyType type, out ReadOnlySpan<byte> data)
    {
        type = default;
        data = default;
        if (encoded.Length > MaxEncodedKeyLength)
        {
            return false;
        }

        var reader = new ProtoReader(encoded);
        bool hasType = false, hasData = false;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            switch (field)
            {
                case 1 when wireType == ProtoWireType.Varint && !hasType:
                    if (!reader.TryReadVarint(out var value) || value > int.MaxValue)
                    {
                        return false;
                    }

                    type = (KeyType)(int)value;
                    hasType = true;
                    break;
                case 2 when wireType == ProtoWireType.LengthDelimited && !hasData:
                    if (!reader.TryReadBytes(MaxEncodedKeyLength, out data))
                    {
                        return false;
                    }

                    hasData = true;
                    break;
                default:
                    return false;
            }
        }

        return hasType && hasData;
    }
}
