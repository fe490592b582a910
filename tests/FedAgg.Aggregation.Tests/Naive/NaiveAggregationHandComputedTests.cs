using FedAgg.Aggregation.Tests.Support;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Naive;

/// <summary>
/// Pins the scalar reference to numbers worked out by hand from docs/AGGREGATION.md (the derivations are in the
/// comments). These are what make the reference trustworthy as the judge of the engine.
/// </summary>
public sealed class NaiveAggregationHandComputedTests
{
    private const float TwoTo24 = 16777216f;
    private const float TwoTo60 = 1152921504606846976f;

    private static float[][] Column(params float[] values) => [.. values.Select(v => new[] { v })];

    private static float Single(IReadOnlyList<float[]> updates, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps = null) =>
        Assert.Single(NaiveAggregation.Aggregate(updates, rule, steps).Output);

    private static void AssertBits(float expected, float actual) =>
        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));

    // ---- median, trimmed mean, mean -------------------------------------------------------------------------------

    [Fact]
    public void Median_ThreeValues_ReturnsMiddleOne()
    {
        // sorted {1, 2, 3}: s_1 = 2.
        AssertBits(2f, Single(Column(3, 1, 2), new MedianRule()));
    }

    [Fact]
    public void Median_FourValues_ReturnsMeanOfMiddleTwo()
    {
        // sorted {1, 2, 3, 4}: (2 + 3) / 2 = 2.5.
        AssertBits(2.5f, Single(Column(4, 1, 3, 2), new MedianRule()));
    }

    [Fact]
    public void Median_SignedZeros_OrdersMinusZeroBeforePlusZero()
    {
        // {+0, −0, +0} sorts to {−0, +0, +0}: s_1 = +0.  {−0, +0, −0} sorts to {−0, −0, +0}: s_1 = −0.
        AssertBits(0f, Single(Column(0f, -0f, 0f), new MedianRule()));
        AssertBits(-0f, Single(Column(-0f, 0f, -0f), new MedianRule()));

        // Even n: (−0 + +0) / 2 = +0 / 2 = +0;  (−0 + −0) / 2 = −0.
        AssertBits(0f, Single(Column(0f, -0f), new MedianRule()));
        AssertBits(-0f, Single(Column(-0f, -0f), new MedianRule()));
    }

    [Fact]
    public void Median_TwoLargestFloats_AveragesInDoubleWithoutOverflow()
    {
        // (double)max + (double)max = 2·max is finite in double; / 2 = max exactly. (A float32 sum would be +Inf.)
        AssertBits(float.MaxValue, Single(Column(float.MaxValue, float.MaxValue), new MedianRule()));
        AssertBits(float.MaxValue, Single(Column(float.MaxValue, float.MaxValue), new MeanRule()));
    }

    [Fact]
    public void TrimmedMean_QuarterOfFour_DropsOneFromEachSide()
    {
        // k = ⌊0.25·4⌋ = 1; sorted {−100, 10, 20, 1000}; (10 + 20) / 2 = 15.
        AssertBits(15f, Single(Column(10, -100, 20, 1000), new TrimmedMeanRule(0.25)));
    }

    [Fact]
    public void TrimmedMean_QuarterOfSeven_TrimsFloorOfBetaN()
    {
        // k = ⌊0.25·7⌋ = ⌊1.75⌋ = 1; sorted {1, 2, 3, 4, 5, 6, 100}; (2+3+4+5+6) / 5 = 4.
        AssertBits(4f, Single(Column(100, 6, 1, 5, 2, 4, 3), new TrimmedMeanRule(0.25)));
    }

    [Fact]
    public void TrimmedMean_BetaTimesNJustBelowInteger_UsesDoubleFloor()
    {
        // 0.29·100 is 28.999999999999996 in double, so k = 28, not 29. Values i² (i = 0..99, given in reverse):
        // k = 28 keeps i = 28..71: Σi² = S(71) − S(27) with S(m) = m(m+1)(2m+1)/6: 121836 − 6930 = 114906; / 44 = 2611.5.
        // (k = 29 would give (S(70) − S(28)) / 42 = (116795 − 7714) / 42 = 2597.17…)
        var values = Enumerable.Range(0, 100).Reverse().Select(i => (float)(i * i)).ToArray();
        AssertBits(2611.5f, Single(Column(values), new TrimmedMeanRule(0.29)));
    }

    [Fact]
    public void Mean_SummationOrder_IsAscendingIndex()
    {
        // dsum in index order: 2^60 + (−2^60) = 0; 0 + 1 = 1; 1/3 → f32 = 0.33333334f.
        AssertBits((float)(1.0 / 3.0), Single(Column(TwoTo60, -TwoTo60, 1), new MeanRule()));

        // 2^60 + 1 rounds back to 2^60 in double (ulp 256); − 2^60 = +0; +0 / 3 = +0.
        AssertBits(0f, Single(Column(TwoTo60, 1, -TwoTo60), new MeanRule()));
    }

    [Fact]
    public void Mean_AllMinusZero_GivesPlusZero()
    {
        // dsum starts at +0.0 and +0.0 + (−0.0) = +0.0.
        AssertBits(0f, Single(Column(-0f, -0f), new MeanRule()));
    }

    // ---- cdot ------------------------------------------------------------------------------------------------------

    [Fact]
    public void Cdot_OneLaneChain_RoundsInFloat32()
    {
        // Lane 0 takes c = 0, 16, 32: 2^24 → fma(1,1,2^24) = 2^24+1, a tie in float32 that rounds to even 2^24 →
        // fma(−2^24, 1, 2^24) = 0. A double dot product would give 1.
        var a = new float[33];
        var b = Enumerable.Repeat(1f, 33).ToArray();
        a[0] = TwoTo24;
        a[16] = 1;
        a[32] = -TwoTo24;
        Assert.Equal(0.0, NaiveAggregation.Cdot(a, b));
    }

    [Fact]
    public void Cdot_DifferentLanes_AreSummedInDouble()
    {
        // c = 0 is lane 0 (2^24), c = 1 is lane 1 (1); the lanes meet in a double sum: 16777217 exactly.
        var a = new float[2] { TwoTo24, 1 };
        Assert.Equal(16777217.0, NaiveAggregation.Cdot(a, [1, 1]));
    }

    [Fact]
    public void Cdot_NextChunk_RestartsTheLanes()
    {
        // d = 1025. Chunk 0, lane 0: 2^24, then c = 1008 (= 63·16) adds 1, lost to rounding → 2^24.
        // Chunk 1, lane 0: c = 1024 → 1. Chunks meet in double: 16777217. (One chain across chunks would give 2^24.)
        var a = new float[1025];
        var b = Enumerable.Repeat(1f, 1025).ToArray();
        a[0] = TwoTo24;
        a[1008] = 1;
        a[1024] = 1;
        Assert.Equal(16777217.0, NaiveAggregation.Cdot(a, b));
    }

    [Fact]
    public void Cdot_LanesTwoToTheSixtyApart_FoldPairwiseNotInSequence()
    {
        // Lane 0 holds (2^30)^2 = 2^60, lanes 1..15 hold 8^2 = 64. In double the ulp of 2^60 is 256.
        // Fold: b0 = 2^60 + 64 -> 2^60 (below half an ulp); b1..b7 = 128. c0 = 2^60 + 128 -> 2^60 (a tie, to even);
        // c1 = c2 = c3 = 256. e0 = 2^60 + 256 (exact), e1 = 512. Total 2^60 + 768, exactly.
        // A sequential lane sum would lose every 64 and give 2^60.
        var x = new float[16];
        x[0] = 1 << 30;
        for (var c = 1; c < 16; c++)
        {
            x[c] = 8f;
        }

        Assert.Equal(Math.Pow(2, 60) + 768, NaiveAggregation.Cdot(x, x));
    }

    [Fact]
    public void Cdot_MultiplyAdd_IsFused()
    {
        // u = 1 + 2^-12. Lane 0: fma(u, u, 0) = round32(1 + 2^-11 + 2^-24) = 1 + 2^-11 (a tie, to even);
        // then fma(−u, u, 1 + 2^-11) = −(1 + 2^-11 + 2^-24) + (1 + 2^-11) = −2^-24 exactly. Unfused it would be 0.
        var u = 1f + (1f / 4096);
        var a = new float[17];
        var b = new float[17];
        a[0] = u;
        b[0] = u;
        a[16] = -u;
        b[16] = u;
        Assert.Equal(-5.9604644775390625E-08, NaiveAggregation.Cdot(a, b));
    }

    // ---- total order and SplitMix64 ------------------------------------------------------------------------------

    [Fact]
    public void SortTotalOrder_MixedZerosAndSigns_PutsMinusZeroFirst()
    {
        var eps = float.Epsilon;
        float[] values = [0f, -0f, 1f, -1f, -0f, float.PositiveInfinity, eps, -eps, 0f, float.NegativeInfinity];
        NaiveAggregation.SortTotalOrder(values);
        float[] expected = [float.NegativeInfinity, -1f, -eps, -0f, -0f, 0f, 0f, eps, 1f, float.PositiveInfinity];
        BitAssert.Equal(expected, values);
    }

    [Fact]
    public void SplitMix64_SeedZero_MatchesPublishedOutputs()
    {
        // The first outputs of Vigna's splitmix64.c from state 0.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.Next());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.Next());
        Assert.Equal(0x06C45D188009454FUL, rng.Next());
        Assert.Equal(0xF88BB8A8724C81ECUL, rng.Next());
    }

    [Fact]
    public void BucketPermutation_SeedZeroFiveUpdates_IsHandComputedShuffle()
    {
        // Fisher–Yates from [0,1,2,3,4] with the outputs above:
        // i=4: 0xE220A8397B1DCDAF mod 5 — 16 ≡ 1 (mod 5), so the hex digit sum 130 mod 5 = 0 → swap 4,0 → [4,1,2,3,0]
        // i=3: 0x…F4 mod 4 = 0xF4 mod 4 = 0                                                → swap 3,0 → [3,1,2,4,0]
        // i=2: 0x06C45D188009454F mod 3 — 16 ≡ 1 (mod 3), digit sum 94 mod 3 = 1           → swap 2,1 → [3,2,1,4,0]
        // i=1: 0x…EC mod 2 = 0                                                             → swap 1,0 → [2,3,1,4,0]
        Assert.Equal([2, 3, 1, 4, 0], NaiveAggregation.BucketPermutation(5, 0));
    }

    [Fact]
    public void Bucketing_BucketOfThree_SumsInPermutationOrder()
    {
        // π = [2,3,1,4,0], s = 3: bucket 0 = (x2, x3, x1), bucket 1 = (x4, x0).
        // x = [7, −2^60, 2^60, 1, 5]: bucket 0: 2^60 + 1 → 2^60 (rounded), − 2^60 → +0, / 3 → +0
        // (ascending index order would give (−2^60 + 2^60 + 1) / 3 = 1/3); bucket 1: (5 + 7) / 2 = 6.
        var rows = NaiveAggregation.Bucketing(Column(7, -TwoTo60, TwoTo60, 1, 5), 3, 0);
        Assert.Equal(2, rows.Count);
        AssertBits(0f, rows[0][0]);
        AssertBits(6f, rows[1][0]);
    }

    // ---- Krum family ---------------------------------------------------------------------------------------------

    // p0 = (0,0), p1 = (2,0), p2 = (0,1), p3 = (1,1), p4 = (7,8). The mean (2,2) is exact, centring is exact on these
    // small integers, so D_ij is the squared distance exactly:
    //   D01 = 4, D02 = 1, D03 = 2, D04 = 49+64 = 113, D12 = 4+1 = 5, D13 = 1+1 = 2, D14 = 25+64 = 89,
    //   D23 = 1, D24 = 49+49 = 98, D34 = 36+49 = 85.
    // n = 5, f = 1 (n = 2f+3), q = n−f−2 = 2 smallest of the others:
    //   s0 = 1+2 = 3, s1 = 2+4 = 6, s2 = 1+1 = 2, s3 = 1+2 = 3, s4 = 85+89 = 174.
    private static readonly float[][] KrumPoints = [[0, 0], [2, 0], [0, 1], [1, 1], [7, 8]];

    [Fact]
    public void Distances_FiveIntegerPoints_AreSquaredDistances()
    {
        var d = NaiveAggregation.Distances(KrumPoints);
        Assert.Equal(0.0, d[0][0]);
        Assert.Equal(4.0, d[0][1]);
        Assert.Equal(113.0, d[0][4]);
        Assert.Equal(5.0, d[1][2]);
        Assert.Equal(89.0, d[4][1]);
        Assert.Equal(85.0, d[3][4]);
    }

    [Fact]
    public void Krum_FiveTinyPoints_SelectsLowestHandComputedScore()
    {
        var r = NaiveAggregation.Aggregate(KrumPoints, new KrumRule(1));
        Assert.Equal([2], r.Selected);
        Assert.Equal([3.0, 6.0, 2.0, 3.0, 174.0], r.Scores);
        BitAssert.Equal([0f, 1f], r.Output);
    }

    [Fact]
    public void MultiKrum_FiveTinyPoints_SortsByScoreTiesToLowerIndex()
    {
        // m = n − f = 4: scores 2 (p2), 3 (p0), 3 (p3), 6 (p1) → [2, 0, 3, 1]; mean over p0..p3 in index order:
        // x (0+2+0+1)/4 = 0.75, y (0+0+1+1)/4 = 0.5.
        var r = NaiveAggregation.Aggregate(KrumPoints, new MultiKrumRule(1));
        Assert.Equal([2, 0, 3, 1], r.Selected);
        BitAssert.Equal([0.75f, 0.5f], r.Output);
    }

    [Fact]
    public void Krum_NonFiniteInputsInterleaved_ReportsOriginalIndicesAndNaNScores()
    {
        // The same five points at original indices 0, 2, 3, 5, 6.
        float[][] inputs = [[0, 0], [float.NaN, 1], [2, 0], [0, 1], [1, float.NegativeInfinity], [1, 1], [7, 8]];
        var r = NaiveAggregation.Aggregate(inputs, new KrumRule(1));
        Assert.Equal([3], r.Selected);
        BitAssert.Equal([3.0, double.NaN, 6.0, 2.0, double.NaN, 3.0, 174.0], r.Scores);
        Assert.Equal([(1, "non-finite value at index 0"), (4, "non-finite value at index 1")], r.Excluded);
        Assert.Equal(5, r.AggregatedCount);
    }

    [Fact]
    public void Krum_AfterBucketsOfOne_SelectionRefersToBuckets()
    {
        // s = 1, seed 0: bucket b = p_π[b] with π = [2,3,1,4,0], so the buckets are p2, p3, p1, p4, p0 and their scores
        // 2, 3, 6, 174, 3 (the sums of the small integers are exact in any order). Bucket 0 wins.
        var r = NaiveAggregation.Aggregate(KrumPoints, new KrumRule(1), [new BucketingStep(1, 0)]);
        Assert.Equal([0], r.Selected);
        Assert.Equal([2.0, 3.0, 6.0, 174.0, 3.0], r.Scores);
        BitAssert.Equal([0f, 1f], r.Output);
    }

    [Fact]
    public void Bulyan_SevenPointsOnALine_FollowsHandComputedSelections()
    {
        // x = [0, 1, 3, 4, 6, 54, 2] (d = 1); the mean 70/7 = 10 is exact, so D_ij = (x_i − x_j)².
        // n = 7, f = 1: θ = 5 selections, then β = 3.
        // r=7, q=4: s0 = 1+4+9+16 = 30, s1 = 1+1+4+9 = 15, s2 = 1+1+4+9 = 15, s3 = 1+4+4+9 = 18, s4 = 4+9+16+25 = 54,
        //           s5 = 2304+2500+2601+2704 = 10109, s6 = 1+1+4+4 = 10 → pick 6.
        // r=6, q=3: s0 = 1+9+16 = 26, s1 = 1+4+9 = 14, s2 = 1+4+9 = 14, s3 = 1+4+9 = 14, s4 = 4+9+25 = 38 → tie, pick 1.
        // r=5, q=2: s0 = 9+16 = 25, s2 = 1+9 = 10, s3 = 1+4 = 5, s4 = 4+9 = 13 → pick 3.
        // r=4, q=1: s0 = min(9, 36, 2916) = 9, s2 = min(9, 9, 2601) = 9, s4 = min(36, 9, 2304) = 9, s5 = 2304 → tie, pick 0.
        // r=3, q=1: s2 = 9, s4 = 9, s5 = 2304 → tie, pick 2.
        // Selected values {2, 1, 4, 0, 3} sort to {0,1,2,3,4}; med = 2; t=0: 2−0 = 2 > 3−2 = 1 → w=1; t=1: 1 > 2 no.
        // Window {1,2,3}: 6/3 = 2.
        var r = NaiveAggregation.Aggregate(Column(0, 1, 3, 4, 6, 54, 2), new BulyanRule(1));
        Assert.Equal([6, 1, 3, 0, 2], r.Selected);
        Assert.Equal([30.0, 15.0, 15.0, 18.0, 54.0, 10109.0, 10.0], r.Scores);
        AssertBits(2f, Assert.Single(r.Output));
    }

    [Fact]
    public void BulyanCoordinate_WindowTie_GoesTowardSmallerValue()
    {
        // θ = 5, f = 1, β = 3, sorted {0, 1, 3, 4, 5}, med = 3. t=0: 3 > 4−3 = 1 → w=1; t=1: 3−1 = 2 > 5−3 = 2 is false
        // (a tie) → w stays 1: window {1,3,4} = 8/3, not {3,4,5} = 4.
        AssertBits((float)(8.0 / 3.0), NaiveAggregation.BulyanCoordinate([0, 1, 3, 4, 5], 1));

        // θ = 6, f = 1, β = 4, sorted {0,1,2,4,5,5}, med = (2+4)/2 = 3. t=0: 3 > 5−3 = 2 → w=1; t=1: 2 > 2 false → w=1:
        // {1,2,4,5} / 4 = 3 (w = 2 would give 4).
        AssertBits(3f, NaiveAggregation.BulyanCoordinate([0, 1, 2, 4, 5, 5], 1));
    }

    // ---- pre-aggregation steps -----------------------------------------------------------------------------------

    [Fact]
    public void NearestNeighbourMixing_TiedNeighbours_PreferLowerIndex()
    {
        // x = [0, 2, 1, 7, 10], f = 3 → n−f = 2 neighbours (self included). Mean 20/5 = 4 exact, D = squared differences.
        // N0: self, x2 (1) → (0+1)/2 = 0.5.   N1: self, x2 (1) → (2+1)/2 = 1.5.
        // N2: self, then x0 and x1 both at 1 → lower index 0 → (0+1)/2 = 0.5.
        // N3: self, x4 (9) → (7+10)/2 = 8.5.   N4: self, x3 (9) → 8.5.
        var rows = NaiveAggregation.NearestNeighbourMixing(Column(0, 2, 1, 7, 10), 3);
        BitAssert.Equal([0.5f, 1.5f, 0.5f, 8.5f, 8.5f], rows.Select(r => r[0]).ToArray());
    }

    [Fact]
    public void NearestNeighbourMixing_ThreeOfFive_AveragesNearest()
    {
        // x = [0, 1, 10, 12, 102], f = 2 → 3 neighbours; mean 125/5 = 25 exact.
        // N0 = N1 = {0,1,2} → 11/3; N2 = N3 = {1,2,3} → 23/3; N4 = {2,3,4} → 124/3.
        var rows = NaiveAggregation.NearestNeighbourMixing(Column(0, 1, 10, 12, 102), 2);
        float eleven = (float)(11.0 / 3), twentyThree = (float)(23.0 / 3), big = (float)(124.0 / 3);
        BitAssert.Equal([eleven, eleven, twentyThree, twentyThree, big], rows.Select(r => r[0]).ToArray());
    }

    [Fact]
    public void ClipNorm_NormAboveBound_ScalesByBoundOverNorm()
    {
        // ‖(3,4)‖ = 5 > 1: factor 1/5; f32(3·0.2) = 0.6f, f32(4·0.2) = 0.8f.
        var rows = NaiveAggregation.ClipNorm([[3, 4]], 1);
        BitAssert.Equal([0.6f, 0.8f], rows[0]);
    }

    [Fact]
    public void ClipNorm_NormAtOrBelowBound_LeavesBitsUnchanged()
    {
        // ‖(3,4)‖ = 5 is not > 5.
        float[] x = [3, 4];
        float[] y = [0.3f, -0.4f];
        var rows = NaiveAggregation.ClipNorm([x, y], 5);
        BitAssert.Equal(x, rows[0]);
        BitAssert.Equal(y, rows[1]);
    }

    // ---- iterative rules -----------------------------------------------------------------------------------------

    [Fact]
    public void CenteredClipping_FromZero_ClipsTheFarUpdate()
    {
        // τ = 2, L = 1, v = 0. e0 = (3,4), r0 = 5 > 2 → s0 = 0.4; e1 = (0,1), r1 = 1 → s1 = 1.
        // v = ((0.4·3 + 0) / 2, (0.4·4 + 1) / 2) = (0.6, 1.3) → f32.
        BitAssert.Equal([0.6f, 1.3f], NaiveAggregation.Aggregate([[3, 4], [0, 1]], new CenteredClippingRule(2, 1)).Output);
    }

    [Fact]
    public void CenteredClipping_GivenCentre_StartsFromIt()
    {
        // v0 = (3,0), τ = 2. e0 = (0,4), r0 = 4 → s0 = 0.5; e1 = (0,−1), r1 = 1 → s1 = 1.
        // v = (3 + 0/2, 0 + (0.5·4 − 1)/2) = (3, 0.5).
        var rule = new CenteredClippingRule(2, 1, AggregateBuffer.FromArray([3, 0]));
        BitAssert.Equal([3f, 0.5f], NaiveAggregation.Aggregate([[3, 4], [3, -1]], rule).Output);
    }

    [Fact]
    public void GeometricMedian_OneIteration_WeighsByInverseDistance()
    {
        // x = {0, 0, 3}: z0 = 1; r = (1, 1, 2); w = (1, 1, 0.5); W = 2.5; z = (0 + 0 + 1.5) / 2.5 = 0.6 → 0.6f.
        AssertBits(0.6f, Single(Column(0, 0, 3), new GeometricMedianRule(1e-6, 1)));
    }

    // ---- exclusion and errors ------------------------------------------------------------------------------------

    [Fact]
    public void Aggregate_NonFiniteUpdates_ExcludedWithFirstIndexAndRestAveraged()
    {
        float[][] inputs =
        [
            [1, float.NaN, float.PositiveInfinity],
            [2, 3, 4],
            [float.PositiveInfinity, 0, 0],
            [4, 5, 6],
            [float.NegativeInfinity, 1, float.NaN],
        ];
        var r = NaiveAggregation.Aggregate(inputs, new MeanRule());
        BitAssert.Equal([3f, 4f, 5f], r.Output);
        Assert.Equal(
            [(0, "non-finite value at index 1"), (2, "non-finite value at index 0"), (4, "non-finite value at index 0")],
            r.Excluded);
        Assert.Empty(r.Selected);
        Assert.Empty(r.Scores);
    }

    [Fact]
    public void Aggregate_LengthsDiffer_NamesFirstDifferingInput()
    {
        var e = Assert.Throws<AggregationException>(() => NaiveAggregation.Aggregate([[1, 2], [1, 2], [1], [1, 2, 3]], new MeanRule()));
        Assert.Contains("update 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("length", e.Message, StringComparison.Ordinal);
    }
}
