using FedAgg.Aggregation.Tests.Support;

namespace FedAgg.Aggregation.Tests;

public sealed class AggregationEngineErrorTests
{
    [Theory]
    [MemberData(nameof(ErrorCases.Names), MemberType = typeof(ErrorCases))]
    public void Aggregate_PreconditionFails_ThrowsAggregationExceptionNamingIt(string name)
    {
        var c = ErrorCases.All[name];
        var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 1 });
        var e = Assert.Throws<AggregationException>(() => engine.Aggregate(c.Updates, new AggregationSettings(c.Rule, c.Steps)));
        ErrorCases.AssertMessage(e, c);
    }

    [Fact]
    public void Aggregate_NamedSourceLengthsDiffer_MessageUsesTheInputName()
    {
        var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 1 });
        ReadOnlyMemory<float>[] updates = [new float[] { 1, 2 }, new float[] { 1, 2 }, new float[] { 1 }];
        using var source = UpdateSource.FromMemory(updates, ["alice.npy", "bob.npy", "carol.npy"]);
        using var output = AggregateBuffer.Allocate(2);
        var e = Assert.Throws<AggregationException>(() => engine.Aggregate(source, new AggregationSettings(new MeanRule()), output));
        Assert.Contains("carol.npy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aggregate_NamedSourceNonFinite_ExcludedUpdateCarriesName()
    {
        var engine = new AggregationEngine(new AggregationOptions { MaxDegreeOfParallelism = 1 });
        ReadOnlyMemory<float>[] updates = [new float[] { 1, 2 }, new float[] { 1, float.NaN }, new float[] { 3, 4 }];
        using var source = UpdateSource.FromMemory(updates, ["alice.npy", "bob.npy", "carol.npy"]);
        var values = new float[2];
        using var output = AggregateBuffer.FromArray(values);
        var result = engine.Aggregate(source, new AggregationSettings(new MeanRule()), output);
        var excluded = Assert.Single(result.Excluded);
        Assert.Equal(new ExcludedUpdate(1, "bob.npy", "non-finite value at index 1"), excluded);
        BitAssert.Equal([2f, 3f], values);
    }

    [Theory]
    [InlineData(2, "has 2 values but the updates have 3")]
    [InlineData(4, "has 4 values but the updates have 3")]
    public void Aggregate_CenterOfWrongLength_ThrowsNamingBothLengths(int centerLength, string expected)
    {
        float[][] updates = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
        var rule = new CenteredClippingRule(1.0, 2, AggregateBuffer.FromArray(new float[centerLength]));

        var error = Assert.Throws<AggregationException>(() => new AggregationEngine().Aggregate(updates, new AggregationSettings(rule)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aggregate_CenterHoldingInfinity_ThrowsNamingTheIndex()
    {
        float[][] updates = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
        var rule = new CenteredClippingRule(1.0, 2, AggregateBuffer.FromArray([0f, float.PositiveInfinity, 0f]));

        var error = Assert.Throws<AggregationException>(() => new AggregationEngine().Aggregate(updates, new AggregationSettings(rule)));

        Assert.Contains("non-finite value at index 1", error.Message, StringComparison.Ordinal);
    }
}
