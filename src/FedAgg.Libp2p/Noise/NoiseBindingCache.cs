using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// Remembers Noise identity bindings (identity key, static key, signature) that verified, so a peer that connects again
/// with the same static key costs one SHA-256 instead of one Ed25519 verification. libp2p hosts keep one static key for
/// their lifetime, so a client that reconnects to the same server, or a server seeing the same peers again, hits it.
/// Only exact bytes that verified before are remembered (verification is deterministic), so the cache never accepts
/// anything a full check would refuse. Bounded: two generations of at most half the capacity each; when the young one
/// fills, the old one is dropped.
/// </summary>
internal sealed class NoiseBindingCache
{
    private readonly int _generationSize;
    private readonly Lock _gate = new();
    private HashSet<UInt128> _young = [];
    private HashSet<UInt128> _old = [];

    /// <param name="capacity">How many bindings to remember (at least 2).</param>
    public NoiseBindingCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _generationSize = capacity / 2;
    }

    /// <summary>Whether the binding with this <see cref="KeyOf"/> verified before.</summary>
    public bool Contains(UInt128 key)
    {
        lock (_gate)
        {
            return _young.Contains(key) || _old.Contains(key);
        }
    }

    /// <summary>Remembers the binding with this <see cref="KeyOf"/>, which just verified.</summary>
    public void Add(UInt128 key)
    {
        lock (_gate)
        {
            if (_young.Count >= _generationSize)
            {
                (_old, _young) = (_young, _old);
                _young.Clear();
            }

            _young.Add(key);
        }
    }

    /// <summary>128 bits of SHA-256 over the length-prefixed parts: collisions would need a SHA-256 weakness.</summary>
    public static UInt128 KeyOf(ReadOnlySpan<byte> identityKey, ReadOnlySpan<byte> staticKey, ReadOnlySpan<byte> signature)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, identityKey);
        Append(hash, staticKey);
        Append(hash, signature);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> part)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, part.Length);
        hash.AppendData(length);
        hash.AppendData(part);
    }
}
