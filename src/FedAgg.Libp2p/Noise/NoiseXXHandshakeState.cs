using System.Security.Cryptography;
using System.Text;
using FedAgg.Core.Crypto;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// The Noise XX pattern (<c>-&gt; e; &lt;- e, ee, s, es; -&gt; s, se</c>) for <c>Noise_XX_25519_ChaChaPoly_SHA256</c>,
/// written from the Noise spec (revision 34) sections 5.1–5.3. Message payloads are passed in and out; the caller
/// frames messages and checks the payload. Every read returns <c>null</c> instead of throwing when peer bytes are bad.
/// </summary>
internal sealed class NoiseXXHandshakeState : IDisposable
{
    /// <summary>The protocol name; exactly 32 bytes, so it is used as the initial hash without hashing.</summary>
    public const string ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";

    /// <summary>X25519 key and DH output length.</summary>
    public const int DhLength = 32;

    private readonly bool _initiator;
    private readonly byte[] _staticPrivate;
    private readonly byte[] _staticPublic;
    private readonly byte[] _ephemeralPrivate;
    private readonly byte[] _ephemeralPublic;
    private byte[] _ck;
    private byte[] _h;
    private NoiseCipherState _cipher = new();
    private byte[]? _remoteEphemeral;

    /// <param name="initiator">Whether this side sends the first message.</param>
    /// <param name="staticPrivateKey">The local static X25519 private key.</param>
    /// <param name="prologue">Bytes both sides mix in first (libp2p uses none).</param>
    /// <param name="ephemeralPrivateKey">A fixed ephemeral key for test vectors; a fresh random one otherwise.</param>
    /// <param name="staticPublicKey">The public key of <paramref name="staticPrivateKey"/> when the caller has it already;
    /// computed otherwise.</param>
    public NoiseXXHandshakeState(
        bool initiator,
        ReadOnlySpan<byte> staticPrivateKey,
        ReadOnlySpan<byte> prologue,
        ReadOnlySpan<byte> ephemeralPrivateKey = default,
        ReadOnlySpan<byte> staticPublicKey = default)
    {
        _initiator = initiator;
        _staticPrivate = staticPrivateKey.ToArray();
        _staticPublic = staticPublicKey.IsEmpty ? PublicKeyOf(_staticPrivate) : staticPublicKey.ToArray();
        _ephemeralPrivate = ephemeralPrivateKey.IsEmpty ? RandomNumberGenerator.GetBytes(DhLength) : ephemeralPrivateKey.ToArray();
        _ephemeralPublic = PublicKeyOf(_ephemeralPrivate);
        _h = Encoding.ASCII.GetBytes(ProtocolName);
        _ck = (byte[])_h.Clone();
        MixHash(prologue);
    }

    /// <summary>The remote static key once message B (initiator) or C (responder) has been read.</summary>
    public byte[]? RemoteStaticKey { get; private set; }

    /// <summary>The local static public key.</summary>
    public ReadOnlySpan<byte> StaticPublicKey => _staticPublic;

    /// <summary>The handshake hash (channel binding), valid once the handshake completed.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _h;

    /// <summary>The X25519 public key of <paramref name="privateKey"/> (BouncyCastle's fixed-base tables beat a ladder here;
    /// the shared secrets go through <see cref="Curve25519"/>).</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> privateKey)
    {
        var publicKey = new byte[DhLength];
        X25519.ScalarMultBase(privateKey.ToArray(), 0, publicKey, 0);
        return publicKey;
    }

    /// <summary>Message A (initiator): e, then the payload (unencrypted, as no key exists yet).</summary>
    public byte[] WriteMessageA(ReadOnlySpan<byte> payload)
    {
        EnsureRole(true);
        var message = new byte[DhLength + payload.Length];
        _ephemeralPublic.CopyTo(message, 0);
        MixHash(_ephemeralPublic);
        EncryptAndHash(payload, message.AsSpan(DhLength));
        return message;
    }

    /// <summary>Reads message A (responder); returns its payload or <c>null</c>.</summary>
    public byte[]? ReadMessageA(ReadOnlySpan<byte> message)
    {
        EnsureRole(false);
        if (message.Length < DhLength)
        {
            return null;
        }

        _remoteEphemeral = message[..DhLength].ToArray();
        MixHash(_remoteEphemeral);
        return DecryptAndHash(message[DhLength..]);
    }

    /// <summary>Message B (responder): e, ee, s, es, then the encrypted payload.</summary>
    public byte[]? WriteMessageB(ReadOnlySpan<byte> payload)
    {
        EnsureRole(false);
        var message = new byte[DhLength + DhLength + NoiseCipherState.TagLength + payload.Length + NoiseCipherState.TagLength];
        _ephemeralPublic.CopyTo(message, 0);
        MixHash(_ephemeralPublic);
        if (!MixDh(_ephemeralPrivate, _remoteEphemeral!))
        {
            return null;
        }

        var offset = DhLength;
        offset += EncryptAndHash(_staticPublic, message.AsSpan(offset));
        if (!MixDh(_staticPrivate, _remoteEphemeral!))
        {
            return null;
        }

        EncryptAndHash(payload, message.AsSpan(offset));
        return message;
    }

