using System.Globalization;
using FedAgg.Aggregation.Tests.Support;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Contributions;

/// <summary>
/// The engine's contributions against <see cref="NaiveContributions"/>, bit for bit, for every rule and pre-step set on
/// seeded inputs (planted outliers, ties, duplicates, ±0, NaN/±Inf, n from 1 to 100, d across 16- and 1024-coordinate
/// edges), each case run with 1, 2 and 8 threads and three block sizes.
/// </summary>
public sealed class ContributionsReferenceTests
{
    private delegate AggregationRule RuleFor(int n, int d);

    private sealed record Case(Func<float[][]> Inputs, RuleFor Rule, Func<int, PreAggregationStep[]> Steps);

    private static readonly (string Name, RuleFor Rule)[] Rules =
    [
        ("mean", (_, _) => new MeanRule()),
        ("median", (_, _) => new MedianRule()),
        ("trimmed-mean-0.25", (_, _) => new TrimmedMeanRule(0.25)),
        ("trimmed-mean-0.1", (_, _) => new TrimmedMeanRule(0.1)),
        ("krum", (n, _) => new KrumRule((n - 3) / 2)),
        ("multi-krum", (n, _) => new MultiKrumRule((n - 3) / 2)),
        ("multi-krum-m2", (n, _) => new MultiKrumRule((n - 3) / 4, 2)),
        ("bulyan", (n, _) => new BulyanRule((n - 3) / 4)),
        ("centered-clipping", (_, d) => new CenteredClippingRule(0.1 * Math.Sqrt(d), 3)),
        ("centered-clipping-unclipped", (_, _) => new CenteredClippingRule(1e9, 2)),
        ("centered-clipping-centre", (_, d) => new CenteredClippingRule(0.05 * Math.Sqrt(d), 2, AggregateBuffer.FromArray(UpdateGenerator.Honest(77, 1, d)[0]))),
        ("geometric-median", (_, _) => new GeometricMedianRule(1e-6, 4)),
    ];

    private static readonly (string Name, Func<int, PreAggregationStep[]> Steps)[] StepSets =
    [
        ("clip-norm", d => [new ClipNormStep(0.5 * Math.Sqrt(d))]),
        ("nnm", _ => [new NearestNeighbourMixingStep(3)]),
        ("bucketing-2", _ => [new BucketingStep(2, 5)]),
        ("clip-norm+bucketing-3", d => [new ClipNormStep(0.5 * Math.Sqrt(d)), new BucketingStep(3, 123_456_789_000UL)]),
        ("nnm+bucketing-2", _ => [new NearestNeighbourMixingStep(2), new BucketingStep(2, 9)]),
    ];

    private static readonly (int Dop, int Block)[] Options = [(1, 4096), (2, 1024), (8, 2048)];

    private static readonly Dictionary<string, Case> Cases = BuildCases();

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Aggregate_SeededInputs_ContributionsMatchReferenceBitForBit(string name)
    {
        var c = Cases[name];
        var inputs = c.Inputs();
        var d = inputs[0].Length;
        var finite = inputs.Count(u => NaiveAggregation.FirstNonFinite(u) < 0);
        var steps = c.Steps(d);
        var n = steps.Aggregate(finite, (count, step) => step.OutputCount(count));
        var rule = c.Rule(n, d);

        var expected = NaiveContributions.Compute(inputs, rule, steps);
        var expectedOutput = NaiveAggregation.Aggregate(inputs, rule, steps).Output;
        foreach (var (dop, block) in Options)
        {
            var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = dop, BlockCoordinates = block, ComputeContributions = true });
            var (output, result) = engine.Aggregate(inputs, new AggregationSettings(rule, steps));
            var context = $"{name} dop={dop} block={block}";
            BitAssert.Equal(expected, [.. result.Contributions], context + " contributions");

