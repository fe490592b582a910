using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace FedAgg.Core.Identity;

/// <summary>
/// An Ed25519 private key (the 32-byte RFC 8032 seed) with its public key. The seed never leaves this object except
/// through <see cref="ToProtobuf"/> (for key files); <see cref="ToString"/> shows only the peer ID. Disposing wipes it.
/// </summary>
public sealed class Ed25519PrivateKey : IDisposable
{
    /// <summary>The size of the seed in bytes.</summary>
    public const int SeedLength = 32;

    private readonly byte[] _seed;
    private bool _disposed;

    private Ed25519PrivateKey(byte[] seed)
    {
        _seed = seed;
        var publicKey = new byte[Ed25519PublicKey.Length];
        Ed25519.GeneratePublicKey(_seed, 0, publicKey, 0);
        PublicKey = Ed25519PublicKey.FromBytes(publicKey);
    }

    /// <summary>The matching public key.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>The peer ID of this identity.</summary>
    public PeerId PeerId => PublicKey.PeerId;

    /// <summary>A new key from the operating system's CSPRNG.</summary>
    public static Ed25519PrivateKey Generate() => new(RandomNumberGenerator.GetBytes(SeedLength));

    /// <summary>The key derived from a 32-byte seed (RFC 8032 private key).</summary>
    /// <exception cref="ArgumentException"><paramref name="seed"/> is not 32 bytes.</exception>
    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes.", nameof(seed));
        }

        return new Ed25519PrivateKey(seed.ToArray());
    }

    /// <summary>
    /// Decodes a libp2p <c>PrivateKey</c> protobuf holding an Ed25519 key: 64 bytes of seed followed by the public key
    /// (the form go-libp2p and js-libp2p write); the public half must match the seed.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not such a key; the message never contains key material.</exception>
    public static Ed25519PrivateKey FromProtobuf(ReadOnlySpan<byte> encoded)
    {
        if (!LibP2pKeyEncoding.TryDecode(encoded, out var type, out var data))
        {
            throw new FormatException("The bytes are not a libp2p PrivateKey protobuf.");
        }

        if (type != KeyType.Ed25519)
        {
            throw new FormatException($"The key is a {type} key; FedAgg identities are Ed25519.");
        }

        if (data.Length != SeedLength + Ed25519PublicKey.Length)
        {
            throw new FormatException($"An Ed25519 private key is {SeedLength + Ed25519PublicKey.Length} bytes (seed and public key), not {data.Length}.");
        }

        var key = new Ed25519PrivateKey(data[..SeedLength].ToArray());
        if (!key.PublicKey.Bytes.SequenceEqual(data[SeedLength..]))
        {
            key.Dispose();
            throw new FormatException("The public half of the Ed25519 private key does not match its seed.");
        }

        return key;
    }

    /// <summary>The libp2p <c>PrivateKey</c> protobuf (seed ‖ public key). Treat the result as secret.</summary>
    public byte[] ToProtobuf()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var data = new byte[SeedLength + Ed25519PublicKey.Length];
        try
        {
            _seed.CopyTo(data, 0);
            PublicKey.Bytes.CopyTo(data.AsSpan(SeedLength));
            return LibP2pKeyEncoding.Encode(KeyType.Ed25519, data);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>Signs <paramref name="message"/> (deterministic RFC 8032 Ed25519) and returns the 64-byte signature.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[Ed25519PublicKey.SignatureLength];
        Sign(message, signature);
        return signature;
    }

    /// <summary>Signs <paramref name="message"/> into the first 64 bytes of <paramref name="signature"/>.</summary>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (signature.Length < Ed25519PublicKey.SignatureLength)
        {
            throw new ArgumentException("The signature buffer must hold 64 bytes.", nameof(signature));
        }

        var result = new byte[Ed25519PublicKey.SignatureLength];
        Ed25519.Sign(_seed, 0, PublicKey.Bytes.ToArray(), 0, message.ToArray(), 0, message.Length, result, 0);
        result.CopyTo(signature);
    }

    /// <summary>Shows the peer ID only.</summary>
    public override string ToString() => $"Ed25519 private key of {PeerId}";

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_seed);
            _disposed = true;
        }
    }
}
