using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FedAgg.Storage;

// Usage: FedAgg.Storage.CrashProbe <root> <seed> <mode>, mode = group | per-update.
// Opens the update store, prints "READY", then runs concurrent writers that each loop BeginUpdate → write a random payload
// (1 KiB to 4 MiB, log-uniform, in random chunks) → CommitAsync, and print "ACK <taskId> <round> <updateIdHex> <payloadSha256Hex>"
// once CommitAsync has returned (the update is durable). Stops after 60 s or 10,000 updates; the crash tests kill it first.
if (args.Length != 3
    || !int.TryParse(args[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
    || args[2] is not ("group" or "per-update"))
{
    Console.Error.WriteLine("usage: FedAgg.Storage.CrashProbe <root> <seed> <group|per-update>");
    return 2;
}

const int Writers = 4;
const int MaxUpdates = 10_000;
var maxDuration = TimeSpan.FromSeconds(60);

// Writers block in fsync; do not let the thread pool's slow injection throttle them.
ThreadPool.SetMinThreads(Writers * 4, Writers * 4);
var options = new UpdateStoreOptions
{
    RootDirectory = args[0],
    DurabilityMode = args[2] == "group" ? DurabilityMode.GroupCommit : DurabilityMode.FsyncPerUpdate,
    MaxUpdateBytes = 8 << 20,
};

await using var store = UpdateStore.Open(options);
var report = store.Recovery;
Console.Error.WriteLine(
    $"recovered {report.Updates} updates; removed {report.RemovedTemporaryFiles.Count} temporary files and {report.RemovedUnjournaledPayloads.Count} unjournalled payloads; truncated {report.TruncatedJournals.Count} journals; {report.Corruption.Count} corruptions");
Console.Out.WriteLine("READY");

var started = Stopwatch.GetTimestamp();
var remaining = MaxUpdates;
var counter = 0L;
var processId = Environment.ProcessId;
var writers = new Task[Writers];
for (var w = 0; w < Writers; w++)
{
    var writer = w;
    writers[w] = Task.Run(() => WriteLoopAsync(writer));
}

await Task.WhenAll(writers);
return 0;

async Task WriteLoopAsync(int writer)
{
    var random = new Random(unchecked((seed * 31) + writer));
    var chunk = new byte[64 << 10];
    while (Interlocked.Decrement(ref remaining) >= 0 && Stopwatch.GetElapsedTime(started) < maxDuration)
    {
        var taskId = random.Next(2) == 0 ? "crash-a" : "crash-b";
        var round = (ulong)random.Next(1, 4);
        var size = (int)Math.Pow(2, 10 + (random.NextDouble() * 12));
        await using var pending = store.BeginUpdate(taskId, round);
        for (var written = 0; written < size;)
        {
            var n = Math.Min(random.Next(1, chunk.Length + 1), size - written);
            random.NextBytes(chunk.AsSpan(0, n));
            await pending.WriteAsync(chunk.AsMemory(0, n));
            written += n;
        }

        var payloadSha256 = pending.GetPayloadSha256();

        // The preimage carries the process id and a counter, so update ids never repeat across runs on one root.
        var preimage = new byte[64];
        random.NextBytes(preimage);
        BinaryPrimitives.WriteInt32BigEndian(preimage, processId);
        BinaryPrimitives.WriteInt64BigEndian(preimage.AsSpan(4), Interlocked.Increment(ref counter));
        var signer = new byte[36];
        random.NextBytes(signer);
        signer[0] = 0x08;
        signer[1] = 0x01;
        signer[2] = 0x12;
        signer[3] = 0x20;
        var signature = new byte[64];
        random.NextBytes(signature);
        var updateId = SHA256.HashData(preimage);

        await store.CommitAsync(pending, new UpdateMetadata(updateId, payloadSha256, signer, preimage, signature));
        Console.Out.WriteLine($"ACK {taskId} {round} {Convert.ToHexStringLower(updateId)} {Convert.ToHexStringLower(payloadSha256)}");
    }
}
