using System.Globalization;
using FedAgg.Libp2p;
using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests;

/// <summary>
/// The parsed command line of <c>fedagg-load &lt;scenario&gt; [options]</c> (see <see cref="Usage"/>). Defaults depend on
/// the scenario (see <see cref="Parse"/>).
/// </summary>
public sealed record LoadCommandLine
{
    /// <summary>The scenarios.</summary>
    public static IReadOnlyList<string> ScenarioNames { get; } = ["submit", "model-download", "handshake-storm", "hostile-mix", "rounds"];

    /// <summary>The usage text.</summary>
    public const string Usage = """
        fedagg-load <scenario> [--duration 30s] [--warmup 5s] [--load inject:50/s|ramp:0-100/s|keep:16]
                    [--target MULTIADDR [--coordinator-key FILE] | --dev [--chain auto|none] [--rule mean] [--server-data DIR]]
                    [--peers P] [--size 1MiB] [--rounds 200] [--hostile-rate 10] [--hostile 2] [--max-in-flight 1024] [--grace 10s]
                    [--heap-every 10] [--heap-warmup 50] [--heap-interval 5s] [--report-dir DIR] [--quiet]
        scenarios: submit, model-download, handshake-storm, hostile-mix, rounds
        """;

    /// <summary>The scenario.</summary>
    public required string Scenario { get; init; }

    /// <summary>Measured duration (per phase for hostile-mix; the cap for rounds).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Warm-up before measuring.</summary>
    public required TimeSpan WarmUp { get; init; }

    /// <summary>The load specification as given (or the scenario's default).</summary>
    public required string LoadText { get; init; }

    /// <summary>The load simulation.</summary>
    public LoadSimulation Load => LoadSimulation.Parse(LoadText, Duration);

    /// <summary>Start a server (<c>fedagg server --dev</c>) as a child process.</summary>
    public bool Dev { get; init; }

    /// <summary>The server to load (without <see cref="Dev"/>).</summary>
    public Multiaddress? Target { get; init; }

    /// <summary>The coordinator key for <see cref="Target"/> (closing rounds).</summary>
    public string? CoordinatorKey { get; init; }

    /// <summary>With <see cref="Dev"/>: start the embedded chain and anchor rounds.</summary>
    public bool Chain { get; init; }

    /// <summary>With <see cref="Dev"/>: the demo task's rule.</summary>
    public string Rule { get; init; } = "mean";

    /// <summary>With <see cref="Dev"/>: keep the server's data here (default a temporary folder, deleted).</summary>
    public string? ServerData { get; init; }

    /// <summary>Participants (connected peers).</summary>
    public required int Peers { get; init; }

    /// <summary>Update (= model) size in bytes, a multiple of 4 (with <see cref="Dev"/>).</summary>
    public required long SizeBytes { get; init; }

    /// <summary>Rounds to run (rounds scenario).</summary>
    public int Rounds { get; init; } = 200;

    /// <summary>
    /// Rounds scenario: take the server's retained heap (<c>server.status</c> with a forced full collection) every this
    /// many published rounds, between rounds (default 10; 0: only at the start and the end).
    /// </summary>
    public int HeapEvery { get; init; } = 10;

    /// <summary>
    /// Rounds scenario: rounds of warm-up before the retained heap's baseline sample (default 50: on this machine the
    /// retained heap climbs from about 4 to 12 MB over the first 30–50 rounds as caches, pools and the chain client fill).
    /// </summary>
    public int HeapWarmupRounds { get; init; } = 50;

    /// <summary>Other scenarios with a coordinator key: the time between <c>server.status</c> samples, without forced collection (default 5 s; 0: off).</summary>
    public TimeSpan HeapInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Copies of each hostile peer kind (hostile-mix) when <see cref="HostileRate"/> is 0: closed loops, as fast as the runner goes.</summary>
    public int Hostile { get; init; } = 2;

    /// <summary>
    /// Hostile iterations started per second per kind (hostile-mix; default 10; 0: <see cref="Hostile"/> closed-loop copies
    /// instead). A fixed rate makes the attack the same whatever the runner's speed: closed loops on the cores the server
    /// uses mostly measure the runner starving the server.
    /// </summary>
    public int HostileRate { get; init; } = 10;

    /// <summary>The most iterations in flight.</summary>
    public int MaxInFlight { get; init; } = 1024;

    /// <summary>How long iterations in flight may finish after the load ends.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where report folders go.</summary>
    public string? ReportDirectory { get; init; }

    /// <summary>No live lines.</summary>
    public bool Quiet { get; init; }

