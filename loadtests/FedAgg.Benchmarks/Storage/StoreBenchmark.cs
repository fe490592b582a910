using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Storage;
using Microsoft.Extensions.Logging;

namespace FedAgg.Benchmarks.Storage;

/// <summary>
/// Update-store throughput: for each payload size, <see cref="DurabilityMode.FsyncPerUpdate"/> against
/// <see cref="DurabilityMode.GroupCommit"/> with several concurrent writers (BeginUpdate → write in 1 MiB chunks →
/// CommitAsync, on one task and round). Each case runs until its time or update budget is spent, in a fresh directory
/// that is deleted afterwards. Prints a Markdown table.
/// </summary>
public static class StoreBenchmark
{
    public const string Usage = """
        usage: store-bench [--sizes 1k,1m,64m] [--writers 8] [--seconds 5] [--max-bytes 4g] [--dir DIR]

          --sizes      payload sizes (k, m, g suffixes: KiB, MiB, GiB; default 1k,1m,64m)
          --writers    concurrent writers (default 8)
          --seconds    time budget per case; no update starts after it (default 5)
          --max-bytes  payload budget per case, which also bounds the disk used (default 4g)
          --dir        where the stores are created (default: a new directory under the system temp folder)
        """;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Runs the benchmark.</summary>
    /// <param name="args">The options (see <see cref="Usage"/>).</param>
    /// <returns>0, or 2 on a bad option.</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"store-bench: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        // Writers block in fsync; the thread pool's slow injection would otherwise throttle them.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, options.Writers * 4), Math.Max(io, options.Writers * 4));
        var directory = options.Directory ?? Path.Combine(Path.GetTempPath(), "fedagg-store-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var source = new byte[options.Sizes.Max()];
        new Random(1).NextBytes(source);
        var time = TimeProvider.System;

        Console.Error.WriteLine($"store-bench: {options.Writers} writers, {options.Seconds} s per case, in {directory}");
        await RunCaseAsync(directory, source, 1024, DurabilityMode.GroupCommit, options with { Seconds = 0.5 }, time).ConfigureAwait(false);
        var results = new List<Result>();
        foreach (var size in options.Sizes)
        {
            foreach (var mode in (DurabilityMode[])[DurabilityMode.FsyncPerUpdate, DurabilityMode.GroupCommit])
            {
                var result = await RunCaseAsync(directory, source, size, mode, options, time).ConfigureAwait(false);
                Console.Error.WriteLine($"  {FormatSize(size)} {mode}: {result.Updates} updates in {result.Seconds:0.00} s");
                results.Add(result);
            }
        }

        Console.WriteLine(Table(results, options.Writers));
        return 0;
    }

    private static async Task<Result> RunCaseAsync(string directory, byte[] source, int size, DurabilityMode mode, Options options, TimeProvider time)
    {
        var root = Path.Combine(directory, $"{mode}-{size}");
        var batches = new BatchCounter();
        var maxUpdates = Math.Max(options.Writers, (int)Math.Min(100_000, options.MaxBytes / size));
        var latencies = new List<double>[options.Writers];
        var next = 0;
        var started = time.GetTimestamp();
        await using (var store = UpdateStore.Open(
            new UpdateStoreOptions
            {
                RootDirectory = root,
                DurabilityMode = mode,
                MaxUpdateBytes = Math.Max(size, 1),
                EnforceOneUpdatePerSigner = false,
                RejectCopiedPayloads = false,
            },
            batches))
        {
            started = time.GetTimestamp();
            var writers = new Task[options.Writers];
            for (var w = 0; w < writers.Length; w++)
            {
                var writer = w;
                latencies[w] = [];
                writers[w] = Task.Run(async () =>
                {
                    int n;
                    while ((n = Interlocked.Increment(ref next)) <= maxUpdates && time.GetElapsedTime(started).TotalSeconds < options.Seconds)
                    {
                        var begun = time.GetTimestamp();
                        await StoreOneAsync(store, source, size, n).ConfigureAwait(false);
                        latencies[writer].Add(time.GetElapsedTime(begun).TotalMilliseconds);
                    }
                });
            }

            await Task.WhenAll(writers).ConfigureAwait(false);
        }

        var seconds = time.GetElapsedTime(started).TotalSeconds;
        Directory.Delete(root, recursive: true);
        var all = latencies.SelectMany(static l => l).Order().ToArray();
        return new Result(size, mode, all.Length, seconds, Percentile(all, 0.5), Percentile(all, 0.99), batches.MeanBatch);
    }

