using System.Diagnostics.CodeAnalysis;
using FedAgg.Core.Codecs;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace FedAgg.Core.Identity;

/// <summary>An Ed25519 public key (RFC 8032): 32 bytes, immutable, compared by value.</summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    /// <summary>The size of a public key in bytes.</summary>
    public const int Length = 32;

    /// <summary>The size of a signature in bytes.</summary>
    public const int SignatureLength = 64;

    private readonly byte[] _key;
    private PeerId? _peerId;

    private Ed25519PublicKey(byte[] key) => _key = key;

    /// <summary>The 32 key bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _key;

    /// <summary>The peer ID this key identifies (identity multihash of the key protobuf).</summary>
    public PeerId PeerId => _peerId ??= PeerId.FromPublicKey(this);

    /// <summary>Wraps 32 raw key bytes. Point validity is checked when verifying, as RFC 8032 does.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    public static Ed25519PublicKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
        {
            throw new ArgumentException($"An Ed25519 public key is {Length} bytes, not {key.Length}.", nameof(key));
        }

        return new Ed25519PublicKey(key.ToArray());
    }

    /// <summary>Decodes a libp2p <c>PublicKey</c> protobuf holding an Ed25519 key.</summary>
    /// <param name="encoded">The protobuf bytes.</param>
    /// <param name="key">The key, when the result is <c>true</c>.</param>
    /// <param name="error">Why decoding failed, when the result is <c>false</c>.</param>
    public static bool TryFromProtobuf(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out Ed25519PublicKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (!LibP2pKeyEncoding.TryDecode(encoded, out var type, out var data))
        {
            error = "not a libp2p PublicKey protobuf";
            return false;
        }

        if (type != KeyType.Ed25519)
        {
            error = $"only Ed25519 keys are accepted, not {type}";
            return false;
        }

        if (data.Length != Length)
        {
            error = $"an Ed25519 public key is {Length} bytes, not {data.Length}";
            return false;
        }

        key = new Ed25519PublicKey(data.ToArray());
        error = null;
        return true;
    }

    /// <summary>The libp2p <c>PublicKey</c> protobuf of this key (36 bytes).</summary>
    public byte[] ToProtobuf() => LibP2pKeyEncoding.Encode(KeyType.Ed25519, _key);

    /// <summary>
    /// Verifies an Ed25519 signature over <paramref name="message"/>. Returns <c>false</c> for a wrong length, a
    /// non-canonical S, an invalid point, or a signature that does not match.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            return false;
        }

        return Ed25519.Verify(signature.ToArray(), 0, _key, 0, message.ToArray(), 0, message.Length);
    }

    /// <inheritdoc />
    public bool Equals(Ed25519PublicKey? other) => other is not null && _key.AsSpan().SequenceEqual(other._key);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(_key, 0);

    /// <summary>The key as 0x-prefixed lowercase hex.</summary>
    public override string ToString() => Hex.Encode(_key);
}
