using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using FedAgg.Core.Codecs;

namespace FedAgg.Core.Identity;

/// <summary>
/// A libp2p peer ID: the multihash of a <c>PublicKey</c> protobuf — the identity multihash when the protobuf is at most
/// 42 bytes (Ed25519), SHA-256 otherwise. Its text form is base58btc (<c>12D3KooW…</c>); the CIDv1 form
/// (<c>bafz…</c>, multicodec <c>libp2p-key</c>) is parsed too.
/// </summary>
public sealed class PeerId : IEquatable<PeerId>
{
    /// <summary>Public key protobufs up to this length are inlined with the identity multihash.</summary>
    public const int MaxInlineKeyLength = 42;

    /// <summary>The longest text form accepted by <see cref="TryParse"/>.</summary>
    public const int MaxTextLength = 128;

    private const ulong IdentityCode = 0x00;
    private const ulong Sha256Code = 0x12;
    private const ulong LibP2pKeyCodec = 0x72;

    private readonly byte[] _multihash;
    private string? _text;

    private PeerId(byte[] multihash) => _multihash = multihash;

    /// <summary>The multihash bytes (what the text form encodes).</summary>
    public ReadOnlySpan<byte> Multihash => _multihash;

    /// <summary>The peer ID of <paramref name="publicKey"/>.</summary>
    public static PeerId FromPublicKey(Ed25519PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return FromPublicKeyProtobuf(publicKey.ToProtobuf());
    }

    /// <summary>The peer ID of any libp2p <c>PublicKey</c> protobuf, hashed as the peer-id spec says.</summary>
    public static PeerId FromPublicKeyProtobuf(ReadOnlySpan<byte> publicKeyProtobuf)
    {
        if (publicKeyProtobuf.Length <= MaxInlineKeyLength)
        {
            var multihash = new byte[2 + publicKeyProtobuf.Length];
            multihash[0] = (byte)IdentityCode;
            multihash[1] = (byte)publicKeyProtobuf.Length;
            publicKeyProtobuf.CopyTo(multihash.AsSpan(2));
            return new PeerId(multihash);
        }

        var hashed = new byte[2 + 32];
        hashed[0] = (byte)Sha256Code;
        hashed[1] = 32;
        SHA256.HashData(publicKeyProtobuf, hashed.AsSpan(2));
        return new PeerId(hashed);
    }

    /// <summary>Parses the multihash bytes of a peer ID (identity or SHA-256 multihash only).</summary>
    public static bool TryFromMultihash(ReadOnlySpan<byte> multihash, [NotNullWhen(true)] out PeerId? peerId)
    {
        peerId = IsValidMultihash(multihash) ? new PeerId(multihash.ToArray()) : null;
        return peerId is not null;
    }

    /// <summary>
    /// Parses a peer ID in its base58btc form (<c>12D3KooW…</c>, <c>Qm…</c>) or as a CIDv1 in multibase base32
    /// (<c>b…</c>) or base58btc (<c>z…</c>) with the <c>libp2p-key</c> codec. Never throws.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out PeerId? peerId)
    {
        peerId = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxTextLength)
        {
            return false;
        }

        if (text[0] == '1' || text.StartsWith("Qm", StringComparison.Ordinal))
        {
            var multihash = Base58.TryDecode(text);
            return multihash is not null && TryFromMultihash(multihash, out peerId);
        }

        var cid = text[0] switch
        {
            'b' => Base32.TryDecode(text.AsSpan(1)),
            'z' => Base58.TryDecode(text.AsSpan(1)),
            _ => null,
        };
        if (cid is null
            || UnsignedVarint.TryRead(cid, out var version, out var versionLength) != VarintStatus.Done || version != 1
            || UnsignedVarint.TryRead(cid.AsSpan(versionLength), out var codec, out var codecLength) != VarintStatus.Done
            || codec != LibP2pKeyCodec)
        {
            return false;
        }

        return TryFromMultihash(cid.AsSpan(versionLength + codecLength), out peerId);
    }

    /// <summary>Parses a peer ID as <see cref="TryParse"/> does.</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not a peer ID.</exception>
    public static PeerId Parse(string text) =>
        TryParse(text, out var peerId) ? peerId : throw new FormatException($"'{Truncate(text)}' is not a libp2p peer ID.");

    /// <summary>The Ed25519 key inlined in an identity-multihash peer ID, when there is one.</summary>
    public bool TryGetPublicKey([NotNullWhen(true)] out Ed25519PublicKey? publicKey)
    {
        publicKey = null;
        return _multihash[0] == IdentityCode && Ed25519PublicKey.TryFromProtobuf(_multihash.AsSpan(2), out publicKey, out _);
    }

    /// <summary>The CIDv1 text form: multibase base32 of (version 1, <c>libp2p-key</c>, multihash).</summary>
    public string ToCidString()
    {
        var cid = new byte[2 + _multihash.Length];
        cid[0] = 0x01;
        cid[1] = (byte)LibP2pKeyCodec;
        _multihash.CopyTo(cid, 2);
        return "b" + Base32.Encode(cid);
    }

    /// <summary>The base58btc text form.</summary>
    public override string ToString() => _text ??= Base58.Encode(_multihash);

    /// <inheritdoc />
    public bool Equals(PeerId? other) => other is not null && _multihash.AsSpan().SequenceEqual(other._multihash);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PeerId);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_multihash);
        return hash.ToHashCode();
    }

    /// <summary>Value equality: the same multihash (so <c>==</c> never silently compares references).</summary>
    public static bool operator ==(PeerId? left, PeerId? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(PeerId? left, PeerId? right) => !(left == right);

    private static bool IsValidMultihash(ReadOnlySpan<byte> multihash)
    {
        if (UnsignedVarint.TryRead(multihash, out var code, out var codeLength) != VarintStatus.Done
            || UnsignedVarint.TryRead(multihash[codeLength..], out var length, out var lengthLength) != VarintStatus.Done
            || length != (ulong)(multihash.Length - codeLength - lengthLength))
        {
            return false;
        }

        var digest = multihash[(codeLength + lengthLength)..];
        return code switch
        {
            IdentityCode => digest.Length is > 0 and <= MaxInlineKeyLength && LibP2pKeyEncoding.TryDecode(digest, out _, out _),
            Sha256Code => digest.Length == 32,
            _ => false,
        };
    }

    private static string Truncate(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "…";
}
