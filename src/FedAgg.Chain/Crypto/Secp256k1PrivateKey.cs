using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace FedAgg.Chain.Crypto;

/// <summary>
/// A secp256k1 private key: signs 32-byte hashes deterministically (RFC 6979 with HMAC-SHA256, as Foundry/alloy do),
/// always with low s (EIP-2). The key never appears in <see cref="ToString"/>, exception messages or logs; dispose
/// to zero the copy held here.
/// </summary>
public sealed class Secp256k1PrivateKey : IDisposable
{
    /// <summary>The key length: 32 bytes.</summary>
    public const int Size = 32;

    private readonly byte[] _key;
    private readonly byte[] _publicKey;
    private bool _disposed;

    private Secp256k1PrivateKey(byte[] key)
    {
        _key = key;
        var d = new BcBigInteger(1, key);
        _publicKey = Secp256k1.Multiplier.Multiply(Secp256k1.Domain.G, d).Normalize().GetEncoded(false);
        Address = EthereumAddress.FromPublicKey(_publicKey);
    }

    /// <summary>The key's Ethereum address.</summary>
    public EthereumAddress Address { get; }

    /// <summary>The uncompressed public key: 65 bytes, 0x04 || X || Y (a new copy each time).</summary>
    public byte[] PublicKeyUncompressed => (byte[])_publicKey.Clone();

    /// <summary>Copies a 32-byte big-endian key.</summary>
    /// <param name="key32">The key: from 1 to n − 1.</param>
    /// <exception cref="ArgumentException">The key is not 32 bytes, is zero or is not below the curve order.</exception>
    public static Secp256k1PrivateKey FromBytes(ReadOnlySpan<byte> key32)
    {
        if (key32.Length != Size)
        {
            throw new ArgumentException($"A secp256k1 private key is {Size} bytes, got {key32.Length}.", nameof(key32));
        }

        if (!IsValid(key32))
        {
            throw new ArgumentException("A secp256k1 private key must be from 1 to n - 1 (the key is zero or not below the curve order).", nameof(key32));
        }

        return new Secp256k1PrivateKey(key32.ToArray());
    }

    /// <summary>Parses 64 hex digits, with or without <c>0x</c>.</summary>
    /// <param name="hex">The key as hex.</param>
    /// <exception cref="ArgumentNullException"><paramref name="hex"/> is null.</exception>
    /// <exception cref="FormatException">The text is not 64 hex digits (the message does not repeat it).</exception>
    /// <exception cref="ArgumentException">The key is zero or not below the curve order.</exception>
    public static Secp256k1PrivateKey FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = hex.AsSpan().Trim();
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        Span<byte> key = stackalloc byte[Size];
        try
        {
            if (digits.Length != 2 * Size
                || Convert.FromHexString(digits, key, out _, out var written) != System.Buffers.OperationStatus.Done
                || written != Size)
            {
                throw new FormatException($"A secp256k1 private key is {2 * Size} hex digits (0x optional); the text has {digits.Length} characters or non-hex ones.");
            }

            return FromBytes(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>A new random key from the operating system's CSPRNG.</summary>
    public static Secp256k1PrivateKey Generate()
    {
        var key = new byte[Size];
        do
        {
            RandomNumberGenerator.Fill(key);
        }
        while (!IsValid(key));

        return new Secp256k1PrivateKey(key);
    }

    /// <summary>
    /// Signs a 32-byte hash: k from RFC 6979 (HMAC-SHA256), s normalised to at most n / 2 (flipping the recovery id),
    /// so the same key and hash always give the same signature, and the one <c>cast wallet sign --no-hash</c> gives.
    /// </summary>
    /// <param name="hash32">The 32-byte hash to sign.</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public Secp256k1Signature SignHash(ReadOnlySpan<byte> hash32)
    {
        Secp256k1.CheckHash(hash32);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var domain = Secp256k1.Domain;
        var n = domain.N;
        var d = new BcBigInteger(1, _key);
        var message = hash32.ToArray();
        var e = new BcBigInteger(1, message);
        var k = new HMacDsaKCalculator(new Sha256Digest());
        k.Init(n, d, message);

        // As BouncyCastle's ECDsaSigner, with the recovery id kept: the next k on the (astronomically rare) r = 0,
        // s = 0 or R.x ≥ n, so the recovery id is always 0 or 1.
        while (true)
        {
            var nonce = k.NextK();
            var point = Secp256k1.Multiplier.Multiply(domain.G, nonce).Normalize();
            var x = point.AffineXCoord.ToBigInteger();
            if (x.CompareTo(n) >= 0)
            {
                continue;
            }

            var r = x;
            if (r.SignValue == 0)
            {
                continue;
            }

            var s = nonce.ModInverse(n).Multiply(e.Add(d.Multiply(r))).Mod(n);
            if (s.SignValue == 0)
            {
                continue;
            }

            var recoveryId = (byte)(point.AffineYCoord.TestBitZero() ? 1 : 0);
            var sValue = Secp256k1.ToNumerics(s);
            if (sValue > Secp256k1.HalfOrder)
            {
                sValue = Secp256k1.Order - sValue;
                recoveryId ^= 1;
            }

            return new Secp256k1Signature(Secp256k1.ToNumerics(r), sValue, recoveryId);
        }
    }

    /// <summary>Copies the 32 key bytes into <paramref name="key32"/> (for key files; keep the copy short-lived).</summary>
    /// <param name="key32">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="key32"/> is too short.</exception>
    /// <exception cref="ObjectDisposedException">The key was disposed.</exception>
    public void ExportTo(Span<byte> key32)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (key32.Length < Size)
        {
            throw new ArgumentException($"Destination needs {Size} bytes, has {key32.Length}.", nameof(key32));
        }

        _key.CopyTo(key32);
    }

    /// <summary>Names the address only, never the key.</summary>
    public override string ToString() => $"secp256k1 key for {Address}";

    /// <summary>Zeroes the key bytes held by this instance.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        _disposed = true;
    }

    private static bool IsValid(ReadOnlySpan<byte> key32)
    {
        if (key32.IndexOfAnyExcept((byte)0) < 0)
        {
            return false;
        }

        var d = new System.Numerics.BigInteger(key32, isUnsigned: true, isBigEndian: true);
        return d < Secp256k1.Order;
    }
}
