using FedAgg.Core;
using FedAgg.Training.Data;

namespace FedAgg.Training.Tests.Data;

public sealed class PartitionerTests
{
    [Theory]
    [InlineData(100, 10)]
    [InlineData(103, 10)]
    [InlineData(7, 7)]
    [InlineData(60_000, 1)]
    public void Iid_AnyCount_CoversEveryIndexOnceWithSizesWithinOne(int count, int participants)
    {
        var shards = Partitioner.Iid(count, participants, seed: 5);

        Assert.Equal(participants, shards.Length);
        AssertCoversExactlyOnce(shards, count);
        Assert.True(shards.Max(s => s.Length) - shards.Min(s => s.Length) <= 1);
        Assert.Equal(count % participants == 0 ? count / participants : (count / participants) + 1, shards[0].Length);
    }

    [Fact]
    public void Iid_SameSeed_SameShards_OtherSeed_Different()
    {
        var a = Partitioner.Iid(1000, 4, seed: 42);
        var b = Partitioner.Iid(1000, 4, seed: 42);
        var c = Partitioner.Iid(1000, 4, seed: 43);

        Assert.Equal(a, b);
        Assert.NotEqual(a[0], c[0]);
    }

    [Fact]
    public void Iid_TwoParticipants_ShardsAreNotContiguousRanges()
    {
        // A shuffle, not a cut of the ordered indices: both halves reach across the whole range.
        var shards = Partitioner.Iid(1000, 2, seed: 1);

        Assert.True(shards[0][0] < 10 && shards[0][^1] > 990);
        Assert.True(shards[1][0] < 10 && shards[1][^1] > 990);
    }

    [Fact]
    public void Iid_MoreParticipantsThanSamples_Throws()
    {
        Assert.Throws<ArgumentException>(() => Partitioner.Iid(3, 4, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partitioner.Iid(3, 0, seed: 1));
    }

    [Theory]
    [InlineData(0.001)]
    [InlineData(0.1)]
    [InlineData(1.0)]
    [InlineData(100.0)]
    public void Dirichlet_AnyAlpha_CoversEveryIndexOnceAndLeavesNoneEmpty(double alpha)
    {
        var labels = BalancedLabels(perClass: 300);

        var shards = Partitioner.Dirichlet(labels, participants: 20, alpha, seed: 9);

        Assert.Equal(20, shards.Length);
        AssertCoversExactlyOnce(shards, labels.Length);
        Assert.All(shards, shard => Assert.NotEmpty(shard));
    }

    [Fact]
    public void Dirichlet_SmallAlpha_GivesEachParticipantFewClasses()
    {
        var labels = BalancedLabels(perClass: 600);

        var shards = Partitioner.Dirichlet(labels, participants: 10, alpha: 0.1, seed: 3);

        // With α = 0.1 a participant's data is dominated by one or two classes; an IID split would give ≈ 0.1.
        var dominant = shards.Select(s => DominantFraction(s, labels)).Average();
        Assert.True(dominant > 0.5, $"mean dominant-class fraction {dominant:F3} should exceed 0.5");
    }

    [Fact]
    public void Dirichlet_LargeAlpha_IsNearUniform()
    {
        var labels = BalancedLabels(perClass: 600);

        var shards = Partitioner.Dirichlet(labels, participants: 10, alpha: 1000, seed: 3);

        // Dir(1000) proportions have a standard deviation of about 0.003 around 0.1, so every shard holds
        // 60 ± a few of each class.
        foreach (var shard in shards)
        {
            var histogram = Histogram(shard, labels);
            Assert.All(histogram, count => Assert.InRange(count, 50, 70));
        }
    }

    [Fact]
    public void Dirichlet_SameSeed_Deterministic_OtherSeed_Different()
    {
        var labels = BalancedLabels(perClass: 100);

        var a = Partitioner.Dirichlet(labels, 8, 0.5, seed: 77);
        var b = Partitioner.Dirichlet(labels, 8, 0.5, seed: 77);
        var c = Partitioner.Dirichlet(labels, 8, 0.5, seed: 78);

        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(s => s.Length), c.Select(s => s.Length));
    }

    [Fact]
    public void Dirichlet_AlphaOutOfRange_Throws()
    {
        var labels = BalancedLabels(perClass: 10);

        Assert.Throws<ArgumentOutOfRangeException>(() => Partitioner.Dirichlet(labels, 2, 0, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partitioner.Dirichlet(labels, 2, double.NaN, seed: 1));
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(4.5)]
    public void LogGamma_ManyDraws_MatchGammaMeanAndVariance(double shape)
    {
        // Gamma(k, 1) has mean k and variance k.
        var random = new SplitMix64(11);
        const int count = 100_000;
        double sum = 0, squares = 0;
        for (var i = 0; i < count; i++)
        {
            var value = Math.Exp(Partitioner.LogGamma(shape, ref random));
            sum += value;
            squares += value * value;
        }

        var mean = sum / count;
        var variance = (squares / count) - (mean * mean);
        Assert.InRange(mean, shape * 0.98, shape * 1.02);
        Assert.InRange(variance, shape * 0.95, shape * 1.05);
    }

    private static byte[] BalancedLabels(int perClass)
    {
        var labels = new byte[perClass * 10];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)(i % 10);
        }

        return labels;
    }

    private static int[] Histogram(int[] shard, byte[] labels)
    {
        var histogram = new int[10];
        foreach (var index in shard)
        {
            histogram[labels[index]]++;
        }

        return histogram;
    }

    private static double DominantFraction(int[] shard, byte[] labels) => (double)Histogram(shard, labels).Max() / shard.Length;

    private static void AssertCoversExactlyOnce(int[][] shards, int count)
    {
        var seen = new bool[count];
        foreach (var shard in shards)
        {
            Assert.Equal(shard.Order().ToArray(), shard);
            foreach (var index in shard)
            {
                Assert.False(seen[index], $"index {index} assigned twice");
                seen[index] = true;
            }
        }

        Assert.All(seen, Assert.True);
    }
}
