using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace FedAgg.Chain.Crypto;

/// <summary>
/// secp256k1 public-key recovery and verification as Ethereum uses them (<c>ecrecover</c>): the signer of a 32-byte
/// hash is recovered from (r, s, recovery id). Both low and high s are accepted here; transaction decoding enforces
/// EIP-2's low s separately.
/// </summary>
public static class Secp256k1
{
    internal static readonly ECDomainParameters Domain = CreateDomain();

    internal static readonly FixedPointCombMultiplier Multiplier = new();

    /// <summary>The group order n.</summary>
    public static BigInteger Order { get; } = ToNumerics(Domain.N);

    /// <summary>n / 2 (rounded down): the largest s a low-s signature may have.</summary>
    public static BigInteger HalfOrder { get; } = Order >> 1;

    /// <summary>Recovers the uncompressed public key (65 bytes, 0x04 || X || Y) that made <paramref name="signature"/> over <paramref name="hash32"/>.</summary>
    /// <param name="hash32">The signed 32-byte hash.</param>
    /// <param name="signature">The signature.</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes.</exception>
    /// <exception cref="CryptographicException">No public key can be recovered (r, s or the recovery id is invalid).</exception>
    public static byte[] RecoverPublicKey(ReadOnlySpan<byte> hash32, Secp256k1Signature signature) =>
        TryRecoverPublicKey(hash32, signature, out var publicKey, out var problem)
            ? publicKey
            : throw new CryptographicException(problem);

    /// <summary>Recovers the address that made <paramref name="signature"/> over <paramref name="hash32"/>.</summary>
    /// <param name="hash32">The signed 32-byte hash.</param>
    /// <param name="signature">The signature.</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes.</exception>
    /// <exception cref="CryptographicException">No public key can be recovered.</exception>
    public static EthereumAddress RecoverAddress(ReadOnlySpan<byte> hash32, Secp256k1Signature signature) =>
        EthereumAddress.FromPublicKey(RecoverPublicKey(hash32, signature));

    /// <summary>Recovers like <see cref="RecoverAddress"/>, returning <see langword="false"/> instead of throwing for an invalid signature.</summary>
    /// <param name="hash32">The signed 32-byte hash.</param>
    /// <param name="signature">The signature.</param>
    /// <param name="address">The signer, or <see cref="EthereumAddress.Zero"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes.</exception>
    public static bool TryRecoverAddress(ReadOnlySpan<byte> hash32, Secp256k1Signature signature, out EthereumAddress address)
    {
        address = EthereumAddress.Zero;
        if (!TryRecoverPublicKey(hash32, signature, out var publicKey, out _))
        {
            return false;
        }

        address = EthereumAddress.FromPublicKey(publicKey);
        return true;
    }

    /// <summary>Whether <paramref name="signature"/> over <paramref name="hash32"/> was made by <paramref name="signer"/>.</summary>
    /// <param name="hash32">The signed 32-byte hash.</param>
    /// <param name="signature">The signature.</param>
    /// <param name="signer">The expected signer.</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes.</exception>
    public static bool Verify(ReadOnlySpan<byte> hash32, Secp256k1Signature signature, EthereumAddress signer) =>
        TryRecoverAddress(hash32, signature, out var recovered) && recovered == signer;

    /// <summary>
    /// Plain ECDSA verification of (r, s) over <paramref name="hash32"/> against a public key (the recovery id is not
    /// used).
    /// </summary>
    /// <param name="hash32">The signed 32-byte hash.</param>
    /// <param name="signature">The signature.</param>
    /// <param name="publicKey">An encoded public key (65-byte uncompressed or 33-byte compressed).</param>
    /// <exception cref="ArgumentException"><paramref name="hash32"/> is not 32 bytes or <paramref name="publicKey"/> is not a curve point.</exception>
    public static bool Verify(ReadOnlySpan<byte> hash32, Secp256k1Signature signature, ReadOnlySpan<byte> publicKey)
    {
        CheckHash(hash32);
        if (signature.Validate() is not null)
        {
            return false;
        }

        ECPoint point;
        try
        {
            point = Domain.Curve.DecodePoint(publicKey.ToArray());
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("Not a secp256k1 public key.", nameof(publicKey), e);
        }

        var verifier = new ECDsaSigner();
        verifier.Init(false, new ECPublicKeyParameters(point, Domain));
        return verifier.VerifySignature(hash32.ToArray(), ToBouncyCastle(signature.R), ToBouncyCastle(signature.S));
    }

    internal static BigInteger ToNumerics(BcBigInteger value) =>
        new(value.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);

    internal static BcBigInteger ToBouncyCastle(BigInteger value) =>
        new(1, value.ToByteArray(isUnsigned: true, isBigEndian: true));

    internal static void CheckHash(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException($"Expected a 32-byte hash, got {hash32.Length} bytes.", nameof(hash32));
        }
    }

    // SEC 1 v2, 4.1.6: R from (r + j·n, parity), then Q = r⁻¹ (s·R − e·G).
    private static bool TryRecoverPublicKey(ReadOnlySpan<byte> hash32, Secp256k1Signature signature, out byte[] publicKey, out string problem)
    {
        CheckHash(hash32);
        publicKey = [];
        problem = signature.Validate() ?? string.Empty;
        if (problem.Length > 0)
        {
            return false;
        }

        var n = Domain.N;
        var r = ToBouncyCastle(signature.R);
        var s = ToBouncyCastle(signature.S);
        var x = signature.RecoveryId >= 2 ? r.Add(n) : r;
        var curve = Domain.Curve;
        if (x.CompareTo(curve.Field.Characteristic) >= 0)
        {
            problem = "The recovery id names an r + n beyond the field.";
            return false;
        }

        var encoded = new byte[33];
        encoded[0] = (byte)(0x02 | (signature.RecoveryId & 1));
        var xBytes = x.ToByteArrayUnsigned();
        xBytes.CopyTo(encoded, 33 - xBytes.Length);
        ECPoint rPoint;
        try
        {
            rPoint = curve.DecodePoint(encoded);
        }
        catch (ArgumentException)
        {
            problem = "r is not the x coordinate of a curve point.";
            return false;
        }

        var e = new BcBigInteger(1, hash32.ToArray());
        var rInverse = r.ModInverse(n);
        var u1 = n.Subtract(e).Multiply(rInverse).Mod(n);
        var u2 = s.Multiply(rInverse).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Domain.G, u1, rPoint, u2).Normalize();
        if (q.IsInfinity)
        {
            problem = "The recovered point is the point at infinity.";
            return false;
        }

        publicKey = q.GetEncoded(false);
        return true;
    }

    private static ECDomainParameters CreateDomain()
    {
        var parameters = CustomNamedCurves.GetByName("secp256k1");
        return new ECDomainParameters(parameters.Curve, parameters.G, parameters.N, parameters.H);
    }
}
