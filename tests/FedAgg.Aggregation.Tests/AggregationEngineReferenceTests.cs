using System.Globalization;
using FedAgg.Aggregation.Tests.Support;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests;

/// <summary>
/// The engine against the scalar reference, bit for bit (output, selection, scores, exclusions), for every rule and
/// pre-aggregation step on seeded inputs with planted outliers, at n and d chosen to hit the edges: f at its limit,
/// even and odd n, d around multiples of 16 and 1024, ties, duplicates, ±0, NaN/±Inf.
/// </summary>
public sealed class AggregationEngineReferenceTests
{
    /// <summary>A rule for n updates of length d (so that f sits at its limit for the n the rule will see).</summary>
    private delegate AggregationRule RuleFor(int n, int d);

    private sealed record Case(Func<float[][]> Inputs, RuleFor Rule, Func<int, PreAggregationStep[]> Steps, int Dop, int Block);

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
        ("geometric-median-default", (_, _) => new GeometricMedianRule()),
    ];

    private static readonly (string Name, Func<int, PreAggregationStep[]> Steps)[] StepSets =
    [
        ("clip-norm", d => [new ClipNormStep(0.5 * Math.Sqrt(d))]),
        ("nnm", _ => [new NearestNeighbourMixingStep(3)]),
        ("bucketing-2", _ => [new BucketingStep(2, 5)]),
        ("bucketing-3", _ => [new BucketingStep(3, 0)]),
        ("clip-norm+bucketing", d => [new ClipNormStep(0.5 * Math.Sqrt(d)), new BucketingStep(2, 123_456_789_000UL)]),
        ("nnm+clip-norm", d => [new NearestNeighbourMixingStep(2), new ClipNormStep(0.3 * Math.Sqrt(d))]),
    ];

    private const double TwoTo40 = 1099511627776.0;

    private static readonly (int Dop, int Block)[] Options = [(1, 4096), (2, 1024), (3, 2048)];

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
    public void Aggregate_SeededInputs_MatchesReferenceBitForBit(string name)
    {
        var c = Cases[name];
        var inputs = c.Inputs();
        var d = inputs[0].Length;
        var finite = inputs.Count(u => NaiveAggregation.FirstNonFinite(u) < 0);
        var steps = c.Steps(d);
        var n = steps.Aggregate(finite, (count, step) => step.OutputCount(count));
        var rule = c.Rule(n, d);

        var expected = Aggregators.Naive(inputs, rule, steps);
        var actual = Aggregators.Engine(inputs, rule, steps, c.Dop, c.Block);
        BitAssert.SameOutcome(expected, actual, name);
    }

    private static Dictionary<string, Case> BuildCases()
    {
        var cases = new Dictionary<string, Case>();
        var k = 0;
        void Add(string name, Func<float[][]> inputs, RuleFor rule, Func<int, PreAggregationStep[]> steps)
        {
            var (dop, block) = Options[k++ % Options.Length];
            cases.Add(name, new Case(inputs, rule, steps, dop, block));
        }

        static Func<float[][]> Planned(ulong seed, UpdatePlan plan) => () => [.. UpdateGenerator.Generate(seed, plan).Updates];

        // 12 inputs, one non-finite: 11 reach the rule (Krum f = 4 = (n−3)/2 and Bulyan f = 2 at their limits).
        static UpdatePlan Odd(int d) => new(12, d) { NonFinite = 1, Huge = 1, SignFlipped = 1, Duplicates = 1 };

        // 11 inputs, one non-finite: 10 reach the rule; ties on a 1/64 grid and ±0 coordinates.
        static UpdatePlan Even(int d) => new(11, d) { NonFinite = 1, Huge = 1, Duplicates = 1, Ties = true, SignedZeros = true };

        // 11 inputs, f = 4 of them Byzantine for Krum at n = 2f+3 (and Bulyan f = 2 at n = 4f+3).
        static UpdatePlan Limit(int d) => new(11, d) { Huge = 2, SignFlipped = 2 };

        int[] lengths = [1, 15, 17, 1023, 1025, 5000];
        foreach (var (ruleName, rule) in Rules)
        {
            foreach (var d in lengths)
            {
                var seed = (ulong)(d * 31);
                Add($"odd-n/d={d}/{ruleName}", Planned(seed, Odd(d)), rule, _ => []);
                Add($"even-n-ties-zeros/d={d}/{ruleName}", Planned(seed + 1, Even(d)), rule, _ => []);
            }

            Add($"f-at-limit/d=1025/{ruleName}", Planned(3, Limit(1025)), rule, _ => []);

            // Many exact duplicates and ties: Krum scores tie and the lower index must win.
            Add($"duplicates/d=17/{ruleName}", Planned(4, new UpdatePlan(9, 17) { Duplicates = 4, Ties = true }), rule, _ => []);

            // Exponents spread over 2^±20 and ±2^40 pairs that cancel: the double sums round and cancel, so any deviation
            // from the stated summation order shows in the float32 bits.
            Add($"wide-range/d=1025/{ruleName}", Planned(8, Odd(1025) with { ExponentSpread = 20, CancellingMagnitude = TwoTo40 }), rule, _ => []);
            Add($"wide-range-even-n/d=5000/{ruleName}", Planned(9, Even(5000) with { ExponentSpread = 20, CancellingMagnitude = TwoTo40 }), rule, _ => []);

            // Only ±0, ±1 and ±denormal values.
            Add($"zeros-and-denormals/d=33/{ruleName}", () => ZerosAndDenormals(5, 7, 33), rule, _ => []);

            // Several non-finite inputs (NaN, +Inf, −Inf, at the first and last coordinates too).
            Add($"non-finite/d=100/{ruleName}", Planned(6, new UpdatePlan(10, 100) { NonFinite = 3, Huge = 1 }), rule, _ => []);

            foreach (var n in (int[])[1, 2, 3])
            {
                foreach (var d in (int[])[17, 1025])
                {
                    if (Allows(rule(n, d), n))
                    {
                        Add($"small-n={n}/d={d}/{ruleName}", Planned((ulong)(n + d), new UpdatePlan(n, d) { SignedZeros = true }), rule, _ => []);
                    }
                }
            }

            foreach (var (stepsName, steps) in StepSets)
            {
                foreach (var d in (int[])[17, 1025, 5000])
                {
                    Add($"steps={stepsName}/d={d}/{ruleName}", Planned((ulong)d + 7, Odd(d)), rule, steps);
                }

                Add($"steps={stepsName}/wide-range/d=1025/{ruleName}", Planned(10, Odd(1025) with { ExponentSpread = 20, CancellingMagnitude = TwoTo40 }), rule, steps);
            }
        }

        // Values at the ends of float32 (±MaxValue, denormals): only for the coordinate-wise rules, since centring such
        // rows overflows float32 and the document leaves non-finite distances open.
        foreach (var (ruleName, rule) in Rules.Where(r => r.Name is "mean" or "median" || r.Name.StartsWith("trimmed-mean", StringComparison.Ordinal)))
        {
            Add($"extremes-odd-n/d=40/{ruleName}", () => Extremes(11, 7, 40), rule, _ => []);
            Add($"extremes-even-n/d=40/{ruleName}", () => Extremes(12, 8, 40), rule, _ => []);
        }

        return cases;
    }

    private static float[][] Extremes(ulong seed, int n, int d)
    {
        float[] palette = [float.MaxValue, -float.MaxValue, float.MaxValue / 3, -float.MaxValue / 2, 1f, float.Epsilon, -float.Epsilon, 0f, -0f];
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

    private static float[][] ZerosAndDenormals(ulong seed, int n, int d)
    {
        float[] palette = [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, 2 * float.Epsilon];
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

    [Fact]
    public void CaseNames_Matrix_CoversEveryRuleAndStep()
    {
        // Guards the matrix itself: a typo in BuildCases must not silently drop a rule or a step set.
        var names = Cases.Keys.ToArray();
        foreach (var (ruleName, _) in Rules)
        {
            Assert.Contains(names, n => n.EndsWith("/" + ruleName, StringComparison.Ordinal) && n.StartsWith("f-at-limit", StringComparison.Ordinal));
        }

        foreach (var (stepsName, _) in StepSets)
        {
            Assert.Contains(names, n => n.StartsWith("steps=" + stepsName + "/", StringComparison.Ordinal));
        }

        Assert.True(names.Length > 300, names.Length.ToString(CultureInfo.InvariantCulture));
    }
}
