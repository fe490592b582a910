using FedAgg.Aggregation;

namespace FedAgg.Benchmarks;

/// <summary>The rules the benchmarks run, with the parameters used for each n, and their numpy counterparts.</summary>
public static class RuleCatalog
{
    public static IReadOnlyList<string> Names { get; } =
        ["mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median"];

    /// <summary>Trimmed-mean's β.</summary>
    public const double TrimFraction = 0.1;

    /// <summary>The assumed Byzantine count: n/10, capped so that Bulyan (n ≥ 4f+3) can run too.</summary>
    public static int ByzantineCount(int n) => Math.Max(0, Math.Min(n / 10, (n - 3) / 4));

    public static AggregationRule Create(string name, int n) => name switch
    {
        "mean" => new MeanRule(),
        "median" => new MedianRule(),
        "trimmed-mean" => new TrimmedMeanRule(TrimFraction),
        "krum" => new KrumRule(ByzantineCount(n)),
        "multi-krum" => new MultiKrumRule(ByzantineCount(n)),
        "bulyan" => new BulyanRule(ByzantineCount(n)),
        "centered-clipping" => new CenteredClippingRule(Tau: 1.0, Iterations: 3),
        "geometric-median" => new GeometricMedianRule(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown rule"),
    };

    /// <summary>The rule with its parameters, as a table label: <c>krum(f=10)</c>.</summary>
    public static string Label(AggregationRule rule) =>
        rule.Parameters.Count == 0 ? rule.Name : $"{rule.Name}({string.Join(",", rule.Parameters.Select(static p => $"{p.Key}={p.Value}"))})";

    /// <summary>The numpy_rules.py entry timed against <paramref name="name"/>, or null when there is none.</summary>
    public static string? NumpyCounterpart(string name) => name switch
    {
        "mean" => "mean",
        "median" => "median",
        "trimmed-mean" => "trimmed_mean",
        "krum" => "krum_gram",
        "multi-krum" => "multikrum_gram",
        _ => null,
    };
}
