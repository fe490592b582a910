using System.Security.Cryptography;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Tests.Updates;

internal static class UpdateSamples
{
    public static UpdatePreimage Preimage(
        string taskId = "fashion-mnist", ulong round = 3, ulong numElements = 1000, PayloadCodec codec = PayloadCodec.Float32, ulong expiresUnixMs = 2_000_000_000_000) => new()
        {
            ChainId = 31337,
            Ledger = Enumerable.Range(1, 20).Select(static i => (byte)i).ToArray(),
            TaskId = taskId,
            Round = round,
            BaseModelHash = SHA256.HashData("model 2"u8),
            Codec = codec,
            NumElements = numElements,
            PayloadSha256 = SHA256.HashData("payload"u8),
            NumSamples = 6000,
            Nonce = Enumerable.Range(100, 16).Select(static i => (byte)i).ToArray(),
            ExpiresUnixMs = expiresUnixMs,
        };
}
