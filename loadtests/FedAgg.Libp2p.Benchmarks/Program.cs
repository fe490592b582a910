using System.Globalization;
using System.Runtime;

namespace FedAgg.Libp2p.Benchmarks;

/// <summary>
/// Throughput, message rate, handshake rate and ping RTT of FedAgg's libp2p stack, two hosts on 127.0.0.1 in one
/// process, each figure next to a baseline measured in the same run (raw TCP through System.IO.Pipelines, raw
/// ChaCha20-Poly1305, optionally js-libp2p). MB = 10^6 bytes.
/// </summary>
public static class Program
{
    public const string Usage = """
        usage: FedAgg.Libp2p.Benchmarks [--quick] [--js] [--runs N] [--dialers N] [--only a,b,…]
          --quick       a short run (< 15 s): smaller transfers, 1 run each
          --js          also measure a 16 MiB echo against js-libp2p (node + npm packages in the repository)
          --runs N      repetitions per figure; medians are reported (default 3, quick 1)
          --dialers N   concurrent dialers in the handshake test (default 8)
          --window-kib N  the hosts' Yamux receive window per stream (Libp2pHostOptions.YamuxInitialWindowBytes; default 256)
          --only LIST   run only some of: single,concurrent,messages,handshakes,ping,crypto,echo
        """;

    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"libp2p-bench: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        Console.WriteLine(
            $"# libp2p benchmark ({(options.Quick ? "quick" : "full")}, {options.Runs} run(s) per figure, median [min–max]; " +
            $"{Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, load average {LoadAverage()})");
        Console.WriteLine();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var rows = await new Libp2pBenchmark(options).RunAsync().ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine($"done in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s; load average {LoadAverage()}");
        return rows;
    }

    private static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', parts.Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }
}

/// <summary>Command-line options.</summary>
public sealed record BenchOptions
{
    private static readonly string[] AllCases = ["single", "concurrent", "messages", "handshakes", "ping", "crypto", "echo"];

    public bool Quick { get; init; }

    public bool Js { get; init; }

    public bool Help { get; init; }

    public int Runs { get; init; } = 3;

    public int Dialers { get; init; } = 8;

    public int WindowBytes { get; init; } = 256 * 1024;

    public IReadOnlySet<string> Cases { get; init; } = new HashSet<string>(AllCases, StringComparer.Ordinal);

    public int SingleStreamBytes => Quick ? 16 << 20 : 64 << 20;

    public int ConcurrentStreams => 16;

    public int ConcurrentStreamBytes => Quick ? 1 << 20 : 4 << 20;

    public int MessageBytes => 1 << 20;

    public int MessageCount => Quick ? 16 : 64;

    public TimeSpan HandshakeDuration => TimeSpan.FromSeconds(Quick ? 1 : 3);

    public int Pings => Quick ? 300 : 2000;

    public bool Has(string name) => Cases.Contains(name);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var runsSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--js":
                    options = options with { Js = true };
                    break;
                case "--help" or "-h":
                    options = options with { Help = true };
                    break;
                case "--runs":
                    options = options with { Runs = ParseInt(args, ref i, 1, 50) };
                    runsSet = true;
                    break;
                case "--window-kib":
                    options = options with { WindowBytes = ParseInt(args, ref i, 256, 16 * 1024) * 1024 };
                    break;
                case "--dialers":
                    options = options with { Dialers = ParseInt(args, ref i, 1, 256) };
                    break;
                case "--only":
                    if (++i >= args.Length)
                    {
                        throw new FormatException("--only needs a list");
                    }

                    var chosen = args[i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    foreach (var name in chosen)
                    {
                        if (!AllCases.Contains(name))
                        {
                            throw new FormatException($"unknown case '{name}' (known: {string.Join(',', AllCases)})");
                        }
                    }

                    options = options with { Cases = new HashSet<string>(chosen, StringComparer.Ordinal) };
                    break;
                default:
                    throw new FormatException($"unknown argument '{args[i]}'");
            }
        }

        if (options.Quick && !runsSet)
        {
            options = options with { Runs = 1 };
        }

        return options;
    }

    private static int ParseInt(string[] args, ref int i, int min, int max)
    {
        var name = args[i];
        if (++i >= args.Length || !int.TryParse(args[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new FormatException($"{name} needs an integer from {min} to {max}");
        }

        return value;
    }
}
