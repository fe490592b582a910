namespace FedAgg.Aggregation;

/// <summary>
/// Runs robust aggregation block by block over coordinates: memory is O(n·block + n²), never O(d), and the
/// output is bit-identical for any thread count, block size and SIMD width (docs/AGGREGATION.md).
/// </summary>
public sealed partial class AggregationEngine
{
    private readonly AggregationOptions _options;

    /// <summary>Creates an engine; <paramref name="options"/> defaults to <see cref="AggregationOptions"/>' defaults.</summary>
    public AggregationEngine(AggregationOptions? options = null)
    {
        _options = options ?? new AggregationOptions();
        _options.Validate();
    }

    /// <summary>The options the engine runs with.</summary>
    public AggregationOptions Options => _options;

    /// <summary>
    /// Aggregates <paramref name="updates"/> into <paramref name="output"/> (length d).
    /// </summary>
    /// <exception cref="AggregationException">Lengths differ, too few finite updates remain, or a precondition fails.</exception>
    public AggregationResult Aggregate(UpdateSource updates, AggregationSettings settings, AggregateBuffer output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        return AggregateCore(updates, settings, output, cancellationToken);
    }

    /// <summary>Aggregates in-memory updates and returns the output array with the result.</summary>
    public (float[] Output, AggregationResult Result) Aggregate(IReadOnlyList<float[]> updates, AggregationSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        using var source = UpdateSource.FromArrays(updates);
        var output = new float[source.Length];
        var result = Aggregate(source, settings, AggregateBuffer.FromArray(output), cancellationToken);
        return (output, result);
    }
}
