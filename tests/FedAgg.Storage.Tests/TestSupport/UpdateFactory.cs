using System.Security.Cryptography;

namespace FedAgg.Storage.Tests.TestSupport;

/// <summary>Builds seeded payloads and metadata and pushes them through the store.</summary>
public sealed class UpdateFactory(int seed)
{
    private readonly Random _random = new(seed);

    public byte[] Payload(int length)
    {
        var payload = new byte[length];
        _random.NextBytes(payload);
        return payload;
    }

    public byte[] Signer()
    {
        // A libp2p PublicKey protobuf for Ed25519: type = 1, data = 32 bytes.
        var key = new byte[36];
        _random.NextBytes(key);
        key[0] = 0x08;
        key[1] = 0x01;
        key[2] = 0x12;
        key[3] = 0x20;
        return key;
    }

    public UpdateMetadata Metadata(byte[] payload, byte[]? signer = null, int preimageLength = 200)
    {
        var preimage = new byte[preimageLength];
        _random.NextBytes(preimage);
        var signature = new byte[64];
        _random.NextBytes(signature);
        return new UpdateMetadata(SHA256.HashData(preimage), SHA256.HashData(payload), signer ?? Signer(), preimage, signature);
    }

    /// <summary>Writes <paramref name="payload"/> in chunks of <paramref name="chunk"/> bytes and commits it.</summary>
    public static async Task<JournalEntry> StoreAsync(
        UpdateStore store, string taskId, ulong round, byte[] payload, UpdateMetadata metadata, int chunk = 4096)
    {
        await using var pending = store.BeginUpdate(taskId, round);
        for (var i = 0; i < payload.Length; i += chunk)
        {
            await pending.WriteAsync(payload.AsMemory(i, Math.Min(chunk, payload.Length - i)));
        }

        return await store.CommitAsync(pending, metadata);
    }

    public async Task<(JournalEntry Entry, byte[] Payload)> StoreRandomAsync(UpdateStore store, string taskId, ulong round, int length)
    {
        var payload = Payload(length);
        var entry = await StoreAsync(store, taskId, round, payload, Metadata(payload));
        return (entry, payload);
    }
}
