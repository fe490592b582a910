namespace FedAgg.Aggregation;

/// <summary>The root exception of the aggregation subsystem: a precondition failed or the inputs cannot be aggregated.</summary>
public class AggregationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AggregationException()
    {
    }

    /// <summary>Creates the exception with a message that names the problem.</summary>
    public AggregationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public AggregationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
