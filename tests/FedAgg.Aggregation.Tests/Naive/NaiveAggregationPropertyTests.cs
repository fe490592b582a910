using FedAgg.Aggregation.Tests.Support;

namespace FedAgg.Aggregation.Tests.Naive;

/// <summary>The shared properties against the reference: they check the reference and the properties themselves.</summary>
public sealed class NaiveAggregationPropertyTests
{
    private static Outcome Naive(IReadOnlyList<float[]> updates, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps) =>
        Aggregators.Naive(updates, rule, steps);

    [Fact]
    public void Mean_PermutedInputs_EqualWithinRounding() => AggregationProperties.MeanPermutationInvariantWithinRounding(Naive);

    [Fact]
    public void MedianAndTrimmedMean_PermutedInputs_BitIdentical() => AggregationProperties.SortingRulesPermutationInvariantBitExact(Naive);

    [Fact]
    public void RobustRules_HugeOutliers_StayInHonestRange() => AggregationProperties.RobustRulesStayInHonestRange(Naive);

    [Fact]
    public void TrimmedMean_BetaZeroExactSums_EqualsMeanBitExact() => AggregationProperties.TrimmedMeanBetaZeroEqualsMean(Naive);

    [Fact]
    public void EveryRule_IdenticalInputs_ReturnsThatInput() => AggregationProperties.IdenticalInputsGiveThatInputBack(Naive);

    [Fact]
    public void CenteredClipping_IdenticalInputsSmallTau_ConvergesWithinTolerance() =>
        AggregationProperties.CenteredClippingConvergesToIdenticalInputs(Naive);
}
