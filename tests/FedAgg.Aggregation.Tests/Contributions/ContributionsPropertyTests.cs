using FedAgg.TestKit.Aggregation;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Aggregation.Tests.Contributions;

/// <summary>
/// Invariants of the contributions on random small inputs full of ties and signed zeros: exact counts that add up per
/// coordinate, selections that add up, agreement with the reference, and independence from threads and block size.
/// </summary>
public sealed class ContributionsPropertyTests
{
    /// <summary>A coarse palette (ties everywhere, −0 and +0 apart) mixed with arbitrary 24-bit mantissas.</summary>
    private static readonly Gen<float> Value = Gen.Frequency(
        (4, Gen.Choose(-3, 3).Select(i => i / 2f)),
        (1, Gen.Elements(0f, -0f, float.Epsilon, -float.Epsilon)),
        (2, from m in Gen.Choose(-(1 << 24) + 1, (1 << 24) - 1)
            from e in Gen.Choose(-30, 0)
            select (float)Math.ScaleB(m, e)));

    private static Gen<float[][]> Rows(int minN, int maxN, int maxD) =>
        from n in Gen.Choose(minN, maxN)
        from d in Gen.Choose(1, maxD)
        from rows in Gen.ArrayOf(Gen.ArrayOf(Value, d), n)
        select rows;

