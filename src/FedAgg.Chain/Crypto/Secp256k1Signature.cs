using System.Numerics;

namespace FedAgg.Chain.Crypto;

/// <summary>
/// A recoverable secp256k1 ECDSA signature: <paramref name="R"/>, <paramref name="S"/> (each below the curve order)
/// and the recovery id (the parity of R's y coordinate, 0 or 1) that lets the signer's public key be recovered.
/// </summary>
/// <param name="R">The r value, 1 to n − 1.</param>
/// <param name="S">The s value, 1 to n − 1 (at most n / 2 for the signatures this library makes).</param>
/// <param name="RecoveryId">0 or 1 (2 and 3, for r values at or above n, never occur in practice and are not produced).</param>
public readonly record struct Secp256k1Signature(BigInteger R, BigInteger S, byte RecoveryId)
{
    /// <summary>The length of the r || s || v form: 65 bytes.</summary>
    public const int Length65 = 65;

    /// <summary>The <c>v</c> of <c>eth_sign</c>/<c>personal_sign</c> and legacy pre-EIP-155 signatures: 27 + <see cref="RecoveryId"/>.</summary>
    public byte V => (byte)(27 + RecoveryId);

    /// <summary>The <c>yParity</c> of typed transactions: <see cref="RecoveryId"/> (0 or 1).</summary>
    public byte YParity => RecoveryId;

    /// <summary>Whether s is at most n / 2, as EIP-2 requires of transaction signatures.</summary>
    public bool IsLowS => S.Sign > 0 && S <= Secp256k1.HalfOrder;

    /// <summary>r (32 bytes) || s (32 bytes) || v (27 + recovery id), as <c>eth_sign</c> and <c>cast wallet sign</c> write it.</summary>
    public byte[] ToBytes65()
    {
        var bytes = new byte[Length65];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Writes r || s || v (v = 27 + recovery id) into the first 65 bytes of <paramref name="destination"/>.</summary>
    /// <param name="destination">At least 65 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length65)
        {
            throw new ArgumentException($"Destination needs {Length65} bytes, has {destination.Length}.", nameof(destination));
        }

        WriteScalar(R, destination[..32]);
        WriteScalar(S, destination[32..64]);
        destination[64] = V;
    }

    /// <summary>Reads r || s || v, with v either 27/28 (<c>eth_sign</c>) or 0/1.</summary>
    /// <param name="bytes">Exactly 65 bytes.</param>
    /// <exception cref="FormatException">The length, v, r or s is out of range.</exception>
    public static Secp256k1Signature FromBytes65(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length65)
        {
            throw new FormatException($"A signature is {Length65} bytes (r || s || v), got {bytes.Length}.");
        }

        var v = bytes[64];
        var recoveryId = v switch
        {
            0 or 1 => v,
            27 or 28 => (byte)(v - 27),
            _ => throw new FormatException($"Signature v must be 27, 28, 0 or 1, got {v}."),
        };
        var signature = new Secp256k1Signature(
            new BigInteger(bytes[..32], isUnsigned: true, isBigEndian: true),
            new BigInteger(bytes[32..64], isUnsigned: true, isBigEndian: true),
            recoveryId);
        var problem = signature.Validate();
        return problem is null ? signature : throw new FormatException(problem);
    }

    /// <summary>0x and the 130 hex digits of <see cref="ToBytes65"/>.</summary>
    public string ToHex() => string.Concat("0x", Convert.ToHexStringLower(ToBytes65()));

    // Why r, s or the recovery id is out of range, or null.
    internal string? Validate()
    {
        if (R.Sign <= 0 || R >= Secp256k1.Order)
        {
            return "Signature r must be from 1 to n - 1.";
        }

        if (S.Sign <= 0 || S >= Secp256k1.Order)
        {
            return "Signature s must be from 1 to n - 1.";
        }

        return RecoveryId > 3 ? $"Signature recovery id must be 0 to 3, got {RecoveryId}." : null;
    }

    private static void WriteScalar(BigInteger value, Span<byte> destination)
    {
        if (value.Sign < 0 || value.GetByteCount(isUnsigned: true) > 32)
        {
            throw new InvalidOperationException("Signature r and s must be from 0 to 2^256 - 1.");
        }

        destination.Clear();
        var length = value.GetByteCount(isUnsigned: true);
        value.TryWriteBytes(destination[(32 - length)..], out _, isUnsigned: true, isBigEndian: true);
    }
}