    /// <summary>Reads message B (initiator); returns its payload or <c>null</c>.</summary>
    public byte[]? ReadMessageB(ReadOnlySpan<byte> message)
    {
        EnsureRole(true);
        const int StaticLength = DhLength + NoiseCipherState.TagLength;
        if (message.Length < DhLength + StaticLength + NoiseCipherState.TagLength)
        {
            return null;
        }

        _remoteEphemeral = message[..DhLength].ToArray();
        MixHash(_remoteEphemeral);
        if (!MixDh(_ephemeralPrivate, _remoteEphemeral))
        {
            return null;
        }

        var remoteStatic = DecryptAndHash(message.Slice(DhLength, StaticLength));
        if (remoteStatic is null || !MixDh(_ephemeralPrivate, remoteStatic))
        {
            return null;
        }

        RemoteStaticKey = remoteStatic;
        return DecryptAndHash(message[(DhLength + StaticLength)..]);
    }

    /// <summary>Message C (initiator): s, se, then the encrypted payload.</summary>
    public byte[]? WriteMessageC(ReadOnlySpan<byte> payload)
    {
        EnsureRole(true);
        var message = new byte[DhLength + NoiseCipherState.TagLength + payload.Length + NoiseCipherState.TagLength];
        var offset = EncryptAndHash(_staticPublic, message);
        if (!MixDh(_staticPrivate, _remoteEphemeral!))
        {
            return null;
        }

        EncryptAndHash(payload, message.AsSpan(offset));
        return message;
    }

    /// <summary>Reads message C (responder); returns its payload or <c>null</c>.</summary>
    public byte[]? ReadMessageC(ReadOnlySpan<byte> message)
    {
        EnsureRole(false);
        const int StaticLength = DhLength + NoiseCipherState.TagLength;
        if (message.Length < StaticLength + NoiseCipherState.TagLength)
        {
            return null;
        }

        var remoteStatic = DecryptAndHash(message[..StaticLength]);
        if (remoteStatic is null || !MixDh(_ephemeralPrivate, remoteStatic))
        {
            return null;
        }

        RemoteStaticKey = remoteStatic;
        return DecryptAndHash(message[StaticLength..]);
    }

    /// <summary>The two transport cipher states: (send, receive) for this side.</summary>
    public (NoiseCipherState Send, NoiseCipherState Receive) Split()
    {
        Span<byte> k1 = stackalloc byte[32];
        Span<byte> k2 = stackalloc byte[32];
        Hkdf(_ck, [], k1, k2);
        var first = new NoiseCipherState(k1);
        var second = new NoiseCipherState(k2);
        CryptographicOperations.ZeroMemory(k1);
        CryptographicOperations.ZeroMemory(k2);
        return _initiator ? (first, second) : (second, first);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_staticPrivate);
        CryptographicOperations.ZeroMemory(_ephemeralPrivate);
        CryptographicOperations.ZeroMemory(_ck);
        _cipher.Dispose();
    }

    /// <summary>The Noise HKDF with two outputs (HMAC-SHA256 as the spec's §4.3 defines it).</summary>
    internal static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2)
    {
        Span<byte> tempKey = stackalloc byte[32];
        HMACSHA256.HashData(chainingKey, inputKeyMaterial, tempKey);
        HMACSHA256.HashData(tempKey, [0x01], output1);
        Span<byte> input2 = stackalloc byte[33];
        output1.CopyTo(input2);
        input2[32] = 0x02;
        HMACSHA256.HashData(tempKey, input2, output2);
        CryptographicOperations.ZeroMemory(tempKey);
    }

    private static bool TryDh(byte[] privateKey, byte[] publicKey, Span<byte> output)
    {
        Curve25519.ScalarMult(privateKey, publicKey, output[..DhLength]);
        // An all-zero result means a low-order point: refuse it rather than derive a predictable key.
        var allZero = true;
        foreach (var b in output[..DhLength])
        {
            allZero &= b == 0;
        }

        return !allZero;
    }

    private bool MixDh(byte[] privateKey, byte[] publicKey)
    {
        Span<byte> shared = stackalloc byte[DhLength];
        if (!TryDh(privateKey, publicKey, shared))
        {
            return false;
        }

        MixKey(shared);
        CryptographicOperations.ZeroMemory(shared);
        return true;
    }

    private void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        var ck = new byte[32];
        Span<byte> key = stackalloc byte[32];
        Hkdf(_ck, inputKeyMaterial, ck, key);
        CryptographicOperations.ZeroMemory(_ck);
        _ck = ck;
        _cipher.Dispose();
        _cipher = new NoiseCipherState(key);
        CryptographicOperations.ZeroMemory(key);
    }

    private void MixHash(ReadOnlySpan<byte> data)
    {
        var buffer = new byte[_h.Length + data.Length];
        _h.CopyTo(buffer, 0);
        data.CopyTo(buffer.AsSpan(_h.Length));
        _h = SHA256.HashData(buffer);
    }

    private int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        var written = _cipher.Encrypt(_h, plaintext, destination);
        MixHash(destination[..written]);
        return written;
    }

    private byte[]? DecryptAndHash(ReadOnlySpan<byte> ciphertext)
    {
        var plaintext = new byte[_cipher.HasKey ? Math.Max(0, ciphertext.Length - NoiseCipherState.TagLength) : ciphertext.Length];
        var length = _cipher.Decrypt(_h, ciphertext, plaintext);
        if (length < 0)
        {
            return null;
        }

        MixHash(ciphertext);
        return plaintext;
    }

    private void EnsureRole(bool initiator)
    {
        if (_initiator != initiator)
        {
            throw new InvalidOperationException(initiator ? "Only the initiator writes this message." : "Only the responder handles this message.");
        }
    }
}
