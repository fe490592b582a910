using System.Security.Cryptography;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// A host's Noise static X25519 key pair with its identity-signed handshake payloads, made once and used for every
/// connection, as js-libp2p and go-libp2p do. A fresh static key per connection would cost each handshake one more
/// X25519 base-point multiplication and one Ed25519 signature and buy nothing: forward secrecy comes from the
/// ephemeral keys, and the peer learns the static key only together with the identity that signed it.
/// </summary>
internal sealed class NoiseStaticKey : IDisposable
{
    private readonly byte[] _privateKey;
    private readonly Ed25519PrivateKey _identity;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, byte[]> _payloads = new(StringComparer.Ordinal);

    private NoiseStaticKey(Ed25519PrivateKey identity, byte[] privateKey)
    {
        _identity = identity;
        _privateKey = privateKey;
        PublicKey = NoiseXXHandshakeState.PublicKeyOf(privateKey);
    }

    /// <summary>The X25519 public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The X25519 private key (the handshake state copies it).</summary>
    public ReadOnlySpan<byte> PrivateKey => _privateKey;

    /// <summary>A new random static key for <paramref name="identity"/> (which it signs with, and does not own).</summary>
    public static NoiseStaticKey Generate(Ed25519PrivateKey identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new NoiseStaticKey(identity, RandomNumberGenerator.GetBytes(NoiseXXHandshakeState.DhLength));
    }

    /// <summary>The encoded handshake payload offering <paramref name="streamMuxers"/>; signed once per muxer list.</summary>
    public byte[] GetPayload(IReadOnlyList<string> streamMuxers)
    {
        var key = string.Join('\n', streamMuxers);
        lock (_gate)
        {
            if (!_payloads.TryGetValue(key, out var payload))
            {
                payload = NoiseHandshakePayload.Create(_identity, PublicKey, streamMuxers).Encode();
                _payloads[key] = payload;
            }

            return payload;
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_privateKey);
}
