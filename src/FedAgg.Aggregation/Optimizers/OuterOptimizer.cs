namespace FedAgg.Aggregation;

/// <summary>
/// A server-side (outer) optimizer applied to the aggregate Δ (an update being <c>local − base</c>), arithmetic as in
/// docs/AGGREGATION.md. Its state buffers (momentum, …) start at zero and belong to the caller, who persists them.
/// </summary>
public abstract record OuterOptimizer
{
    private protected OuterOptimizer()
    {
    }

    /// <summary>The optimizer's name (<c>fedavg</c>, <c>fedavgm</c>, <c>diloco</c>, <c>fedadam</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The parameters as name/value pairs.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>Names of the d-length state buffers <see cref="Apply"/> expects, in order.</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// Updates <paramref name="model"/> in place from <paramref name="delta"/>, advancing <paramref name="state"/>
    /// (one buffer per <see cref="StateNames"/> entry), block by block.
    /// </summary>
    public abstract void Apply(AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state, CancellationToken cancellationToken = default);
}
