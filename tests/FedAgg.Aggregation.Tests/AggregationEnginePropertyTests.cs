using FedAgg.Aggregation.Tests.Support;

namespace FedAgg.Aggregation.Tests;

public sealed class AggregationEnginePropertyTests
{
    private static Outcome Engine(IReadOnlyList<float[]> updates, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps) =>
        Aggregators.Engine(updates, rule, steps, maxDegreeOfParallelism: 2, blockCoordinates: 1024);

    [Fact]
    public void Mean_PermutedInputs_EqualWithinRounding() => AggregationProperties.MeanPermutationInvariantWithinRounding(Engine);

    [Fact]
    public void MedianAndTrimmedMean_PermutedInputs_BitIdentical() => AggregationProperties.SortingRulesPermutationInvariantBitExact(Engine);

    [Fact]
    public void RobustRules_HugeOutliers_StayInHonestRange() => AggregationProperties.RobustRulesStayInHonestRange(Engine);

    [Fact]
    public void TrimmedMean_BetaZeroExactSums_EqualsMeanBitExact() => AggregationProperties.TrimmedMeanBetaZeroEqualsMean(Engine);

    [Fact]
    public void EveryRule_IdenticalInputs_ReturnsThatInput() => AggregationProperties.IdenticalInputsGiveThatInputBack(Engine);

    [Fact]
    public void CenteredClipping_IdenticalInputsSmallTau_ConvergesWithinTolerance() =>
        AggregationProperties.CenteredClippingConvergesToIdenticalInputs(Engine);
}
