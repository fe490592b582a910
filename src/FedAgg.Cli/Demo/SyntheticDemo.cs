using System.Diagnostics;
using FedAgg.Aggregation;
using FedAgg.Core;

namespace FedAgg.Cli.Demo;

/// <summary>
/// <c>fedagg demo --synthetic</c>: generated honest updates plus Byzantine ones, aggregated by every rule, showing which
/// rules the attackers break. Self-contained (no files, no network, no training).
/// </summary>
internal static class SyntheticDemo
{
    /// <summary>Default honest participants.</summary>
    public const int DefaultHonest = 24;

    /// <summary>Default Byzantine participants.</summary>
    public const int DefaultByzantine = 5;

    /// <summary>Default parameters per update.</summary>
    public const int DefaultDimension = 1_000_000;

    public static int Run(int honestCount, int byzantineCount, int d, ulong seed)
    {
        if (honestCount < 3 || byzantineCount < 0 || d < 1)
        {
            Console.Error.WriteLine("fedagg demo: error: needs --honest ≥ 3, --byzantine ≥ 0 and --d ≥ 1");
            return 2;
        }

        var random = new SplitMix64(seed);
        var truth = new float[d];
        for (var c = 0; c < d; c++)
        {
            truth[c] = (float)(0.01 * random.NextGaussian());
        }

        var updates = new List<float[]>();
        var roles = new List<string>();
        for (var i = 0; i < honestCount; i++)
        {
            var u = new float[d];
            for (var c = 0; c < d; c++)
            {
                u[c] = truth[c] + (float)(0.01 * random.NextGaussian());
            }

            updates.Add(u);
            roles.Add("honest");
        }

        var honestMean = Mean(updates, d);
        var honestStd = StandardDeviation(updates, honestMean, d);
        string[] attacks = ["sign-flip ×10", "gaussian σ=1", "ALIE z=1", "NaN poison", "ALIE z=1 (copy)"];
        for (var b = 0; b < byzantineCount; b++)
        {
            var attack = attacks[b % attacks.Length];
            var u = new float[d];
            for (var c = 0; c < d; c++)
            {
                u[c] = attack switch
                {
                    "sign-flip ×10" => -10f * honestMean[c],
                    "gaussian σ=1" => (float)random.NextGaussian(),
                    "NaN poison" => c == d / 2 ? float.NaN : honestMean[c],
                    _ => honestMean[c] - honestStd[c],
                };
            }

            updates.Add(u);
            roles.Add(attack);
        }

        var n = updates.Count;
        var f = byzantineCount;
        Console.WriteLine($"FedAgg demo: {honestCount} honest and {byzantineCount} Byzantine updates of {d:N0} parameters (seed {seed}).");
        Console.WriteLine($"Byzantine: {string.Join(", ", roles.Skip(honestCount).Distinct())}.");
        Console.WriteLine("Error = ‖aggregate − honest mean‖ / ‖honest mean‖ (lower is better; the honest mean itself scores 0).");
        Console.WriteLine();
        Console.WriteLine($"{"rule",-34} {"error",10} {"cosine",8} {"ms",8}  selected / excluded");
        Console.WriteLine(new string('-', 100));

        var rules = new List<(string Label, AggregationSettings Settings)>
        {
            ("mean (FedAvg)", new(new MeanRule())),
            ("median", new(new MedianRule())),
            ($"trimmed-mean β={TrimBeta(n, f):0.###}", new(new TrimmedMeanRule(TrimBeta(n, f)))),
            ($"krum f={f}", new(new KrumRule(f))),
            ($"multi-krum f={f}", new(new MultiKrumRule(f))),
            ($"bulyan f={Math.Min(f, (n - 3) / 4)}", new(new BulyanRule(Math.Min(f, (n - 3) / 4)))),
            ("centered-clipping τ=0.1 L=3", new(new CenteredClippingRule(0.1 * Math.Sqrt(d) * 0.01, 3))),
            ("geometric-median", new(new GeometricMedianRule(1e-6, 10))),
            ("bucketing s=2 → median", new(new MedianRule(), [new BucketingStep(2, seed)])),
        };

        var engine = new AggregationEngine();
        var norm = Norm(honestMean);
        foreach (var (label, settings) in rules)
        {
            try
            {
                var stopwatch = Stopwatch.StartNew();
                var (output, result) = engine.Aggregate(updates, settings);
                stopwatch.Stop();
                var error = Distance(output, honestMean) / norm;
                var cosine = Dot(output, honestMean) / (Norm(output) * norm);
                var notes = new List<string>();
                if (result.Selected.Count > 0 && !settings.Steps.Any())
                {
                    var byzantinePicked = result.Selected.Count(i => roles[i] != "honest");
                    notes.Add($"{result.Selected.Count} selected, {byzantinePicked} Byzantine");
                }

                if (result.Excluded.Count > 0)
                {
                    notes.Add($"excluded {string.Join(", ", result.Excluded.Select(e => $"#{e.Index} ({e.Reason})"))}");
                }

                Console.WriteLine($"{label,-34} {error,10:G4} {cosine,8:F4} {stopwatch.Elapsed.TotalMilliseconds,8:F1}  {string.Join("; ", notes)}");
            }
            catch (AggregationException ex)
            {
                Console.WriteLine($"{label,-34} refused: {ex.Message}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("Every rule is deterministic: the same inputs give the same bits on any machine and thread count.");
        Console.WriteLine("Try `./fedagg aggregate --help` to run a rule over your own .npy updates.");
        return 0;
    }

    private static double TrimBeta(int n, int f) => Math.Min(0.49, (f + 0.5) / n);

    private static float[] Mean(List<float[]> updates, int d)
    {
        var mean = new float[d];
        for (var c = 0; c < d; c++)
        {
            var s = 0.0;
            foreach (var u in updates)
            {
                s += u[c];
            }

            mean[c] = (float)(s / updates.Count);
        }

        return mean;
    }

    private static float[] StandardDeviation(List<float[]> updates, float[] mean, int d)
    {
        var std = new float[d];
        for (var c = 0; c < d; c++)
        {
            var s = 0.0;
            foreach (var u in updates)
            {
                s += (u[c] - mean[c]) * (double)(u[c] - mean[c]);
            }

            std[c] = (float)Math.Sqrt(s / updates.Count);
        }

        return std;
    }

    private static double Dot(float[] a, float[] b)
    {
        var s = 0.0;
        for (var c = 0; c < a.Length; c++)
        {
            s += a[c] * (double)b[c];
        }

        return s;
    }

    private static double Norm(float[] a) => Math.Sqrt(Dot(a, a));

    private static double Distance(float[] a, float[] b)
    {
        var s = 0.0;
        for (var c = 0; c < a.Length; c++)
        {
            var e = a[c] - (double)b[c];
            s += e * e;
        }

        return Math.Sqrt(s);
    }
}
