using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FedAgg.LoadTests.Scenarios;

/// <summary>
/// Unique float32 update payloads and their SHA-256, cheap to make: each slot (a participant, which has one upload at a
/// time) owns a copy of the template, and each payload differs from the template only in its last two floats. The hash
/// of everything before them is computed once, so a payload's SHA-256 costs a state clone and 8 bytes instead of a pass
/// over the payload. Without this the load generator spent about a millisecond of CPU per 1 MiB update copying and
/// hashing, on the cores it shares with the server, which hashes the payload anyway.
/// </summary>
internal sealed class UniquePayloadSource : IDisposable
{
    /// <summary>The bytes that change between payloads (two floats).</summary>
    public const int UniqueTailBytes = 8;

    private readonly byte[] _template;
    private readonly byte[]?[] _slots;
    private readonly IncrementalHash? _prefixHash;
    private readonly Lock _gate = new();
    private long _counter;

    /// <summary>Creates the source.</summary>
    /// <param name="template">The float32 payload every one starts from (a whole number of floats, at least one).</param>
    /// <param name="slots">How many payloads may be in use at once (one buffer each, made on first use).</param>
    public UniquePayloadSource(byte[] template, int slots)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.Length < sizeof(float) || template.Length % sizeof(float) != 0)
        {
            throw new ArgumentException("the template must hold a whole number of float32 values, at least one", nameof(template));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _template = template;
        _slots = new byte[slots][];
        if (template.Length >= UniqueTailBytes)
        {
            _prefixHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _prefixHash.AppendData(template.AsSpan(0, template.Length - UniqueTailBytes));
        }
    }

    /// <summary>
    /// Slot <paramref name="slot"/>'s next payload (its own buffer, overwritten by the slot's next call) and the payload's
    /// SHA-256. Payloads are distinct for the first 2^20 · 2^24 calls, and every value is finite.
    /// </summary>
    public (byte[] Payload, byte[] Sha256) Next(int slot)
    {
        var payload = _slots[slot] ??= (byte[])_template.Clone();
        var unique = Interlocked.Increment(ref _counter);
        if (_prefixHash is null)
        {
            MemoryMarshal.Cast<byte, float>(payload.AsSpan())[0] = unique * 1e-7f;
            return (payload, SHA256.HashData(payload));
        }

        var tail = payload.AsSpan(payload.Length - UniqueTailBytes);
        var values = MemoryMarshal.Cast<byte, float>(tail);
        values[0] = (unique & 0xFFFFF) * 1e-7f;
        values[1] = (unique >> 20) * 1e-7f;
        IncrementalHash hash;
        lock (_gate)
        {
            hash = _prefixHash.Clone();
        }

        using (hash)
        {
            hash.AppendData(tail);
            return (payload, hash.GetHashAndReset());
        }
    }

    public void Dispose() => _prefixHash?.Dispose();
}
