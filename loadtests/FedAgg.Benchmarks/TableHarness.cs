using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using FedAgg.Aggregation;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Benchmarks;

/// <summary>
/// The table mode: for every (n, d) and rule, the engine's time and effective bandwidth (n·d·4 bytes / seconds) next to
/// a memory-bandwidth baseline measured in the same process, the TestKit's scalar reference and Flower-style numpy.
/// Each figure is the median of k timed runs after one warm-up.
/// </summary>
public sealed class TableHarness(TableOptions options, TimeProvider time)
{
    /// <summary>Columns the naive reference is calibrated on before a full run is attempted.</summary>
    private const int CalibrationLength = 16_384;

    /// <summary>Beyond this many seconds for one run, a case is timed once more instead of k times.</summary>
    private const double LongRunSeconds = 10;

    private readonly List<RuleRow> _rows = [];
    private readonly List<ShapeRow> _shapes = [];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var root = FindRepositoryRoot();
        var (numpy, numpyReason) = options.Numpy
            ? await NumpyBaseline.TryCreateAsync(root, cancellationToken).ConfigureAwait(false)
            : (null, "disabled (--no-numpy)");
        var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = options.Threads });
        var started = time.GetUtcNow();

        var header = Header(started, options.Naive ? "FedAgg.TestKit NaiveAggregation" : "disabled (--no-naive)", numpy?.Version ?? numpyReason);
        Console.WriteLine(header);
        foreach (var n in options.Counts)
        {
            foreach (var d in options.Lengths)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await RunShapeAsync(engine, numpy, n, d, cancellationToken).ConfigureAwait(false);
            }
        }

        var report = header + Environment.NewLine + Tables();
        Console.WriteLine();
        Console.WriteLine(Tables());
        var path = options.OutputPath ?? Path.Combine(root, "loadtests", "reports", $"bench-{started.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.md");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, report, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"report: {path}");
        return 0;
    }

    private async Task RunShapeAsync(AggregationEngine engine, NumpyBaseline? numpy, int n, long d, CancellationToken cancellationToken)
    {
        var bytes = (double)n * d * sizeof(float);
        Console.Error.WriteLine($"n={n} d={d:N0}: generating {bytes / 1e9:0.##} GB of updates…");
        var updates = BenchmarkData.Generate(n, d, options.Seed);

        var copy = Measure(() => CopyBaseline(updates, options.Threads), options.Runs);
        Console.Error.WriteLine($"  copy baseline: {copy:0.######} s, {bytes / copy / 1e9:0.#} GB/s");

        NumpyResult? numpyResult = null;
        if (numpy is not null)
        {
            var numpyRules = options.Rules.Select(RuleCatalog.NumpyCounterpart).OfType<string>()
                .Concat(["sort"])
                .Concat(options.Rules.Contains("krum") ? ["krum_loop"] : Array.Empty<string>())
                .Distinct();
            Console.Error.WriteLine("  numpy…");
            numpyResult = await numpy.RunAsync(n, d, numpyRules, options.Runs, options.Threads, RuleCatalog.ByzantineCount(n), RuleCatalog.TrimFraction, cancellationToken).ConfigureAwait(false);
            if (numpyResult.Error is not null)
            {
                Console.Error.WriteLine($"  numpy failed: {numpyResult.Error}");
            }
        }

        _shapes.Add(new ShapeRow(n, d, copy, numpyResult));

        var output = new float[d];
        foreach (var name in options.Rules)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rule = RuleCatalog.Create(name, n);
            var row = new RuleRow(n, d, RuleCatalog.Label(rule), copy);
            Console.Error.WriteLine($"  {row.Rule}…");

            try
            {
                using var source = UpdateSource.FromArrays(updates);
                var settings = new AggregationSettings(rule);
                var buffer = AggregateBuffer.FromArray(output);
                row.EngineSeconds = Measure(() => engine.Aggregate(source, settings, buffer), options.Runs);
            }
            catch (NotImplementedException)
            {
                row.EngineNote = "pending (engine not implemented)";
            }
            catch (Exception e)
            {
                row.EngineNote = $"error: {e.GetType().Name}: {e.Message}";
            }

            if (options.Naive)
            {
                RunNaive(rule, updates, row, row.EngineSeconds is null ? null : output);
            }

            if (numpyResult is not null && RuleCatalog.NumpyCounterpart(name) is { } key)
            {
                row.NumpyKey = key;
                if (numpyResult.Seconds.TryGetValue(key, out var seconds))
                {
                    row.NumpySeconds = seconds;
                }
                else
                {
                    row.NumpyNote = numpyResult.Skipped.TryGetValue(key, out var why) ? $"skipped: {why}" : "failed";
                }
            }

            _rows.Add(row);
        }
    }

    private void RunNaive(AggregationRule rule, float[][] updates, RuleRow row, float[]? engineOutput)
    {
        try
        {
            // Estimate from the first columns; the rules are linear in d for fixed n (Krum's O(n²·d) included).
            var d = updates[0].Length;
            var estimate = 0.0;
            if (d > CalibrationLength)
            {
                var head = updates.Select(static u => u.AsSpan(0, CalibrationLength).ToArray()).ToArray();
                NaiveAggregation.Aggregate(head, rule);
                var t = Stopwatch.GetTimestamp();
                NaiveAggregation.Aggregate(head, rule);
                estimate = Stopwatch.GetElapsedTime(t).TotalSeconds * d / CalibrationLength;
                if (estimate > options.NaiveLimitSeconds)
                {
                    row.NaiveNote = string.Create(CultureInfo.InvariantCulture, $"skipped (est. {estimate:0} s)");
                    return;
                }
            }

            // Big cases: a single timed run, no warm-up; small ones: the usual warm-up and median.
            var runs = estimate > 1 ? 1 : options.Runs;
            float[]? output = null;
            if (estimate > 1)
            {
                var t = Stopwatch.GetTimestamp();
                output = NaiveAggregation.Aggregate(updates, rule).Output;
                row.NaiveSeconds = Stopwatch.GetElapsedTime(t).TotalSeconds;
            }
            else
            {
                row.NaiveSeconds = Measure(() => output = NaiveAggregation.Aggregate(updates, rule).Output, runs);
            }

            if (engineOutput is not null && output is not null)
            {
                row.BitExact = MemoryMarshal.AsBytes(engineOutput.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(output.AsSpan()));
            }
        }
        catch (Exception e)
        {
            row.NaiveNote = $"error: {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>
    /// What a block-wise rule must at least do: stream every update once. Each thread copies its slice of coordinates of
    /// every update into one d-length destination, so the traffic is n·d·4 bytes read and a cache-friendly d·4 written,
    /// as in the engine.
    /// </summary>
    private static void CopyBaseline(float[][] updates, int threads)
    {
        var d = updates[0].Length;
        var destination = CopyDestination(d);
        var slice = ((d / threads) + 1023) & ~1023;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var start = Math.Min(d, t * slice);
            var length = t == threads - 1 ? d - start : Math.Min(slice, d - start);
            var target = destination.AsSpan(start, length);
            foreach (var update in updates)
            {
                update.AsSpan(start, length).CopyTo(target);
            }
        });
    }

    [ThreadStatic]
    private static float[]? t_copyDestination;

    private static float[] CopyDestination(int d)
    {
        if (t_copyDestination is null || t_copyDestination.Length != d)
        {
            t_copyDestination = new float[d];
        }

        return t_copyDestination;
    }

    /// <summary>One warm-up, then the median of <paramref name="runs"/> timed runs (one when a run is slow).</summary>
    private static double Measure(Action action, int runs)
    {
        var warm = Stopwatch.GetTimestamp();
        action();
        if (Stopwatch.GetElapsedTime(warm).TotalSeconds > LongRunSeconds)
        {
            runs = 1;
        }

        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var t = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t).TotalSeconds;
        }

        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[(runs / 2) - 1] + times[runs / 2]) / 2;
    }

    private string Header(DateTimeOffset started, string naive, string numpy)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# FedAgg aggregation benchmark, {started:yyyy-MM-dd HH:mm:ss} UTC");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"- machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB available to .NET");
        b.AppendLine(CultureInfo.InvariantCulture, $"- runtime: {RuntimeInformation.FrameworkDescription}, Vector512 {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}, Vector256 {(Vector256.IsHardwareAccelerated ? "accelerated" : "not accelerated")}, server GC {System.Runtime.GCSettings.IsServerGC}");
        b.AppendLine(CultureInfo.InvariantCulture, $"- threads: {options.Threads} (engine, copy baseline, OPENBLAS_NUM_THREADS); median of {options.Runs} runs after one warm-up; seed {options.Seed}");
        b.AppendLine(CultureInfo.InvariantCulture, $"- naive reference: {naive} (run only where estimated under {options.NaiveLimitSeconds} s)");
        b.AppendLine(CultureInfo.InvariantCulture, $"- numpy: {numpy}");
        b.AppendLine("- GB/s = n·d·4 bytes / seconds (10^9 bytes). copy = every update's coordinates copied once into a d-length buffer (Span.CopyTo), same threads; ×copy = rule time / copy time.");
        return b.ToString();
    }

    private string Tables()
    {
        var b = new StringBuilder();
        b.AppendLine("## Rules");
        b.AppendLine();
        b.AppendLine("| n | d | rule | engine s | engine GB/s | copy GB/s | ×copy | naive s | naive/engine | bit-exact | numpy s | numpy/engine |");
        b.AppendLine("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
        foreach (var r in _rows)
        {
            var bytes = (double)r.N * r.D * sizeof(float);
            b.AppendLine(CultureInfo.InvariantCulture, $"| {r.N} | {D(r.D)} | {r.Rule} | {S(r.EngineSeconds) ?? r.EngineNote} | {G(bytes, r.EngineSeconds)} | {G(bytes, r.CopySeconds)} | {X(r.EngineSeconds, r.CopySeconds)} | {S(r.NaiveSeconds) ?? r.NaiveNote ?? "–"} | {X(r.NaiveSeconds, r.EngineSeconds)} | {(r.BitExact is { } e ? (e ? "yes" : "**NO**") : "–")} | {S(r.NumpySeconds) ?? r.NumpyNote ?? "–"}{(r.NumpyKey is { } k && r.NumpySeconds is not null ? $" ({k})" : "")} | {X(r.NumpySeconds, r.EngineSeconds)} |");
        }

        b.AppendLine();
        b.AppendLine("## Baselines per shape (seconds, and GB/s over the n·d·4 input bytes)");
        b.AppendLine();
        string[] keys = ["mean", "median", "trimmed_mean", "sort", "krum_gram", "multikrum_gram", "krum_loop"];
        b.AppendLine($"| n | d | copy | {string.Join(" | ", keys.Select(static k => $"numpy {k}"))} |");
        b.AppendLine($"| ---: | ---: | ---: |{string.Concat(keys.Select(static _ => " ---: |"))}");
        foreach (var s in _shapes)
        {
            var bytes = (double)s.N * s.D * sizeof(float);
            var cells = keys.Select(k =>
                s.Numpy is null ? "–"
                : s.Numpy.Error is not null ? "failed"
                : s.Numpy.Seconds.TryGetValue(k, out var t) ? $"{S(t)} ({G(bytes, t)})"
                : s.Numpy.Skipped.ContainsKey(k) ? "skipped" : "–");
            b.AppendLine(CultureInfo.InvariantCulture, $"| {s.N} | {D(s.D)} | {S(s.CopySeconds)} ({G(bytes, s.CopySeconds)}) | {string.Join(" | ", cells)} |");
        }

        var notes = _shapes.Where(static s => s.Numpy is not null)
            .SelectMany(static s => s.Numpy!.Skipped.Select(p => $"- numpy {p.Key} at n={s.N}, d={D(s.D)}: {p.Value}")
                .Concat(s.Numpy!.Error is { } e ? [$"- numpy at n={s.N}, d={D(s.D)} failed: {e}"] : Array.Empty<string>()))
            .ToList();
        if (notes.Count > 0)
        {
            b.AppendLine();
            foreach (var note in notes)
            {
                b.AppendLine(note);
            }
        }

        return b.ToString();
    }

    private static string D(long d) =>
        d >= 10 && Math.Log10(d) is var e && e == Math.Floor(e) ? $"1e{e:0}" : d.ToString(CultureInfo.InvariantCulture);

    private static string? S(double? seconds) => seconds switch
    {
        null => null,
        < 0.001 => seconds.Value.ToString("0.000000", CultureInfo.InvariantCulture),
        < 1 => seconds.Value.ToString("0.0000", CultureInfo.InvariantCulture),
        _ => seconds.Value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    private static string G(double bytes, double? seconds) =>
        seconds is { } s && s > 0 ? (bytes / s / 1e9).ToString("0.0", CultureInfo.InvariantCulture) : "–";

    private static string X(double? numerator, double? denominator) =>
        numerator is { } a && denominator is { } b && b > 0 ? (a / b).ToString("0.0", CultureInfo.InvariantCulture) + "×" : "–";

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "FedAgg.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Environment.CurrentDirectory;
    }

    private sealed class RuleRow(int n, long d, string rule, double copySeconds)
    {
        public int N => n;

        public long D => d;

        public string Rule => rule;

        public double CopySeconds => copySeconds;

        public double? EngineSeconds { get; set; }

        public string EngineNote { get; set; } = "–";

        public double? NaiveSeconds { get; set; }

        public string? NaiveNote { get; set; }

        public bool? BitExact { get; set; }

        public string? NumpyKey { get; set; }

        public double? NumpySeconds { get; set; }

        public string? NumpyNote { get; set; }
    }

    private sealed record ShapeRow(int N, long D, double CopySeconds, NumpyResult? Numpy);
}
