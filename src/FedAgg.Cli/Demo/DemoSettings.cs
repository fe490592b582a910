using FedAgg.Attacks;
using FedAgg.Core.Rounds;
using FedAgg.Training.Data;

namespace FedAgg.Cli.Demo;

/// <summary>Everything <c>fedagg demo</c> was asked to do.</summary>
internal sealed record DemoSettings
{
    public const string DefaultRule = "trimmed-mean";

    public static readonly string[] Rules = ["mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median"];

    public static readonly string[] SweepAttacks = ["none", "sign-flip", "gaussian", "alie", "ipm", "label-flip"];

    public int Nodes { get; init; } = 10;

    public int Byzantine { get; init; } = 2;

    public AttackKind Attack { get; init; } = AttackKind.Alie;

    public string Rule { get; init; } = DefaultRule;

    public double? Beta { get; init; }

    public int? F { get; init; }

    public double Tau { get; init; } = 5.0;

    public int Rounds { get; init; } = 20;

    public int LocalSteps { get; init; } = 100;

    public int BatchSize { get; init; } = 64;

    public float LearningRate { get; init; } = 1e-3f;

    public double? Alpha { get; init; }

    public ulong Seed { get; init; } = 7;

    public IReadOnlyList<int> Hidden { get; init; } = [256, 128];

    public bool Json { get; init; }

    public string DatasetDirectory { get; init; } = FashionMnist.DefaultDirectory;

    public bool DatasetDirectoryGiven { get; init; }

    public string OutputDirectory { get; init; } = "demo-report";

    public string? DataDirectory { get; init; }

    public bool Sweep { get; init; }

    public int? SweepRounds { get; init; }

    public IReadOnlyList<string>? SweepRules { get; init; }

    public IReadOnlyList<string>? SweepAttackNames { get; init; }

    public int TrainSamples { get; init; }

    public int TestSamples { get; init; }

    public bool Verbose { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>The assumed Byzantine count the rules are configured with.</summary>
    public int AssumedF => F ?? Byzantine;

    /// <summary>The MLP's layer sizes for <paramref name="features"/> inputs and 10 classes.</summary>
    public int[] LayerSizes(int features) => [features, .. Hidden, FashionMnist.ClassCount];

    /// <summary>The robust rule's settings for n participants.</summary>
    public RuleSpec RuleSpecFor(string rule, int n)
    {
        var f = AssumedF;
        return rule switch
        {
            "mean" => new RuleSpec("mean"),
            "median" => new RuleSpec("median"),
            "trimmed-mean" => new RuleSpec("trimmed-mean") { Beta = Beta ?? TrimBeta(n, f) },
            "krum" => new RuleSpec("krum") { F = f },
            "multi-krum" => new RuleSpec("multi-krum") { F = f },
            "bulyan" => new RuleSpec("bulyan") { F = BulyanF(n, f) },
            "centered-clipping" => new RuleSpec("centered-clipping") { Tau = Tau, Iterations = 3 },
            "geometric-median" => new RuleSpec("geometric-median") { Nu = 1e-6, Iterations = 50 },
            _ => throw new ArgumentException($"unknown rule '{rule}'; rules: {string.Join(", ", Rules)}"),
        };
    }

    /// <summary>β = f / n, nudged up so that ⌊β·n⌋ is f in floating point (trims at least f per side).</summary>
    public static double TrimBeta(int n, int f)
    {
        var beta = (double)f / n;
        while (Math.Floor(beta * n) < f)
        {
            beta = Math.BitIncrement(beta);
        }

        return beta;
    }

    /// <summary>Bulyan needs n ≥ 4f + 3; the largest f it accepts, at most the assumed one.</summary>
    public static int BulyanF(int n, int f) => Math.Max(0, Math.Min(f, (n - 3) / 4));

    /// <summary>A short description of the rule as configured.</summary>
    public string DescribeRule(string rule, int n)
    {
        var spec = RuleSpecFor(rule, n);
        var parameters = new List<string>();
        if (spec.F is { } f)
        {
            parameters.Add($"f={f}");
        }

        if (spec.Beta is { } beta)
        {
            parameters.Add($"β={beta:0.###}");
        }

        if (spec.Tau is { } tau)
        {
            parameters.Add($"τ={tau:0.###}");
        }

        if (spec.Iterations is { } iterations)
        {
            parameters.Add($"iterations={iterations}");
        }

        return parameters.Count == 0 ? rule : $"{rule} ({string.Join(", ", parameters)})";
    }
}