    private static async Task StoreOneAsync(UpdateStore store, byte[] source, int size, int n)
    {
        await using var pending = store.BeginUpdate("bench", 1);
        for (var offset = 0; offset < size; offset += ChunkBytes)
        {
            await pending.WriteAsync(source.AsMemory(offset, Math.Min(ChunkBytes, size - offset))).ConfigureAwait(false);
        }

        var preimage = new byte[64];
        BinaryPrimitives.WriteInt32BigEndian(preimage, n);
        var signer = new byte[36];
        BinaryPrimitives.WriteInt32BigEndian(signer, n);
        await store.CommitAsync(
            pending,
            new UpdateMetadata(SHA256.HashData(preimage), pending.GetPayloadSha256(), signer, preimage, new byte[64])).ConfigureAwait(false);
    }

    private static string Table(List<Result> results, int writers)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Update store, {writers} concurrent writers, one task and round; commit latency is BeginUpdate to durable.");
        table.AppendLine();
        table.AppendLine("| payload | mode | updates | updates/s | MB/s | p50 ms | p99 ms | updates per group commit | group / per-update (updates/s) |");
        table.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var result in results)
        {
            var perUpdate = results.Find(r => r.Size == result.Size && r.Mode == DurabilityMode.FsyncPerUpdate);
            var ratio = result.Mode == DurabilityMode.GroupCommit && perUpdate is { UpdatesPerSecond: > 0 }
                ? (result.UpdatesPerSecond / perUpdate.UpdatesPerSecond).ToString("0.00", CultureInfo.InvariantCulture) + "×"
                : string.Empty;
            var batch = result.Mode == DurabilityMode.GroupCommit ? result.MeanBatch.ToString("0.0", CultureInfo.InvariantCulture) : "1";
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {FormatSize(result.Size)} | {result.Mode} | {result.Updates} | {result.UpdatesPerSecond:0} | {result.UpdatesPerSecond * result.Size / 1e6:0.0} | {result.P50:0.00} | {result.P99:0.00} | {batch} | {ratio} |");
        }

        return table.ToString();
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string FormatSize(long bytes) => bytes switch
    {
        >= 1 << 30 when bytes % (1 << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1 << 20 when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1 << 10 when bytes % (1 << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    private sealed record Result(int Size, DurabilityMode Mode, int Updates, double Seconds, double P50, double P99, double MeanBatch)
    {
        public double UpdatesPerSecond => Updates / Seconds;
    }

    /// <summary>Counts the store's group-commit log events (id 3009) to report the mean batch size.</summary>
    private sealed class BatchCounter : ILogger<UpdateStore>
    {
        private long _batches;
        private long _updates;

        public double MeanBatch => _batches == 0 ? double.NaN : (double)Interlocked.Read(ref _updates) / Interlocked.Read(ref _batches);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != 3009 || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                return;
            }

            foreach (var (key, value) in values)
            {
                if (key == "Count" && value is int count)
                {
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _updates, count);
                }
            }
        }
    }

    private sealed record Options
    {
        public IReadOnlyList<int> Sizes { get; init; } = [1 << 10, 1 << 20, 64 << 20];

        public int Writers { get; init; } = 8;

        public double Seconds { get; init; } = 5;

        public long MaxBytes { get; init; } = 4L << 30;

        public string? Directory { get; init; }

        public bool Help { get; init; }

        public static Options Parse(string[] args)
        {
            var options = new Options();
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                options = args[i] switch
                {
                    "--sizes" => options with { Sizes = [.. Value().Split(',').Select(static s => checked((int)ParseSize(s)))] },
                    "--writers" => options with { Writers = Positive(int.Parse(Value(), CultureInfo.InvariantCulture), "--writers") },
                    "--seconds" => options with { Seconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--max-bytes" => options with { MaxBytes = ParseSize(Value()) },
                    "--dir" => options with { Directory = Value() },
                    "--help" or "-h" => options with { Help = true },
                    _ => throw new FormatException($"unknown option {args[i]}"),
                };
            }

            return options;
        }

        private static int Positive(int value, string name) => value > 0 ? value : throw new FormatException($"{name} must be positive");

        private static long ParseSize(string text)
        {
            text = text.Trim().ToLowerInvariant();
            var shift = text[^1] switch
            {
                'k' => 10,
                'm' => 20,
                'g' => 30,
                _ => 0,
            };
            var number = shift == 0 ? text : text[..^1];
            return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value << shift
                : throw new FormatException($"'{text}' is not a size");
        }
    }
}
