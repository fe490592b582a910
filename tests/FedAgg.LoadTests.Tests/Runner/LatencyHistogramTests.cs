using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Tests.Runner;

public class LatencyHistogramTests
{
    private static readonly double[] Percentiles = [0, 0.1, 1, 10, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

    public static TheoryData<string, int, int> Distributions => new()
    {
        { "uniform", 1, 1 },
        { "uniform", 1000, 2 },
        { "uniform", 100_000, 3 },
        { "lognormal", 50_000, 4 },
        { "pareto", 50_000, 5 },
        { "pareto", 777, 6 },
        { "bimodal", 20_000, 7 },
        { "tiny", 5000, 8 },
    };

    [Theory]
    [MemberData(nameof(Distributions))]
    public void Percentile_RandomDataIncludingHeavyTails_IsTheNearestRankSamplesBucketTop(string distribution, int count, int seed)
    {
        var random = new Random(seed);
        var values = Enumerable.Range(0, count).Select(_ => Draw(distribution, random)).ToArray();
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        var sorted = values.Order().ToArray();
        Assert.Equal(sorted[^1], histogram.Max);
        Assert.Equal(sorted[0], histogram.Min);
        Assert.Equal(values.Average(), histogram.Mean, 6);
        foreach (var p in Percentiles)
        {
            // The naive reference: nearest rank on the sorted array.
            var rank = Math.Max(1, (long)Math.Ceiling(p / 100 * count));
            var reference = sorted[rank - 1];
            var actual = histogram.Percentile(p);
            Assert.Equal(Math.Min(LatencyHistogram.HighestEquivalentValue(reference), sorted[^1]), actual);
            Assert.InRange(actual, reference, reference + (reference / 128));
        }
    }

    [Fact]
    public void HighestEquivalentValue_EveryMagnitude_BucketHoldsTheValueAndIsAtMostOne128thWide()
    {
        var random = new Random(11);
        for (var i = 0; i < 100_000; i++)
        {
            var value = (long)Math.Pow(10, random.NextDouble() * Math.Log10(LatencyHistogram.MaxTrackableMicroseconds));
            var low = LatencyHistogram.LowestEquivalentValue(value);
            var high = LatencyHistogram.HighestEquivalentValue(value);
            Assert.InRange(value, low, high);
            Assert.True(high - low <= value / 128, $"bucket [{low}, {high}] of {value} is wider than 1/128");
        }

        for (long value = 0; value < 256; value++)
        {
            Assert.Equal(value, LatencyHistogram.LowestEquivalentValue(value));
            Assert.Equal(value, LatencyHistogram.HighestEquivalentValue(value));
        }
    }

    [Fact]
    public void Record_MillionsOfValues_AllocatesNothingAndKeepsItsFixedArray()
    {
        var histogram = new LatencyHistogram();
        var random = new Random(3);
        var values = Enumerable.Range(0, 1 << 16).Select(_ => Draw("pareto", random)).ToArray();
        histogram.Record(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 64; round++)
        {
            foreach (var value in values)
            {
                histogram.Record(value);
            }
        }

        _ = histogram.Percentile(99);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal((64L << 16) + 1, histogram.TotalCount);
        Assert.Equal(3328, LatencyHistogram.CountsLength);
    }

    [Fact]
    public void Record_AboveOneHour_ClampsToOneHourAndCountsIt()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(TimeSpan.FromHours(5));
        histogram.Record(-3);
        Assert.Equal(1, histogram.ClampedCount);
        Assert.Equal(LatencyHistogram.MaxTrackableMicroseconds, histogram.Max);
        Assert.Equal(LatencyHistogram.MaxTrackableMicroseconds, histogram.Percentile(100));
        Assert.Equal(0, histogram.Percentile(50));
    }

    [Fact]
    public void Merge_TwoHalves_EqualsOneHistogramOfAll()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 30_000).Select(_ => Draw("lognormal", random)).ToArray();
        var all = new LatencyHistogram();
        var first = new LatencyHistogram();
        var second = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            all.Record(values[i]);
            (i % 3 == 0 ? first : second).Record(values[i]);
        }

        first.Merge(second);
        Assert.Equal(all.TotalCount, first.TotalCount);
        Assert.Equal(all.Max, first.Max);
        Assert.Equal(all.Min, first.Min);
        foreach (var p in Percentiles)
        {
            Assert.Equal(all.Percentile(p), first.Percentile(p));
        }
    }

    [Fact]
    public void Percentile_Empty_IsZero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Percentile(99));
        Assert.Equal(0, histogram.Max);
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.Percentile(100.5));
    }

    private static long Draw(string distribution, Random random) => distribution switch
    {
        "uniform" => random.NextInt64(0, 10_000_000),
        "lognormal" => (long)Math.Exp(8 + (2.5 * Gaussian(random))),

        // Pareto with shape 1.1: a very heavy tail, clipped to the histogram's range.
        "pareto" => (long)Math.Min(LatencyHistogram.MaxTrackableMicroseconds, 100 / Math.Pow(1 - random.NextDouble(), 1 / 1.1)),
        "bimodal" => random.NextDouble() < 0.98 ? random.NextInt64(800, 1200) : random.NextInt64(2_000_000, 3_000_000),
        _ => random.NextInt64(0, 300),
    };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
