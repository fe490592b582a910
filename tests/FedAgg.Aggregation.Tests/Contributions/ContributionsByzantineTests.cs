using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Contributions;

/// <summary>Credits must not flow to planted attackers: the robust rules leave them (next to) nothing.</summary>
public sealed class ContributionsByzantineTests
{
    private const int N = 20;
    private const int F = 4;
    private const int D = 3000;

    private static (GeneratedUpdates Data, AggregationResult Result) Run(AggregationRule rule, UpdatePlan plan)
    {
        var data = UpdateGenerator.Generate(2024, plan);
        var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 2, BlockCoordinates = 1024, ComputeContributions = true });
        return (data, engine.Aggregate(data.Updates, new AggregationSettings(rule)).Result);
    }

    [Fact]
    public void TrimmedMean_HugeOutliersWithinTrim_OutliersGetZeroHonestGetTheirShare()
    {
        // k = ⌊0.2·20⌋ = 4 ≥ f: every huge value is trimmed at every coordinate.
        var (data, result) = Run(new TrimmedMeanRule(0.2), new UpdatePlan(N, D) { Huge = F });

        foreach (var i in data.IndicesOf(UpdateKind.Huge))
        {
            Assert.Equal(0.0, result.Contributions[i]);
        }

        // The n − 2k = 12 kept positions fall on the 16 honest updates: 12/16 each on average.
        var honest = data.IndicesOf(UpdateKind.Honest).ToArray();
        Assert.Equal(N - F, honest.Length);
        Assert.Equal((N - (2 * 4)) * (double)D, honest.Sum(i => result.Contributions[i] * D), 6);
        foreach (var i in honest)
        {
            Assert.InRange(result.Contributions[i], 0.75 - 0.06, 0.75 + 0.06);
        }
    }

    [Fact]
    public void Median_HugeOutliers_OutliersGetZero()
    {
        var (data, result) = Run(new MedianRule(), new UpdatePlan(N + 1, D) { Huge = F });
        foreach (var i in data.IndicesOf(UpdateKind.Huge))
        {
            Assert.Equal(0.0, result.Contributions[i]);
        }

        Assert.Equal(1.0, result.Contributions.Sum(), 9);
    }

    [Theory]
    [InlineData("krum")]
    [InlineData("multi-krum")]
    [InlineData("bulyan")]
    public void KrumFamily_HugeAndSignFlippedAttackers_AttackersNotSelected(string rule)
    {
        AggregationRule chosen = rule switch
        {
            "krum" => new KrumRule(F),
            "multi-krum" => new MultiKrumRule(F),
            _ => new BulyanRule(F),
        };
        var (data, result) = Run(chosen, new UpdatePlan(N, D) { Huge = 2, SignFlipped = 2, NoiseScale = 0.01 });

        foreach (var i in data.IndicesOf(UpdateKind.Huge).Concat(data.IndicesOf(UpdateKind.SignFlipped)))
        {
            Assert.Equal(0.0, result.Contributions[i]);
            Assert.DoesNotContain(i, result.Selected);
        }

        Assert.Equal(result.Selected.Count, result.Contributions.Sum());
    }

    [Fact]
    public void CenteredClipping_HugeOutliers_ClippedNearZeroHonestUnclipped()
    {
        // Honest updates sit within ~√d·1 of the origin; τ above that leaves them unclipped, the 1e6-sized outliers at τ/‖x‖.
        var (data, result) = Run(new CenteredClippingRule(2 * Math.Sqrt(D), 1), new UpdatePlan(N, D) { Huge = F });
        foreach (var i in data.IndicesOf(UpdateKind.Huge))
        {
            Assert.InRange(result.Contributions[i], 0.0, 1e-4);
        }

        foreach (var i in data.IndicesOf(UpdateKind.Honest))
        {
            Assert.Equal(1.0, result.Contributions[i]);
        }
    }

    [Fact]
    public void GeometricMedian_HugeOutliers_NegligibleWeight()
    {
        var (data, result) = Run(new GeometricMedianRule(1e-6, 8), new UpdatePlan(N, D) { Huge = F });
        var outliers = data.IndicesOf(UpdateKind.Huge).Sum(i => result.Contributions[i]);
        Assert.InRange(outliers, 0.0, 1e-4);
    }
}