    private static (float[] Output, AggregationResult Result) Engine(IReadOnlyList<float[]> rows, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps = null, int dop = 2) =>
        new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = dop, BlockCoordinates = 1024, ComputeContributions = true })
            .Aggregate(rows, new AggregationSettings(rule, steps));

    private static long[] Counts(IReadOnlyList<double> contributions, int d) =>
        [.. contributions.Select(u => (long)Math.Round(u * d))];

    [Fact]
    public void TrimmedMean_RandomTiedInputs_CountsSumToKeptPositionsTimesD()
    {
        var gen =
            from rows in Rows(1, 12, 40)
            from beta in Gen.Elements(0.0, 0.1, 0.2, 0.25, 0.34, 0.49)
            select (Rows: rows, Beta: beta);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var n = t.Rows.Length;
            var d = t.Rows[0].Length;
            var k = (int)Math.Floor(t.Beta * n);
            if (2 * k >= n)
            {
                return;
            }

            var result = Engine(t.Rows, new TrimmedMeanRule(t.Beta)).Result;
            var counts = Counts(result.Contributions, d);
            Assert.Equal((long)(n - (2 * k)) * d, counts.Sum());
            Assert.Equal(NaiveContributions.KeptCounts(t.Rows, k, n - k - 1), counts);
            Assert.All(result.Contributions, u => Assert.Equal(u, (double)Math.Round(u * d) / d));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Median_RandomTiedInputs_CountsSumToDOrTwoD()
    {
        Prop.ForAll(Rows(1, 12, 40).ToArbitrary(), rows =>
        {
            var n = rows.Length;
            var d = rows[0].Length;
            var counts = Counts(Engine(rows, new MedianRule()).Result.Contributions, d);
            Assert.Equal(n % 2 == 1 ? d : 2L * d, counts.Sum());
            Assert.Equal(NaiveContributions.KeptCounts(rows, n % 2 == 1 ? n / 2 : (n / 2) - 1, n / 2), counts);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Median_TiedRowsAtTheMiddle_LowerIndexTakesThePosition()
    {
        // Column: 5, 1, 5, 5, 9 → sorted 1, 5(row 0), 5(row 2), 5(row 3), 9: the median position 2 goes to row 2.
        float[][] rows = [[5f], [1f], [5f], [5f], [9f]];
        Assert.Equal([0.0, 0.0, 1.0, 0.0, 0.0], Engine(rows, new MedianRule()).Result.Contributions);

        // −0 sorts before +0: rows −0, +0, −0 → −0(row 0), −0(row 2), +0(row 1); the median is row 2.
        float[][] zeros = [[-0f], [0f], [-0f]];
        Assert.Equal([0.0, 0.0, 1.0], Engine(zeros, new MedianRule()).Result.Contributions);
    }

    [Fact]
    public void KrumFamily_RandomInputs_ContributionsSumToSelectionCount()
    {
        var gen =
            from rows in Rows(3, 12, 20)
            from which in Gen.Choose(0, 2)
            select (Rows: rows, Which: which);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var n = t.Rows.Length;
            AggregationRule rule = t.Which switch
            {
                0 => new KrumRule((n - 3) / 2),
                1 => new MultiKrumRule((n - 3) / 2),
                _ => new BulyanRule((n - 3) / 4),
            };
            var result = Engine(t.Rows, rule).Result;
            Assert.Equal(result.Selected.Count, result.Contributions.Sum());
            foreach (var i in result.Selected)
            {
                Assert.Equal(1.0, result.Contributions[i]);
            }

            Assert.Equal(NaiveContributions.Compute(t.Rows, rule), result.Contributions);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AnyRule_ThreadsAndBlocks_SameContributionBits()
    {
        var gen =
            from n in Gen.Choose(3, 9)
            from d in Gen.Choose(1000, 5000)
            from seed in Gen.Choose(0, int.MaxValue)
            from which in Gen.Choose(0, 5)
            select (N: n, D: d, Seed: (ulong)seed, Which: which);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var rows = UpdateGenerator.Generate(t.Seed, new UpdatePlan(t.N, t.D) { Ties = true, SignedZeros = true, Huge = 1 }).Updates;
            AggregationRule rule = t.Which switch
            {
                0 => new MedianRule(),
                1 => new TrimmedMeanRule(0.2),
                2 => new CenteredClippingRule(0.3 * Math.Sqrt(t.D), 2),
                3 => new GeometricMedianRule(1e-6, 3),
                4 => new MultiKrumRule(0),
                _ => new MeanRule(),
            };
            var one = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 1, BlockCoordinates = 65536, ComputeContributions = true })
                .Aggregate(rows, new AggregationSettings(rule)).Result.Contributions;
            var many = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 8, BlockCoordinates = 1024, ComputeContributions = true })
                .Aggregate(rows, new AggregationSettings(rule)).Result.Contributions;
            Support.BitAssert.Equal([.. one], [.. many], rule.Name);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void GeometricMedian_RandomInputs_WeightsSumToOneWithinRounding()
    {
        Prop.ForAll(Rows(1, 10, 30).ToArbitrary(), rows =>
        {
            var contributions = Engine(rows, new GeometricMedianRule(1e-6, 3)).Result.Contributions;
            Assert.All(contributions, u => Assert.True(u >= 0 && u <= 1, $"weight {u:R}"));
            Assert.True(Math.Abs(contributions.Sum() - 1.0) <= 1e-12, $"sum {contributions.Sum():R}");
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void CenteredClipping_RandomInputs_FactorsInUnitIntervalAndMatchReference()
    {
        var gen =
            from rows in Rows(1, 10, 30)
            from tau in Gen.Elements(1e-3, 0.5, 2.0, 1e9)
            select (Rows: rows, Tau: tau);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var rule = new CenteredClippingRule(t.Tau, 2);
            var contributions = Engine(t.Rows, rule).Result.Contributions;
            Assert.All(contributions, u => Assert.True(u >= 0 && u <= 1, $"factor {u:R}"));
            Assert.Equal(NaiveContributions.Compute(t.Rows, rule), contributions);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Bucketing_KrumOverBuckets_EveryMemberOfTheSelectedBucketGetsOne()
    {
        var rows = UpdateGenerator.Generate(21, new UpdatePlan(10, 64) { Huge = 2 }).Updates;
        var steps = new PreAggregationStep[] { new BucketingStep(2, 3) };
        var result = Engine(rows, new KrumRule(1), steps).Result;

        var permutation = NaiveAggregation.BucketPermutation(10, 3);
        var bucket = result.Selected.Single();
        var members = permutation.Skip(bucket * 2).Take(2).ToHashSet();
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(members.Contains(i) ? 1.0 : 0.0, result.Contributions[i]);
        }
    }

    [Fact]
    public void Exclusion_NonFiniteInputs_GetZeroAndOthersAreReindexed()
    {
        float[][] rows = [[1f, 2f], [float.NaN, 0f], [3f, 4f], [2f, float.PositiveInfinity], [0f, 0f]];
        var result = Engine(rows, new MedianRule()).Result;

        // Finite rows 0, 2, 4 (odd count): coordinate 0 column 1, 3, 0 → median row 0; coordinate 1 column 2, 4, 0 → row 0.
        Assert.Equal([1.0, 0.0, 0.0, 0.0, 0.0], result.Contributions);
        Assert.Equal([1, 3], result.Excluded.Select(e => e.Index));
    }
}
