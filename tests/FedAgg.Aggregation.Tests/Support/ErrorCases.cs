namespace FedAgg.Aggregation.Tests.Support;

/// <summary>One failed precondition: the inputs, the settings, and the words the message must contain.</summary>
public sealed record ErrorCase(
    float[][] Updates,
    AggregationRule Rule,
    PreAggregationStep[] Steps,
    string[] KeyWords,
    string[]? AbsentWords = null);

/// <summary>Precondition failures shared by the engine's and the reference's error tests.</summary>
public static class ErrorCases
{
    private static float[][] Rows(int n, int d = 3)
    {
        var rows = new float[n][];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            for (var c = 0; c < d; c++)
            {
                rows[i][c] = i + (0.25f * c);
            }
        }

        return rows;
    }

    private static float[][] WithNaN(float[][] rows, params int[] which)
    {
        foreach (var i in which)
        {
            rows[i][0] = float.NaN;
        }

        return rows;
    }

    public static readonly IReadOnlyDictionary<string, ErrorCase> All = new Dictionary<string, ErrorCase>
    {
        ["krum-n-below-2f+3"] = new(Rows(6), new KrumRule(2), [], ["krum", "2f+3", "got 6"]),
        ["krum-negative-f"] = new(Rows(6), new KrumRule(-1), [], ["krum", "f must be"]),
        ["krum-too-few-after-exclusion"] = new(WithNaN(Rows(3), 1), new KrumRule(0), [], ["krum", "2f+3", "got 2"]),
        ["krum-too-few-after-bucketing"] = new(Rows(6), new KrumRule(1), [new BucketingStep(2)], ["krum", "2f+3", "got 3"]),
        ["multi-krum-n-below-2f+3"] = new(Rows(4), new MultiKrumRule(1), [], ["multi-krum", "2f+3", "got 4"]),
        ["multi-krum-m-zero"] = new(Rows(5), new MultiKrumRule(1, 0), [], ["multi-krum", "m must be in", "got 0"]),
        ["multi-krum-m-above-n"] = new(Rows(5), new MultiKrumRule(1, 6), [], ["multi-krum", "m must be in", "got 6"]),
        ["bulyan-n-below-4f+3"] = new(Rows(6), new BulyanRule(1), [], ["bulyan", "4f+3", "got 6"]),
        ["trimmed-mean-beta-half"] = new(Rows(5), new TrimmedMeanRule(0.5), [], ["trimmed-mean", "beta", "0.5"]),
        ["trimmed-mean-beta-negative"] = new(Rows(5), new TrimmedMeanRule(-0.1), [], ["trimmed-mean", "beta", "-0.1"]),
        ["trimmed-mean-beta-nan"] = new(Rows(5), new TrimmedMeanRule(double.NaN), [], ["trimmed-mean", "beta", "NaN"]),
        ["centered-clipping-tau-zero"] = new(Rows(3), new CenteredClippingRule(0), [], ["centered-clipping", "tau"]),
        ["centered-clipping-tau-infinite"] = new(Rows(3), new CenteredClippingRule(double.PositiveInfinity), [], ["centered-clipping", "tau"]),
        ["centered-clipping-no-iterations"] = new(Rows(3), new CenteredClippingRule(1, 0), [], ["centered-clipping", "iterations"]),
        ["geometric-median-nu-zero"] = new(Rows(3), new GeometricMedianRule(0), [], ["geometric-median", "nu"]),
        ["geometric-median-no-iterations"] = new(Rows(3), new GeometricMedianRule(1e-6, 0), [], ["geometric-median", "iterations"]),
        ["clip-norm-zero"] = new(Rows(3), new MeanRule(), [new ClipNormStep(0)], ["clip-norm", "C must be"]),
        ["nearest-neighbour-mixing-f-equals-n"] = new(Rows(3), new MeanRule(), [new NearestNeighbourMixingStep(3)], ["nearest-neighbour-mixing", "f must be in", "got 3"]),
        ["bucketing-size-zero"] = new(Rows(3), new MeanRule(), [new BucketingStep(0)], ["bucketing", "s must be"]),

        // Lengths: the first input whose length differs from input 0 is named, even when a later one differs too.
        ["lengths-differ"] = new([[1, 2], [1, 2], [1], [1, 2, 3]], new MeanRule(), [], ["update 2", "length"], ["update 3"]),
        ["lengths-differ-first-is-1"] = new([[1, 2], [1, 2, 3], [1]], new MeanRule(), [], ["update 1", "length"], ["update 2"]),

        // A shorter input holding a NaN is still a length error, not an exclusion.
        ["lengths-differ-with-nan"] = new([[1, 2], [float.NaN]], new MeanRule(), [], ["update 1", "length"]),

        // Every input non-finite: nothing to aggregate. The message must say why (non-finite), not only "got 0".
        ["no-finite-update-left"] = new(WithNaN(Rows(3), 0, 1, 2), new MeanRule(), [], ["finite"]),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in All.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    public static void AssertMessage(AggregationException e, ErrorCase c)
    {
        foreach (var word in c.KeyWords)
        {
            Assert.True(e.Message.Contains(word, StringComparison.Ordinal), $"message \"{e.Message}\" should contain \"{word}\"");
        }

        foreach (var word in c.AbsentWords ?? [])
        {
            Assert.False(e.Message.Contains(word, StringComparison.Ordinal), $"message \"{e.Message}\" should not contain \"{word}\"");
        }
    }
}
