using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FedAgg.Core.Crypto;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Benchmarks.Updates;

/// <summary>
/// <c>./bench.sh updates</c>: what ingest costs per update besides the disk — Ed25519 verification (BouncyCastle) with
/// the platform's ECDSA P-256 verification as the in-process baseline, X25519 (ours against BouncyCastle's: three per side
/// of every Noise handshake), SHA-256 while streaming against one-shot hashing,
/// and Merkle trees. Each case runs for a bounded time and prints one Markdown row.
/// </summary>
public static class SignedUpdateBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 && double.TryParse(args[0], CultureInfo.InvariantCulture, out var s) ? s : 2.0;
        var budget = TimeSpan.FromSeconds(seconds);
        Console.WriteLine($"# Signed-update costs ({Environment.ProcessorCount} cores, {budget.TotalSeconds:0.#} s per case)");
        Console.WriteLine();
        Console.WriteLine("| case | figure | baseline | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");

        VerifyRows(budget);
        X25519Rows(budget);
        HashRows(budget);
        MerkleRows();
        return Task.FromResult(0);
    }

    private static void VerifyRows(TimeSpan budget)
    {
        using var key = Ed25519PrivateKey.Generate();
        var preimage = new UpdatePreimage
        {
            ChainId = 31337,
            Ledger = new byte[20],
            TaskId = "bench",
            Round = 1,
            BaseModelHash = new byte[32],
            Codec = PayloadCodec.Float32,
            NumElements = 1 << 20,
            PayloadSha256 = new byte[32],
            Nonce = new byte[16],
            ExpiresUnixMs = ulong.MaxValue,
        }.Encode();
        var signature = key.Sign(preimage);
        var publicKey = key.PublicKey;

        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ecdsaSignature = ecdsa.SignData(preimage, HashAlgorithmName.SHA256);

        var ed = Rate(budget, () => publicKey.Verify(preimage, signature) ? 1 : throw new InvalidOperationException("verify failed"));
        var p256 = Rate(budget, () => ecdsa.VerifyData(preimage, ecdsaSignature, HashAlgorithmName.SHA256) ? 1 : throw new InvalidOperationException("verify failed"));
        Row("Ed25519 verify, 1 thread (preimage 164 B)", $"{ed:N0}/s", $"ECDSA P-256 verify {p256:N0}/s", ed / p256);

        var parallel = ParallelRate(budget, () => publicKey.Verify(preimage, signature));
        Row($"Ed25519 verify, {Environment.ProcessorCount} threads", $"{parallel:N0}/s", $"1 thread {ed:N0}/s", parallel / ed);

        var sign = Rate(budget, () => key.Sign(preimage).Length);
        Row("Ed25519 sign, 1 thread", $"{sign:N0}/s", $"verify {ed:N0}/s", sign / ed);
    }

    private static void X25519Rows(TimeSpan budget)
    {
        var scalar = RandomNumberGenerator.GetBytes(Curve25519.KeyLength);
        var point = new byte[Curve25519.KeyLength];
        Curve25519.ScalarMultBase(RandomNumberGenerator.GetBytes(Curve25519.KeyLength), point);
        var result = new byte[Curve25519.KeyLength];

        var ours = Rate(budget, () =>
        {
            Curve25519.ScalarMult(scalar, point, result);
            return result[0];
        });
        var bouncy = Rate(budget, () =>
        {
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(scalar, 0, point, 0, result, 0);
            return result[0];
        });
        Row("X25519 shared secret, 1 thread (Curve25519)", $"{ours:N0}/s ({1e6 / ours:0} µs)", $"BouncyCastle {bouncy:N0}/s ({1e6 / bouncy:0} µs)", ours / bouncy);

        var oursBase = Rate(budget, () =>
        {
            Curve25519.ScalarMultBase(scalar, result);
            return result[0];
        });
        var bouncyBase = Rate(budget, () =>
        {
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(scalar, 0, result, 0);
            return result[0];
        });
        Row("X25519 public key, 1 thread (Curve25519 ladder from 9)", $"{oursBase:N0}/s ({1e6 / oursBase:0} µs)", $"BouncyCastle {bouncyBase:N0}/s ({1e6 / bouncyBase:0} µs)", oursBase / bouncyBase);
    }

    private static void HashRows(TimeSpan budget)
    {
        var payload = new byte[64 << 20];
        new Random(1).NextBytes(payload);
        const int chunk = 256 << 10;

        var oneShot = Rate(budget, () => SHA256.HashData(payload).Length) * payload.Length / 1e9;
        var streaming = Rate(budget, () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (var offset = 0; offset < payload.Length; offset += chunk)
            {
                hash.AppendData(payload, offset, chunk);
            }

            return hash.GetHashAndReset().Length;
        }) * payload.Length / 1e9;
        Row("SHA-256 streaming (256 KiB chunks), 64 MiB payload", $"{streaming:0.00} GB/s", $"one-shot {oneShot:0.00} GB/s", streaming / oneShot);
    }

    private static void MerkleRows()
    {
        foreach (var n in new[] { 1_000, 100_000 })
        {
            var random = new Random(n);
            var leaves = Enumerable.Range(0, n).Select(_ =>
            {
                var id = new byte[32];
                var signer = new byte[32];
                random.NextBytes(id);
                random.NextBytes(signer);
                return ((ReadOnlyMemory<byte>)id, (ReadOnlyMemory<byte>)signer);
            }).ToList();
            _ = StandardMerkleTree.ForUpdates(leaves.Take(16)).GetProof(0);
            var watch = Stopwatch.StartNew();
            var tree = StandardMerkleTree.ForUpdates(leaves);
            var build = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            var proofs = 0;
            for (var i = 0; i < Math.Min(n, 1000); i++)
            {
                proofs += tree.GetProof(i).Length;
            }

            var proofMs = watch.Elapsed.TotalMilliseconds / Math.Min(n, 1000);
            var keccak = Rate(TimeSpan.FromMilliseconds(300), () => Keccak256.Hash(leaves[0].Item1.Span).Length);
            // Baseline: the bare hashing a tree needs (two keccaks per leaf, one per inner node ≈ 3n) at the measured rate.
            var hashingMs = 3.0 * n / keccak * 1000;
            Row($"updates tree of {n:N0} leaves", $"build {build:0.0} ms, proof {proofMs * 1000:0.0} µs", $"3n keccak256 {hashingMs:0.0} ms", build / hashingMs);
        }
    }

    private static double Rate(TimeSpan budget, Func<int> operation)
    {
        for (var i = 0; i < 3; i++)
        {
            operation();
        }

        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < budget)
        {
            operation();
            count++;
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    private static double ParallelRate(TimeSpan budget, Func<bool> operation)
    {
        long count = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            long local = 0;
            while (watch.Elapsed < budget)
            {
                operation();
                local++;
            }

            Interlocked.Add(ref count, local);
        });
        return count / watch.Elapsed.TotalSeconds;
    }

    private static void Row(string name, string figure, string baseline, double ratio) =>
        Console.WriteLine($"| {name} | {figure} | {baseline} | {ratio:0.00}× |");
}
