using System.Diagnostics.CodeAnalysis;
using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// The libp2p Noise handshake payload:
/// <c>NoiseHandshakePayload { bytes identity_key = 1; bytes identity_sig = 2; NoiseExtensions extensions = 4; }</c> with
/// <c>NoiseExtensions { repeated bytes webtransport_certhashes = 1; repeated string stream_muxers = 2; }</c>.
/// </summary>
internal sealed class NoiseHandshakePayload
{
    /// <summary>The prefix of the signed bytes: the signature covers this followed by the static X25519 key.</summary>
    public const string SignaturePrefix = "noise-libp2p-static-key:";

    private const int MaxKeyLength = 1024;
    private const int MaxSignatureLength = 1024;
    private const int MaxExtensionsLength = 8192;
    private const int MaxMuxers = 16;

    public NoiseHandshakePayload(byte[] identityKey, byte[] identitySignature, IReadOnlyList<string> streamMuxers)
    {
        IdentityKey = identityKey;
        IdentitySignature = identitySignature;
        StreamMuxers = streamMuxers;
    }

    /// <summary>The libp2p PublicKey protobuf of the identity.</summary>
    public byte[] IdentityKey { get; }

    public byte[] IdentitySignature { get; }

    /// <summary>Muxers offered for early negotiation, in preference order; empty when none were sent.</summary>
    public IReadOnlyList<string> StreamMuxers { get; }

    /// <summary>The bytes the identity signs for <paramref name="staticPublicKey"/>.</summary>
    public static byte[] SignedBytes(ReadOnlySpan<byte> staticPublicKey)
    {
        var prefix = Encoding.ASCII.GetBytes(SignaturePrefix);
        var bytes = new byte[prefix.Length + staticPublicKey.Length];
        prefix.CopyTo(bytes, 0);
        staticPublicKey.CopyTo(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    /// <summary>The payload for <paramref name="identity"/> signing <paramref name="staticPublicKey"/>.</summary>
    public static NoiseHandshakePayload Create(Ed25519PrivateKey identity, ReadOnlySpan<byte> staticPublicKey, IReadOnlyList<string> streamMuxers) =>
        new(identity.PublicKey.ToProtobuf(), identity.Sign(SignedBytes(staticPublicKey)), streamMuxers);

    public byte[] Encode()
    {
        var extensionsSize = 0;
        foreach (var muxer in StreamMuxers)
        {
            extensionsSize += ProtoWriter.SizeBytes(2, Encoding.UTF8.GetByteCount(muxer));
        }

        var size = ProtoWriter.SizeBytes(1, IdentityKey.Length) + ProtoWriter.SizeBytes(2, IdentitySignature.Length);
        if (StreamMuxers.Count > 0)
        {
            // An empty extensions message is omitted altogether, as js-libp2p's encoder would write it only when set.
            size += ProtoWriter.SizeBytes(4, extensionsSize);
        }

        var bytes = new byte[size];
        var writer = new ProtoWriter(bytes);
        writer.WriteBytes(1, IdentityKey);
        writer.WriteBytes(2, IdentitySignature);
        if (StreamMuxers.Count > 0)
        {
            var extensions = new byte[extensionsSize];
            var inner = new ProtoWriter(extensions);
            foreach (var muxer in StreamMuxers)
            {
                inner.WriteBytes(2, Encoding.UTF8.GetBytes(muxer));
            }

            writer.WriteBytes(4, extensions);
        }

        return bytes;
    }

    /// <summary>Decodes a payload; unknown fields are skipped, oversized ones refused.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out NoiseHandshakePayload? payload, [NotNullWhen(false)] out string? error)
    {
        payload = null;
        byte[]? key = null;
        byte[]? signature = null;
        var muxers = new List<string>();
        var reader = new ProtoReader(bytes);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "malformed protobuf tag";
                return false;
            }

            switch (field)
            {
                case 1 when wireType == ProtoWireType.LengthDelimited:
                    if (!reader.TryReadBytes(MaxKeyLength, out var keyBytes))
                    {
                        error = "bad identity_key";
                        return false;
                    }

                    key = keyBytes.ToArray();
                    break;
                case 2 when wireType == ProtoWireType.LengthDelimited:
                    if (!reader.TryReadBytes(MaxSignatureLength, out var signatureBytes))
                    {
                        error = "bad identity_sig";
                        return false;
                    }

                    signature = signatureBytes.ToArray();
                    break;
                case 4 when wireType == ProtoWireType.LengthDelimited:
                    if (!reader.TryReadBytes(MaxExtensionsLength, out var extensions) || !TryDecodeExtensions(extensions, muxers))
                    {
                        error = "bad extensions";
                        return false;
                    }

                    break;
                default:
                    if (!reader.TrySkip(wireType))
                    {
                        error = $"malformed field {field}";
                        return false;
                    }

                    break;
            }
        }

        if (key is null || signature is null)
        {
            error = key is null ? "identity_key missing" : "identity_sig missing";
            return false;
        }

        payload = new NoiseHandshakePayload(key, signature, muxers);
        error = null;
        return true;
    }

    private static bool TryDecodeExtensions(ReadOnlySpan<byte> bytes, List<string> muxers)
    {
        var reader = new ProtoReader(bytes);
        var strict = new UTF8Encoding(false, true);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (field == 2 && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadBytes(Multistream.MultistreamCodec.MaxMessageLength, out var muxer) || muxers.Count >= MaxMuxers)
                {
                    return false;
                }

                try
                {
                    muxers.Add(strict.GetString(muxer));
                }
                catch (DecoderFallbackException)
                {
                    return false;
                }
            }
            else if (!reader.TrySkip(wireType))
            {
                return false;
            }
        }

        return true;
    }
}
