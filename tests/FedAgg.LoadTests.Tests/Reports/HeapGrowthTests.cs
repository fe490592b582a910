using FedAgg.LoadTests.Hosting;
using FedAgg.LoadTests.Reports;

namespace FedAgg.LoadTests.Tests.Reports;

public sealed class HeapGrowthTests
{
    [Fact]
    public void Compute_LinearGrowthAfterAWarmUp_SkipsTheWarmUpAndFindsTheSlopeExactly()
    {
        // Rounds 0..200 every 10: a steep warm-up to round 40, then 3,000 bytes per round; the large-object heap jumps by
        // 1 MB at round 100 and must not count.
        var samples = Enumerable.Range(0, 21).Select(i =>
        {
            long round = i * 10;
            var small = round < 40 ? 1_000_000 + (round * 100_000) : 5_000_000 + ((round - 40) * 3_000);
            long large = round >= 100 ? 2_000_000 : 1_000_000;
            return Sample(round, small + large, large);
        }).ToList();

        var growth = HeapGrowth.Compute(samples, warmupRounds: 50);

        Assert.NotNull(growth);
        Assert.Equal(50, growth.BaselineRound);
        Assert.Equal(5_030_000, growth.BaselineBytes);
        Assert.Equal(200, growth.EndRound);
        Assert.Equal(5_480_000, growth.EndBytes);
        Assert.Equal(16, growth.Samples);
        Assert.Equal(3_000, growth.SlopeBytesPerRound, 1e-6);
        Assert.Equal(3_000, growth.EndpointBytesPerRound, 1e-9);
    }

    [Fact]
    public void Compute_OneOutlier_MovesTheSlopeLessThanTheEndpoints()
    {
        var samples = Enumerable.Range(0, 31).Select(i => Sample(i * 10, 4_000_000 + (i * 10 * 500), 0)).ToList();
        samples[^1] = Sample(300, 4_000_000 + (300 * 500) + 300_000, 0); // a burst at the last sample

        var growth = HeapGrowth.Compute(samples, warmupRounds: 0)!;

        Assert.Equal(1_500, growth.EndpointBytesPerRound, 1e-9);
        Assert.InRange(growth.SlopeBytesPerRound, 500, 1_000);
    }

    [Fact]
    public void Compute_TooFewSamplesPastTheWarmUpOrNoneCollected_ReturnsNull()
    {
        Assert.Null(HeapGrowth.Compute([], 20));
        Assert.Null(HeapGrowth.Compute([Sample(0, 1000, 0), Sample(10, 2000, 0), Sample(20, 3000, 0)], 20)); // only round 20 past the warm-up
        Assert.Null(HeapGrowth.Compute([Sample(0, null, null), Sample(100, null, null)], 0));
        Assert.NotNull(HeapGrowth.Compute([Sample(0, 1000, 0), Sample(20, 3000, 0), Sample(30, 4000, 0)], 20));
    }

    [Fact]
    public void BytesPerRound_FourUpdates_IsTheSumOfTheDocumentedParts()
    {
        // 64-bit CoreCLR sizes: byte[32] = 56, byte[36] = 64, byte[163] = 192, byte[64] = 88; a 66-character string 160.
        Assert.Equal(56, ByDesignRetention.ArrayBytes(32));
        Assert.Equal(192, ByDesignRetention.ArrayBytes(163));
        Assert.Equal(160, ByDesignRetention.StringBytes(66));
        Assert.Equal(136 + 56 + 56 + 64 + 192 + 88 + 40 + 8 + 84, ByDesignRetention.JournalIndexBytesPerUpdate(163));
        Assert.Equal(72 + 160 + 32 + 8, ByDesignRetention.CreditHistoryBytesPerUpdate(4));
        Assert.Equal(32 + 160 + 8, ByDesignRetention.TaskModelBytesPerRound);

        var perRound = ByDesignRetention.BytesPerRound(4, 163, 40);

        Assert.Equal((4 * 724) + ByDesignRetention.JournalIndexBytesPerRound(40) + 200, perRound, 1e-9);
        Assert.InRange(perRound, 3_000, 6_000);
    }

    [Fact]
    public void TryParse_ServerStatusResult_ReadsEveryFigure()
    {
        const string Json = """
            {"uptimeSeconds":12.5,"processId":42,"gcHeapBytes":1000,"totalManagedBytes":2000,"fragmentedBytes":5,"committedBytes":9000,"gen0Collections":7,
             "gen1Collections":3,"gen2Collections":1,"totalAllocatedBytes":123456,"workingSetBytes":99999,"threads":21,"retainedBytes":1500,"retainedLargeObjectBytes":400}
            """;

        Assert.True(ServerHeapMonitor.TryParse(Json, TimeSpan.FromSeconds(3), 30, out var sample, out var error), error);
        Assert.Equal(new HeapSample(TimeSpan.FromSeconds(3), 30, 1000, 2000, 1500, 7, 3, 1, 123456, 99999, 21, 400), sample);
        Assert.Equal(1100, sample.RetainedSmallObjectBytes);

        Assert.True(ServerHeapMonitor.TryParse(Json.Replace("\"retainedBytes\":1500,\"retainedLargeObjectBytes\":400", "\"x\":0", StringComparison.Ordinal), TimeSpan.Zero, 0, out var plain, out _));
        Assert.Null(plain.RetainedBytes);
        Assert.Null(plain.RetainedSmallObjectBytes);
        Assert.False(ServerHeapMonitor.TryParse("""{"gcHeapBytes":1}""", TimeSpan.Zero, 0, out _, out error));
        Assert.Contains("unreadable", error, StringComparison.Ordinal);
        Assert.False(ServerHeapMonitor.TryParse("[1,", TimeSpan.Zero, 0, out _, out _));
    }

    private static HeapSample Sample(long round, long? retained, long? large) =>
        new(TimeSpan.FromSeconds(round), round, 0, 0, retained, 0, 0, 0, 0, 0, 0, large);
}