    /// <summary>The arguments as given.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Parses the arguments.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The command line.</returns>
    /// <exception cref="FormatException">An argument is unknown, missing its value or out of range (the message says which).</exception>
    public static LoadCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0 || !ScenarioNames.Contains(args[0], StringComparer.Ordinal))
        {
            throw new FormatException($"the first argument must be a scenario: {string.Join(", ", ScenarioNames)}");
        }

        var scenario = args[0];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        string[] valued = ["--duration", "--warmup", "--load", "--target", "--coordinator-key", "--chain", "--rule", "--server-data", "--peers", "--size",
            "--rounds", "--hostile", "--hostile-rate", "--max-in-flight", "--grace", "--report-dir", "--heap-every", "--heap-warmup", "--heap-interval"];
        string[] flagged = ["--dev", "--quiet"];
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            if (flagged.Contains(name, StringComparer.Ordinal))
            {
                flags.Add(name);
            }
            else if (valued.Contains(name, StringComparer.Ordinal))
            {
                if (i + 1 >= args.Count)
                {
                    throw new FormatException($"{name} needs a value");
                }

                values[name] = args[++i];
            }
            else
            {
                throw new FormatException($"unknown argument '{name}'");
            }
        }

        var dev = flags.Contains("--dev");
        var target = values.GetValueOrDefault("--target");
        if (dev == (target is not null))
        {
            throw new FormatException("give exactly one of --dev and --target MULTIADDR");
        }

        Multiaddress? address = null;
        if (target is not null && (!Multiaddress.TryParse(target, out address) || address.PeerId is null))
        {
            throw new FormatException($"--target '{target}' is not a multiaddress with /p2p/<peer id>");
        }

        var chain = values.GetValueOrDefault("--chain", scenario == "rounds" ? "auto" : "none");
        if (chain is not ("auto" or "none"))
        {
            throw new FormatException("--chain is auto or none");
        }

        var (defaultPeers, defaultLoad, defaultSize, defaultDuration) = scenario switch
        {
            "submit" or "hostile-mix" => (100, "inject:50/s", 1L << 20, "30s"),
            "model-download" => (32, "keep:16", 1L << 20, "30s"),
            "handshake-storm" => (0, "inject:500/s", 4096L, "30s"),
            _ => (4, "", 4096L, "30m"),
        };
        var peers = Int(values, "--peers", defaultPeers, 1, 10_000);
        var size = Size(values.GetValueOrDefault("--size"), defaultSize);
        var duration = DurationValue(values, "--duration", defaultDuration);
        var line = new LoadCommandLine
        {
            Scenario = scenario,
            Duration = duration,
            WarmUp = DurationValue(values, "--warmup", scenario == "rounds" ? "0s" : "5s", allowZero: true),
            LoadText = values.GetValueOrDefault("--load", scenario == "rounds" ? $"keep:{peers}" : defaultLoad),
            Dev = dev,
            Target = address,
            CoordinatorKey = values.GetValueOrDefault("--coordinator-key"),
            Chain = chain == "auto",
            Rule = values.GetValueOrDefault("--rule", "mean"),
            ServerData = values.GetValueOrDefault("--server-data"),
            Peers = peers,
            SizeBytes = size,
            Rounds = Int(values, "--rounds", 200, 1, 1_000_000),
            Hostile = Int(values, "--hostile", 2, 1, 1000),
            HostileRate = Int(values, "--hostile-rate", 10, 0, 10_000),
            MaxInFlight = Int(values, "--max-in-flight", 1024, 1, 1_000_000),
            Grace = DurationValue(values, "--grace", "10s"),
            HeapEvery = Int(values, "--heap-every", 10, 0, 1_000_000),
            HeapWarmupRounds = Int(values, "--heap-warmup", 50, 0, 1_000_000),
            HeapInterval = DurationValue(values, "--heap-interval", "5s", allowZero: true),
            ReportDirectory = values.GetValueOrDefault("--report-dir"),
            Quiet = flags.Contains("--quiet"),
            Arguments = [.. args],
        };
        _ = line.Load; // validates --load now
        return line;
    }

    /// <summary>Parses a duration: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c> (or plain seconds).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The duration.</returns>
    /// <exception cref="FormatException">Not a duration.</exception>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value * scale <= 86_400
            ? TimeSpan.FromSeconds(value * scale)
            : throw new FormatException($"'{text}' is not a duration such as 500ms, 30s, 2m or 1h (at most 1 day)");
    }

    /// <summary>Parses a size: <c>4096</c>, <c>4KiB</c>, <c>1MiB</c>, <c>1GiB</c> (also KB/MB = 10^3/10^6); a multiple of 4.</summary>
    /// <param name="text">The text, or null for <paramref name="fallback"/>.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>Bytes.</returns>
    /// <exception cref="FormatException">Not a size, or not a positive multiple of 4 up to 400 MB.</exception>
    public static long Size(string? text, long fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        (string Suffix, long Scale)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000), ("B", 1)];
        var (number, scale) = (text, 1L);
        foreach (var (suffix, unit) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                (number, scale) = (text[..^suffix.Length], unit);
                break;
            }
        }

        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value * scale is > 0 and <= 400_000_000 && value * scale % 4 == 0
            ? value * scale
            : throw new FormatException($"--size '{text}' is not a positive multiple of 4 bytes up to 400 MB (e.g. 4KiB, 1MiB)");
    }

    private static TimeSpan DurationValue(Dictionary<string, string> values, string name, string fallback, bool allowZero = false)
    {
        var value = ParseDuration(values.GetValueOrDefault(name, fallback));
        return allowZero || value > TimeSpan.Zero ? value : throw new FormatException($"{name} must be more than 0");
    }

    private static int Int(Dictionary<string, string> values, string name, int fallback, int min, int max)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{name} must be an integer from {min} to {max}; it is '{text}'");
    }
}
