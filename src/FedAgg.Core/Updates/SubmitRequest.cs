using System.Diagnostics.CodeAnalysis;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Core.Updates;

/// <summary>
/// The header of <c>/fedagg/submit/1.0.0</c>:
/// <c>SubmitRequest { bytes preimage = 1; bytes signature = 2; bytes publicKey = 3; }</c>. The payload follows it raw.
/// </summary>
/// <param name="Preimage">The encoded <see cref="UpdatePreimage"/>.</param>
/// <param name="Signature">Ed25519 over the preimage by the participant's identity key.</param>
/// <param name="PublicKey">The participant's libp2p <c>PublicKey</c> protobuf.</param>
public sealed record SubmitRequest(ReadOnlyMemory<byte> Preimage, ReadOnlyMemory<byte> Signature, ReadOnlyMemory<byte> PublicKey)
{
    /// <summary>The largest signature field accepted (Ed25519 signatures are 64 bytes; longer ones fail verification).</summary>
    public const int MaxSignatureLength = 128;

    /// <summary>An upper bound on the encoded request; a framed header longer than this is refused before reading it.</summary>
    public const int MaxEncodedLength = 3 * (1 + 2) + UpdatePreimage.MaxLength + MaxSignatureLength + LibP2pKeyEncoding.MaxEncodedKeyLength;

    /// <summary>Builds and signs a request for <paramref name="preimage"/> with <paramref name="key"/>.</summary>
    public static SubmitRequest Create(UpdatePreimage preimage, Ed25519PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(preimage);
        ArgumentNullException.ThrowIfNull(key);
        var encoded = preimage.Encode();
        return new SubmitRequest(encoded, key.Sign(encoded), key.PublicKey.ToProtobuf());
    }

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode()
    {
        var size = ProtoWriter.SizeBytes(1, Preimage.Length) + ProtoWriter.SizeBytes(2, Signature.Length) + ProtoWriter.SizeBytes(3, PublicKey.Length);
        var bytes = new byte[size];
        var writer = new ProtoWriter(bytes);
        writer.WriteBytes(1, Preimage.Span);
        writer.WriteBytes(2, Signature.Span);
        writer.WriteBytes(3, PublicKey.Span);
        return bytes;
    }

    /// <summary>
    /// Decodes a request. Never throws: truncation, a repeated field, a wrong wire type or an oversized field returns
    /// <c>false</c> with the reason; unknown fields are skipped so later protocol versions can add some.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out SubmitRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (bytes.Length > MaxEncodedLength)
        {
            error = $"the request is {bytes.Length} bytes, more than {MaxEncodedLength}";
            return false;
        }

        var reader = new ProtoReader(bytes);
        ReadOnlySpan<byte> preimage = default, signature = default, publicKey = default;
        bool hasPreimage = false, hasSignature = false, hasPublicKey = false;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "the request is not a valid protobuf";
                return false;
            }

            var ok = (field, wireType) switch
            {
                (1, ProtoWireType.LengthDelimited) => !hasPreimage && (hasPreimage = reader.TryReadBytes(UpdatePreimage.MaxLength, out preimage)),
                (2, ProtoWireType.LengthDelimited) => !hasSignature && (hasSignature = reader.TryReadBytes(MaxSignatureLength, out signature)),
                (3, ProtoWireType.LengthDelimited) => !hasPublicKey && (hasPublicKey = reader.TryReadBytes(LibP2pKeyEncoding.MaxEncodedKeyLength, out publicKey)),
                (1 or 2 or 3, _) => false,
                _ => reader.TrySkip(wireType),
            };
            if (!ok)
            {
                error = field is >= 1 and <= 3
                    ? $"field {field} of the request is repeated, of the wrong type, truncated or too long"
                    : "the request is not a valid protobuf";
                return false;
            }
        }

        if (!hasPreimage || !hasSignature || !hasPublicKey)
        {
            error = !hasPreimage ? "the request has no preimage" : !hasSignature ? "the request has no signature" : "the request has no public key";
            return false;
        }

        request = new SubmitRequest(preimage.ToArray(), signature.ToArray(), publicKey.ToArray());
        error = null;
        return true;
    }
}
