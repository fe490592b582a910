using System.Globalization;

namespace FedAgg.Aggregation;

/// <summary>A transform of the updates applied before the rule; steps compose in the order given.</summary>
public abstract record PreAggregationStep
{
    private protected PreAggregationStep()
    {
    }

    /// <summary>The step's command-line and manifest name.</summary>
    public abstract string Name { get; }

    /// <summary>The parameters as name/value pairs.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>Throws <see cref="AggregationException"/> when the step cannot run on <paramref name="n"/> updates.</summary>
    public abstract void Validate(int n);

    /// <summary>How many updates the step outputs for <paramref name="n"/> inputs.</summary>
    public virtual int OutputCount(int n) => n;
}

/// <summary>Scales each update whose L2 norm exceeds <paramref name="MaxNorm"/> down to that norm. Needs C &gt; 0.</summary>
/// <param name="MaxNorm">The norm bound C.</param>
public sealed record ClipNormStep(double MaxNorm) : PreAggregationStep
{
    /// <inheritdoc/>
    public override string Name => "clip-norm";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        [new("c", MaxNorm.ToString("R", CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        if (!(MaxNorm > 0) || double.IsInfinity(MaxNorm))
        {
            throw new AggregationException($"clip-norm: C must be a finite number > 0, got {MaxNorm.ToString("R", CultureInfo.InvariantCulture)}");
        }
    }
}

/// <summary>
/// Nearest-neighbour mixing (Allouah et al. 2023): each update is replaced by the mean of its n−f nearest updates
/// (itself included). Needs 0 ≤ f &lt; n.
/// </summary>
/// <param name="F">Assumed number of Byzantine updates.</param>
public sealed record NearestNeighbourMixingStep(int F) : PreAggregationStep
{
    /// <inheritdoc/>
    public override string Name => "nearest-neighbour-mixing";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [new("f", F.ToString(CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        if (F < 0 || F >= n)
        {
            throw new AggregationException($"nearest-neighbour-mixing: f must be in [0, n={n}), got {F}");
        }
    }
}

/// <summary>
/// Bucketing (Karimireddy et al. 2022): a seeded random permutation split into buckets of <paramref name="BucketSize"/>,
/// each averaged; the rule then sees ⌈n/s⌉ updates. Needs s ≥ 1.
/// </summary>
/// <param name="BucketSize">Bucket size s.</param>
/// <param name="Seed">Seed of the permutation (SplitMix64 Fisher–Yates, see docs/AGGREGATION.md).</param>
public sealed record BucketingStep(int BucketSize, ulong Seed = 0) : PreAggregationStep
{
    /// <inheritdoc/>
    public override string Name => "bucketing";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        [new("s", BucketSize.ToString(CultureInfo.InvariantCulture)), new("seed", Seed.ToString(CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override int OutputCount(int n) => (n + BucketSize - 1) / BucketSize;

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        if (BucketSize < 1)
        {
            throw new AggregationException($"bucketing: s must be ≥ 1, got {BucketSize}");
        }
    }
}
