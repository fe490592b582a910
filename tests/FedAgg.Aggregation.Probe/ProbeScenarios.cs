using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Probe;

/// <summary>What one aggregation produced, whoever computed it.</summary>
/// <param name="Output">The aggregate.</param>
/// <param name="Selected">The selection (empty for non-selecting rules).</param>
/// <param name="Scores">The first-pass Krum scores (empty for non-selecting rules).</param>
public sealed record ProbeOutcome(float[] Output, IReadOnlyList<int> Selected, IReadOnlyList<double> Scores);

/// <summary>
/// The scenarios the probe runs: seeded inputs (n = 16 with one non-finite, one huge, one sign-flipped and one
/// duplicate update; exponents spread over 2^±16 and ±2^30 pairs that cancel, so that summation order shows in the
/// bits; d = 30,000, not a multiple of 16 or 1024) and every rule and step. Each line is
/// <c>name sha256(output bytes) selection sha256(score bits)</c>, so two runs agree exactly when their bits do.
/// </summary>
public static class ProbeScenarios
{
    /// <summary>Number of inputs, finite and not.</summary>
    public const int Count = 16;

    /// <summary>Parameters per update.</summary>
    public const int Length = 30_000;

    /// <summary>The seeded inputs.</summary>
    public static IReadOnlyList<float[]> Inputs(ulong seed) =>
        UpdateGenerator.Generate(seed, new UpdatePlan(Count, Length)
        {
            NonFinite = 1,
            Huge = 1,
            SignFlipped = 1,
            Duplicates = 1,
            SignedZeros = true,
            ExponentSpread = 16,
            CancellingMagnitude = 1 << 30,
        }).Updates;

    /// <summary>The scenarios, by name; 15 finite updates reach the rules (Krum f = 6 and Bulyan f = 3 at their limits).</summary>
    public static IReadOnlyList<(string Name, AggregationSettings Settings)> Settings(ulong seed)
    {
        var centre = UpdateGenerator.Honest(seed ^ 0x5EED, 1, Length)[0];
        return
        [
            ("mean", new(new MeanRule())),
            ("median", new(new MedianRule())),
            ("trimmed-mean", new(new TrimmedMeanRule(0.2))),
            ("krum", new(new KrumRule(6))),
            ("multi-krum", new(new MultiKrumRule(6))),
            ("multi-krum-m5", new(new MultiKrumRule(4, 5))),
            ("bulyan", new(new BulyanRule(3))),
            ("centered-clipping", new(new CenteredClippingRule(1.0, 3))),
            ("centered-clipping-centre", new(new CenteredClippingRule(1.0, 2, AggregateBuffer.FromArray(centre)))),
            ("geometric-median", new(new GeometricMedianRule(1e-6, 5))),
            ("clip-norm+mean", new(new MeanRule(), [new ClipNormStep(50)])),
            ("nnm+median", new(new MedianRule(), [new NearestNeighbourMixingStep(3)])),
            ("bucketing+krum", new(new KrumRule(2), [new BucketingStep(2, 7)])),
            ("clip-norm+bucketing+bulyan", new(new BulyanRule(0), [new ClipNormStep(50), new BucketingStep(3, 11)])),
        ];
    }

    /// <summary>Runs every scenario through <paramref name="aggregate"/> and returns one line each.</summary>
    public static IReadOnlyList<string> Run(ulong seed, Func<IReadOnlyList<float[]>, AggregationSettings, ProbeOutcome> aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var inputs = Inputs(seed);
        var lines = new List<string>();
        foreach (var (name, settings) in Settings(seed))
        {
            lines.Add(Line(name, aggregate(inputs, settings)));
        }

        return lines;
    }

    /// <summary>The engine with the given options, as an aggregate function for <see cref="Run"/>.</summary>
    public static Func<IReadOnlyList<float[]>, AggregationSettings, ProbeOutcome> Engine(AggregationOptions options)
    {
        var engine = new AggregationEngine(options);
        return (inputs, settings) =>
        {
            var (output, result) = engine.Aggregate(inputs, settings);
            return new ProbeOutcome(output, result.Selected, result.Scores);
        };
    }

    /// <summary>The scalar reference, as an aggregate function for <see cref="Run"/>.</summary>
    public static ProbeOutcome Naive(IReadOnlyList<float[]> inputs, AggregationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var r = NaiveAggregation.Aggregate(inputs, settings.Rule, settings.Steps);
        return new ProbeOutcome(r.Output, r.Selected, r.Scores);
    }

    /// <summary>One line: name, SHA-256 of the output bytes, selection, SHA-256 of the score bits.</summary>
    public static string Line(string name, ProbeOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var output = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(outcome.Output.AsSpan())));
        var scores = new long[outcome.Scores.Count];
        for (var i = 0; i < scores.Length; i++)
        {
            // Any NaN is "excluded"; its payload is not part of the contract.
            scores[i] = double.IsNaN(outcome.Scores[i]) ? -1 : BitConverter.DoubleToInt64Bits(outcome.Scores[i]);
        }

        var scoreHash = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(scores.AsSpan())));
        var selected = string.Join(',', outcome.Selected.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return $"{name} {output} [{selected}] {scoreHash}";
    }

    /// <summary>The instruction sets the JIT uses in this process, as one line starting with <c>isa</c>.</summary>
    public static string Isa()
    {
        var sb = new StringBuilder("isa");
        sb.Append(CultureInfo.InvariantCulture, $" arch={RuntimeInformation.ProcessArchitecture}");
        sb.Append(CultureInfo.InvariantCulture, $" v128={Vector128.IsHardwareAccelerated}");
        sb.Append(CultureInfo.InvariantCulture, $" v256={Vector256.IsHardwareAccelerated}");
        sb.Append(CultureInfo.InvariantCulture, $" v512={Vector512.IsHardwareAccelerated}");
        sb.Append(CultureInfo.InvariantCulture, $" vector<T>={Vector<float>.Count}x{Vector.IsHardwareAccelerated}");
        sb.Append(CultureInfo.InvariantCulture, $" avx2={Avx2.IsSupported}");
        sb.Append(CultureInfo.InvariantCulture, $" fma={Fma.IsSupported}");
        sb.Append(CultureInfo.InvariantCulture, $" avx512f={Avx512F.IsSupported}");
        return sb.ToString();
    }
}