            // Counting must not disturb the aggregate.
            BitAssert.Equal(expectedOutput, output, context + " output");
        }
    }

    [Fact]
    public void Aggregate_ContributionsOff_ReportsNone()
    {
        var inputs = UpdateGenerator.Generate(1, new UpdatePlan(9, 100) { Huge = 1 }).Updates;
        var (_, result) = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 1 }).Aggregate(inputs, new AggregationSettings(new TrimmedMeanRule(0.2)));
        Assert.Empty(result.Contributions);
    }

    [Fact]
    public void CaseNames_Matrix_CoversEveryRuleAndStepAndIsLarge()
    {
        var names = Cases.Keys.ToArray();
        foreach (var (ruleName, _) in Rules)
        {
            Assert.Contains(names, n => n.EndsWith("/" + ruleName, StringComparison.Ordinal) && n.StartsWith("duplicates", StringComparison.Ordinal));
        }

        foreach (var (stepsName, _) in StepSets)
        {
            Assert.Contains(names, n => n.StartsWith("steps=" + stepsName + "/", StringComparison.Ordinal));
        }

        Assert.Contains(names, n => n.StartsWith("n=100", StringComparison.Ordinal));
        Assert.True(names.Length > 200, names.Length.ToString(CultureInfo.InvariantCulture));
    }

    private static Dictionary<string, Case> BuildCases()
    {
        var cases = new Dictionary<string, Case>();
        void Add(string name, Func<float[][]> inputs, RuleFor rule, Func<int, PreAggregationStep[]>? steps = null) =>
            cases.Add(name, new Case(inputs, rule, steps ?? (_ => [])));

        static Func<float[][]> Planned(ulong seed, UpdatePlan plan) => () => [.. UpdateGenerator.Generate(seed, plan).Updates];

        static UpdatePlan Odd(int d) => new(12, d) { NonFinite = 1, Huge = 1, SignFlipped = 1, Duplicates = 1 };
        static UpdatePlan Even(int d) => new(11, d) { NonFinite = 1, Huge = 1, Duplicates = 1, Ties = true, SignedZeros = true };

        foreach (var (ruleName, rule) in Rules)
        {
            foreach (var d in (int[])[1, 17, 1025, 5000])
            {
                Add($"odd-n/d={d}/{ruleName}", Planned((ulong)d * 37, Odd(d)), rule);
                Add($"even-n-ties-zeros/d={d}/{ruleName}", Planned(((ulong)d * 37) + 1, Even(d)), rule);
            }

            // Exact duplicates and a 1/64 grid: ties at the trimming cut and tied Krum scores.
            Add($"duplicates/d=17/{ruleName}", Planned(4, new UpdatePlan(9, 17) { Duplicates = 4, Ties = true }), rule);
            Add($"zeros-and-denormals/d=33/{ruleName}", () => Palette(5, 7, 33, [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon]), rule);
            Add($"non-finite/d=100/{ruleName}", Planned(6, new UpdatePlan(10, 100) { NonFinite = 3, Huge = 1 }), rule);
            Add($"wide-range/d=1025/{ruleName}", Planned(8, Odd(1025) with { ExponentSpread = 20, CancellingMagnitude = 1e12 }), rule);

            foreach (var n in (int[])[1, 2, 3, 4])
            {
                if (Allows(rule(n, 17), n))
                {
                    Add($"small-n={n}/d=17/{ruleName}", Planned((ulong)n + 17, new UpdatePlan(n, 17) { SignedZeros = true, Ties = true }), rule);
                }
            }

            foreach (var (stepsName, steps) in StepSets)
            {
                foreach (var d in (int[])[17, 1025])
                {
                    Add($"steps={stepsName}/d={d}/{ruleName}", Planned((ulong)d + 7, Odd(d)), rule, steps);
                }
            }
        }

        // n = 100 for the coordinate-wise rules: many ties at the cut (1/64 grid) and coordinates across blocks.
        foreach (var (ruleName, rule) in Rules.Where(r => r.Name is "mean" or "median" || r.Name.StartsWith("trimmed-mean", StringComparison.Ordinal)))
        {
            Add($"n=100-ties/d=2500/{ruleName}", Planned(100, new UpdatePlan(100, 2500) { Huge = 10, Duplicates = 10, NonFinite = 2, Ties = true, SignedZeros = true }), rule);
            Add($"n=99/d=1040/{ruleName}", Planned(99, new UpdatePlan(99, 1040) { Huge = 9, SignFlipped = 9 }), rule);
            Add($"extremes/d=40/{ruleName}", () => Palette(11, 8, 40, [float.MaxValue, -float.MaxValue, 1f, float.Epsilon, -float.Epsilon, 0f, -0f]), rule);
        }

        return cases;
    }

    private static float[][] Palette(ulong seed, int n, int d, float[] palette)
    {
        var rng = new SplitMix64(seed);
        var rows = new float[n][];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            for (var c = 0; c < d; c++)
            {
                rows[i][c] = palette[rng.NextInt(palette.Length)];
            }
        }

        return rows;
    }

    private static bool Allows(AggregationRule rule, int n)
    {
        try
        {
            rule.Validate(n);
            return true;
        }
        catch (AggregationException)
        {
            return false;
        }
    }
}
