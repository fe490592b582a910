namespace FedAgg.Aggregation;

/// <summary>What to compute: optional pre-aggregation steps (in order), then a rule.</summary>
/// <param name="Rule">The robust rule.</param>
/// <param name="PreSteps">Steps applied before the rule, in order; null or empty for none.</param>
public sealed record AggregationSettings(AggregationRule Rule, IReadOnlyList<PreAggregationStep>? PreSteps = null)
{
    /// <summary>The pre-aggregation steps, never null.</summary>
    public IReadOnlyList<PreAggregationStep> Steps => PreSteps ?? [];
}

/// <summary>How the engine runs; none of these change the output bits.</summary>
public sealed class AggregationOptions
{
    /// <summary>Coordinates per block (default 16384). Rounded down to a multiple of 1024 and shrunk to fit <see cref="MemoryBudgetBytes"/>.</summary>
    public int BlockCoordinates { get; init; } = 16384;

    /// <summary>Worker threads (default: the processor count). 1 runs on the calling thread.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Upper bound for the engine's working buffers in bytes (default 256 MiB); the blocks shrink to fit, down to 1024 coordinates.</summary>
    public long MemoryBudgetBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Whether to report <see cref="AggregationResult.Contributions"/> (default false). The output bits are the same
    /// either way; for trimmed mean and median it adds per-coordinate counting to the sorting pass.
    /// </summary>
    public bool ComputeContributions { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockCoordinates, 1024, nameof(BlockCoordinates));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism));
        ArgumentOutOfRangeException.ThrowIfLessThan(MemoryBudgetBytes, 1L << 20, nameof(MemoryBudgetBytes));
    }
}

/// <summary>An input left out of the aggregation, and why.</summary>
/// <param name="Index">The input's index.</param>
/// <param name="Name">The input's name (a file name, say).</param>
/// <param name="Reason">Why it was excluded.</param>
public sealed record ExcludedUpdate(int Index, string Name, string Reason);

/// <summary>What an aggregation did, beside the output vector.</summary>
public sealed class AggregationResult
{
    /// <summary>Number of inputs given.</summary>
    public required int InputCount { get; init; }

    /// <summary>Number of parameters d.</summary>
    public required long Length { get; init; }

    /// <summary>Number of updates the rule aggregated (after exclusions and pre-aggregation steps).</summary>
    public required int AggregatedCount { get; init; }

    /// <summary>
    /// For selecting rules: the chosen updates (Krum: one; Multi-Krum: ascending by score; Bulyan: in selection order).
    /// Indices are the original input indices, or bucket indices when bucketing ran.
    /// </summary>
    public IReadOnlyList<int> Selected { get; init; } = [];

    /// <summary>
    /// For the Krum family and Bulyan: the (first-pass) Krum score of every input, indexed like <see cref="Selected"/>;
    /// <see cref="double.NaN"/> for excluded inputs. Empty for other rules.
    /// </summary>
    public IReadOnlyList<double> Scores { get; init; } = [];

    /// <summary>Inputs left out (non-finite values), with reasons.</summary>
    public IReadOnlyList<ExcludedUpdate> Excluded { get; init; } = [];

    /// <summary>
    /// When <see cref="AggregationOptions.ComputeContributions"/> is set: how much the rule used each input, one value
    /// per input (indexed like the inputs, not like <see cref="Selected"/>), 0 for excluded inputs; defined per rule in
    /// docs/AGGREGATION.md ("Contributions and credits") and bit-identical for any thread count, block size or SIMD
    /// width. Empty when not computed.
    /// </summary>
    public IReadOnlyList<double> Contributions { get; init; } = [];
}
