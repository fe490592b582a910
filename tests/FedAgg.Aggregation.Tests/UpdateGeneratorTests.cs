using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests;

public sealed class UpdateGeneratorTests
{
    private static readonly UpdatePlan Plan = new(12, 1000) { Huge = 1, SignFlipped = 2, NonFinite = 3, Duplicates = 2, SignedZeros = true };

    private static string Hash(IReadOnlyList<float[]> updates)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var u in updates)
        {
            sha.AppendData(MemoryMarshal.AsBytes(u.AsSpan()));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    [Fact]
    public void Generate_SameSeed_SameBits()
    {
        var a = UpdateGenerator.Generate(42, Plan);
        var b = UpdateGenerator.Generate(42, Plan);
        Assert.Equal(Hash(a.Updates), Hash(b.Updates));
        Assert.Equal(a.Kinds, b.Kinds);
    }

    [Fact]
    public void Generate_OtherSeed_OtherBits()
    {
        Assert.NotEqual(Hash(UpdateGenerator.Generate(42, Plan).Updates), Hash(UpdateGenerator.Generate(43, Plan).Updates));
    }

    [Fact]
    public void Generate_Plan_PlantsEachKindAsAsked()
    {
        var g = UpdateGenerator.Generate(7, Plan);
        Assert.Equal(12, g.Updates.Count);
        Assert.All(g.Updates, u => Assert.Equal(1000, u.Length));
        Assert.Equal(Plan.HonestCount, g.IndicesOf(UpdateKind.Honest).Count());
        Assert.Single(g.IndicesOf(UpdateKind.Huge));
        Assert.Equal(2, g.IndicesOf(UpdateKind.SignFlipped).Count());
        Assert.Equal(3, g.IndicesOf(UpdateKind.NonFinite).Count());

        foreach (var i in g.IndicesOf(UpdateKind.NonFinite))
        {
            Assert.True(NaiveAggregation.FirstNonFinite(g.Updates[i]) >= 0, $"update {i} should hold a non-finite value");
        }

        foreach (var i in g.Kinds.Select((k, i) => (k, i)).Where(t => t.k != UpdateKind.NonFinite).Select(t => t.i))
        {
            Assert.True(NaiveAggregation.FirstNonFinite(g.Updates[i]) < 0, $"update {i} should be finite");
        }

        foreach (var i in g.IndicesOf(UpdateKind.Duplicate))
        {
            Assert.Contains(g.IndicesOf(UpdateKind.Honest), h => g.Updates[h].AsSpan().SequenceEqual(g.Updates[i]));
        }

        foreach (var i in g.IndicesOf(UpdateKind.Huge))
        {
            Assert.All(g.Updates[i], v => Assert.InRange(Math.Abs(v), 0.5e6f, 1e6f));
        }

        // Every 7th coordinate from 3 is a signed zero in the honest updates, and both signs occur.
        var zeros = g.IndicesOf(UpdateKind.Honest).SelectMany(h => Enumerable.Range(0, 1000).Where(c => c % 7 == 3).Select(c => g.Updates[h][c])).ToArray();
        Assert.All(zeros, z => Assert.Equal(0f, z));
        Assert.Contains(zeros, z => float.IsNegative(z));
        Assert.Contains(zeros, z => !float.IsNegative(z));
    }

    [Fact]
    public void Generate_Ties_ValuesOnTheGrid()
    {
        var g = UpdateGenerator.Generate(9, new UpdatePlan(5, 64) { Ties = true });
        Assert.All(g.Updates.SelectMany(u => u), v => Assert.Equal(Math.Round(v * 64.0), v * 64.0));
    }
}
