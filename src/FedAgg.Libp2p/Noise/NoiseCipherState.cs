using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// A Noise CipherState for ChaChaPoly: a 32-byte key and a 64-bit counter; the AEAD nonce is four zero bytes followed by
/// the counter in little-endian (Noise spec §12.3). Ciphertexts carry a 16-byte tag after the encrypted bytes.
/// </summary>
internal sealed class NoiseCipherState : IDisposable
{
    /// <summary>The Poly1305 tag length.</summary>
    public const int TagLength = 16;

    private readonly ChaCha20Poly1305? _aead;
    private ulong _nonce;

    /// <summary>A state without a key: encryption is the identity (as before the first DH in a handshake).</summary>
    public NoiseCipherState()
    {
    }

    public NoiseCipherState(ReadOnlySpan<byte> key)
    {
        _aead = new ChaCha20Poly1305(key);
    }

    public bool HasKey => _aead is not null;

    /// <summary>The counter used by the next operation.</summary>
    public ulong Nonce => _nonce;

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="destination"/> (plaintext length + 16 bytes) and advances the nonce.</summary>
    public int Encrypt(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        if (_aead is null)
        {
            plaintext.CopyTo(destination);
            return plaintext.Length;
        }

        CheckNonce();
        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce);
        _aead.Encrypt(nonce, plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagLength), associatedData);
        _nonce++;
        return plaintext.Length + TagLength;
    }

    /// <summary>
    /// Decrypts and authenticates <paramref name="ciphertext"/> into <paramref name="destination"/>; returns the plaintext
    /// length, or -1 when authentication fails (the nonce is not advanced then, and the channel must be dropped).
    /// </summary>
    public int Decrypt(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        if (_aead is null)
        {
            ciphertext.CopyTo(destination);
            return ciphertext.Length;
        }

        if (ciphertext.Length < TagLength)
        {
            return -1;
        }

        CheckNonce();
        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce);
        var length = ciphertext.Length - TagLength;
        try
        {
            _aead.Decrypt(nonce, ciphertext[..length], ciphertext[length..], destination[..length], associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            destination[..length].Clear();
            return -1;
        }

        _nonce++;
        return length;
    }

    public void Dispose() => _aead?.Dispose();

    private void WriteNonce(Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce);
    }

    private void CheckNonce()
    {
        // 2^64-1 is reserved by the Noise spec; js-libp2p stops at 2^32 already.
        if (_nonce == ulong.MaxValue)
        {
            throw new Libp2pException("The Noise nonce is exhausted; the connection must be re-established.");
        }
    }
}
