using System.Buffers;
using Org.BouncyCastle.Crypto.Digests;

namespace FedAgg.Core.Merkle;

/// <summary>
/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not NIST SHA3-256 (0x06), so
/// <c>keccak256("")</c> is <c>c5d24601…5d85a470</c>.
/// </summary>
public static class Keccak256
{
    /// <summary>The hash length in bytes: 32.</summary>
    public const int HashSize = 32;

    // BouncyCastle's digest takes arrays only; one per thread keeps hashing free of allocations.
    [ThreadStatic]
    private static KeccakDigest? _digest;

    [ThreadStatic]
    private static byte[]? _output;

    /// <summary>Hashes <paramref name="data"/> into the first 32 bytes of <paramref name="destination"/>; the two may overlap.</summary>
    /// <param name="data">The bytes to hash.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException($"Destination needs {HashSize} bytes, has {destination.Length}.", nameof(destination));
        }

        var digest = _digest ??= new KeccakDigest(HashSize * 8);
        var output = _output ??= new byte[HashSize];
        var input = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        try
        {
            data.CopyTo(input);
            digest.BlockUpdate(input, 0, data.Length);
            digest.DoFinal(output, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }

        output.CopyTo(destination);
    }

    /// <summary>The 32-byte hash of <paramref name="data"/> as a new array.</summary>
    /// <param name="data">The bytes to hash.</param>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        Hash(data, hash);
        return hash;
    }

    /// <summary>The 32-byte hash of <paramref name="data"/>, held inline.</summary>
    /// <param name="data">The bytes to hash.</param>
    public static Bytes32 HashToBytes32(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[HashSize];
        Hash(data, hash);
        return new Bytes32(hash);
    }
}
