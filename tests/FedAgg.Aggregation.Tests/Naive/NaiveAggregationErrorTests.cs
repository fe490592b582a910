using FedAgg.Aggregation.Tests.Support;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Naive;

public sealed class NaiveAggregationErrorTests
{
    [Theory]
    [MemberData(nameof(ErrorCases.Names), MemberType = typeof(ErrorCases))]
    public void Aggregate_PreconditionFails_ThrowsAggregationExceptionNamingIt(string name)
    {
        var c = ErrorCases.All[name];
        var e = Assert.Throws<AggregationException>(() => NaiveAggregation.Aggregate(c.Updates, c.Rule, c.Steps));
        ErrorCases.AssertMessage(e, c);
    }
}
