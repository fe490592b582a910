using System.Globalization;

namespace FedAgg.Benchmarks;

/// <summary>Command-line options of the table mode; every list is comma-separated.</summary>
public sealed record TableOptions
{
    public const string Usage = """
        usage: ./bench.sh [--n 10,50,100] [--d 1e5,1e6] [--rules mean,median,...] [--threads K] [--runs k]
                          [--quick] [--naive-limit 20] [--no-naive] [--no-numpy] [--seed 1] [--out FILE]
               ./bench.sh --bdn [BenchmarkDotNet arguments, e.g. --filter *Median*]

          --n            numbers of updates (default 10,50,100)
          --d            parameters per update (default 1e5,1e6; 1e7 only when asked for: n=100 is 4 GB)
          --rules        mean, median, trimmed-mean, krum, multi-krum, bulyan, centered-clipping,
                         geometric-median (default: all)
          --threads      engine and copy-baseline threads, OPENBLAS_NUM_THREADS for numpy (default: all cores)
          --runs         timed runs per case after one warm-up; the median is reported (default 5, --quick 3)
          --quick        3 runs, d = 1e5 unless --d is given, naive limit 5 s
          --naive-limit  run the TestKit's scalar reference only where it is estimated under this many seconds (default 20)
          --no-naive / --no-numpy   leave those columns out
          --out          report file (default loadtests/reports/bench-<UTC timestamp>.md)
        """;

    public IReadOnlyList<int> Counts { get; init; } = [10, 50, 100];

    public IReadOnlyList<long> Lengths { get; init; } = [100_000, 1_000_000];

    public IReadOnlyList<string> Rules { get; init; } = RuleCatalog.Names;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public int Runs { get; init; } = 5;

    public bool Quick { get; init; }

    public double NaiveLimitSeconds { get; init; } = 20;

    public bool Naive { get; init; } = true;

    public bool Numpy { get; init; } = true;

    public ulong Seed { get; init; } = 1;

    public string? OutputPath { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses the arguments; throws <see cref="FormatException"/> naming the bad option.</summary>
    public static TableOptions Parse(IReadOnlyList<string> args)
    {
        var options = new TableOptions();
        bool lengthsGiven = false, runsGiven = false, limitGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{arg} needs a value");
            switch (arg)
            {
                case "--n":
                    options = options with { Counts = List(arg, Value(), static s => checked((int)ParseCount(s))) };
                    if (options.Counts.Any(static n => n < 1))
                    {
                        throw new FormatException("--n: every n must be ≥ 1");
                    }

                    break;
                case "--d":
                    options = options with { Lengths = List(arg, Value(), ParseCount) };
                    if (options.Lengths.Any(static d => d < 1 || d > int.MaxValue))
                    {
                        throw new FormatException($"--d: every d must be in [1, {int.MaxValue}]");
                    }

                    lengthsGiven = true;
                    break;
                case "--rules":
                    options = options with { Rules = List(arg, Value(), static s => s) };
                    foreach (var rule in options.Rules)
                    {
                        if (!RuleCatalog.Names.Contains(rule))
                        {
                            throw new FormatException($"--rules: unknown rule '{rule}' (known: {string.Join(", ", RuleCatalog.Names)})");
                        }
                    }

                    break;
                case "--threads":
                    options = options with { Threads = Positive(arg, Value()) };
                    break;
                case "--runs":
                    options = options with { Runs = Positive(arg, Value()) };
                    runsGiven = true;
                    break;
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--naive-limit":
                    options = options with { NaiveLimitSeconds = double.Parse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture) };
                    limitGiven = true;
                    break;
                case "--no-naive":
                    options = options with { Naive = false };
                    break;
                case "--no-numpy":
                    options = options with { Numpy = false };
                    break;
                case "--seed":
                    options = options with { Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--out":
                    options = options with { OutputPath = Value() };
                    break;
                case "-h" or "--help":
                    options = options with { Help = true };
                    break;
                default:
                    throw new FormatException($"unknown option '{arg}'");
            }
        }

        if (options.Quick)
        {
            options = options with
            {
                Runs = runsGiven ? options.Runs : 3,
                Lengths = lengthsGiven ? options.Lengths : [100_000],
                NaiveLimitSeconds = limitGiven ? options.NaiveLimitSeconds : 5,
            };
        }

        return options;
    }

    /// <summary>Accepts 1000000, 1e6 and 1_000_000.</summary>
    private static long ParseCount(string text)
    {
        var value = double.Parse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (value != Math.Floor(value) || value > long.MaxValue || value < 0)
        {
            throw new FormatException($"'{text}' is not a whole number");
        }

        return (long)value;
    }

    private static int Positive(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1
            ? value
            : throw new FormatException($"{option}: expected a whole number ≥ 1, got '{text}'");

    private static List<T> List<T>(string option, string text, Func<string, T> parse)
    {
        try
        {
            var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToList();
            return list.Count > 0 ? list : throw new FormatException($"{option}: empty list");
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"{option}: {e.Message}", e);
        }
    }
}
