namespace FedAgg.Core.Tests;

public sealed class SplitMix64Tests
{
    [Fact]
    public void NextUInt64_SeedZero_MatchesPublishedSequence()
    {
        // The reference sequence of Vigna's splitmix64.c for a state of 0.
        var random = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
        Assert.Equal(0xF88BB8A8724C81ECUL, random.NextUInt64());
    }

    [Fact]
    public void NextDouble_ManyDraws_StayInUnitInterval()
    {
        var random = new SplitMix64(42);
        for (var i = 0; i < 100_000; i++)
        {
            var value = random.NextDouble();
            Assert.InRange(value, 0.0, 0.9999999999999999);
        }
    }

    [Fact]
    public void NextGaussian_ManyDraws_HaveUnitMomentsWithinSamplingError()
    {
        var random = new SplitMix64(7);
        const int count = 200_000;
        double sum = 0, squares = 0;
        for (var i = 0; i < count; i++)
        {
            var value = random.NextGaussian();
            sum += value;
            squares += value * value;
        }

        // Standard errors: mean 1/sqrt(n) ≈ 0.0022, variance sqrt(2/n) ≈ 0.0032; five of them as the bound.
        Assert.InRange(sum / count, -0.011, 0.011);
        Assert.InRange((squares / count) - ((sum / count) * (sum / count)), 0.984, 1.016);
    }
}
