using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Support;

/// <summary>An aggregation's output and report, from the engine or from the reference, in one comparable shape.</summary>
public sealed record Outcome(
    float[] Output,
    int[] Selected,
    double[] Scores,
    (int Index, string Reason)[] Excluded,
    int AggregatedCount);

/// <summary>The two implementations under comparison, behind one signature.</summary>
public static class Aggregators
{
    public static Outcome Engine(
        IReadOnlyList<float[]> updates,
        AggregationRule rule,
        IReadOnlyList<PreAggregationStep>? steps = null,
        int maxDegreeOfParallelism = 1,
        int blockCoordinates = 4096)
    {
        var engine = new AggregationEngine(new AggregationOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
            BlockCoordinates = blockCoordinates,
        });
        var (output, result) = engine.Aggregate(updates, new AggregationSettings(rule, steps));
        Assert.Equal(updates.Count, result.InputCount);
        Assert.Equal(updates.Count == 0 ? 0 : updates[0].Length, result.Length);
        return new Outcome(
            output,
            [.. result.Selected],
            [.. result.Scores],
            [.. result.Excluded.Select(e => (e.Index, e.Reason))],
            result.AggregatedCount);
    }

    public static Outcome Naive(
        IReadOnlyList<float[]> updates,
        AggregationRule rule,
        IReadOnlyList<PreAggregationStep>? steps = null)
    {
        var r = NaiveAggregation.Aggregate(updates, rule, steps);
        return new Outcome(r.Output, r.Selected, r.Scores, [.. r.Excluded], r.AggregatedCount);
    }
}

/// <summary>An implementation under test: the engine (some options) or the reference.</summary>
public delegate Outcome Aggregator(IReadOnlyList<float[]> updates, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps);
