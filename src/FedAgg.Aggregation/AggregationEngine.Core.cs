namespace FedAgg.Aggregation;

public sealed partial class AggregationEngine
{
    private AggregationResult AggregateCore(UpdateSource updates, AggregationSettings settings, AggregateBuffer output, CancellationToken cancellationToken)
    {
        throw new NotImplementedException();
    }
}
