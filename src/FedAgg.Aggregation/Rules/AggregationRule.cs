using System.Globalization;

namespace FedAgg.Aggregation;

/// <summary>
/// A robust aggregation rule and its parameters. The arithmetic of each rule is fixed by docs/AGGREGATION.md
/// so that anyone can re-run it bit for bit.
/// </summary>
public abstract record AggregationRule
{
    private protected AggregationRule()
    {
    }

    /// <summary>The rule's command-line and manifest name (<c>mean</c>, <c>krum</c>, …).</summary>
    public abstract string Name { get; }

    /// <summary>Whether the rule selects whole updates (Krum family, Bulyan) and so reports a selection.</summary>
    public virtual bool Selects => false;

    /// <summary>Throws <see cref="AggregationException"/> naming the failed precondition when the rule cannot run on <paramref name="n"/> updates.</summary>
    public abstract void Validate(int n);

    /// <summary>The parameters as name/value pairs, for reports and settings hashes.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    private protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private protected static void RequireAtLeastOne(string rule, int n)
    {
        if (n < 1)
        {
            throw new AggregationException($"{rule} needs at least 1 update, got {n}");
        }
    }

    private protected static void RequireKrumCount(string rule, int n, int f, int factor)
    {
        if (f < 0)
        {
            throw new AggregationException($"{rule}: f must be ≥ 0, got {f}");
        }

        if (n < (factor * f) + 3)
        {
            throw new AggregationException($"{rule} with f={f} needs n ≥ {factor}f+3 = {(factor * f) + 3} updates, got {n}");
        }
    }
}

/// <summary>Coordinate-wise mean (FedAvg without sample weights). Needs n ≥ 1.</summary>
public sealed record MeanRule : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "mean";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [];

    /// <inheritdoc/>
    public override void Validate(int n) => RequireAtLeastOne(Name, n);
}

/// <summary>Coordinate-wise median (Yin et al. 2018); for even n the mean of the two middle values. Needs n ≥ 1.</summary>
public sealed record MedianRule : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "median";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [];

    /// <inheritdoc/>
    public override void Validate(int n) => RequireAtLeastOne(Name, n);
}

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al. 2018): k = ⌊β·n⌋ smallest and k largest values removed per coordinate,
/// the rest averaged. Needs 0 ≤ β &lt; 0.5 and 2k &lt; n.
/// </summary>
/// <param name="Beta">Fraction trimmed from each side.</param>
public sealed record TrimmedMeanRule(double Beta) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "trimmed-mean";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [new("beta", Format(Beta))];

    /// <summary>k = ⌊β·n⌋, the count trimmed from each side.</summary>
    public int TrimCount(int n) => (int)Math.Floor(Beta * n);

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        RequireAtLeastOne(Name, n);
        if (!(Beta >= 0 && Beta < 0.5))
        {
            throw new AggregationException($"trimmed-mean: beta must be in [0, 0.5), got {Format(Beta)}");
        }

        var k = TrimCount(n);
        if (2 * k >= n)
        {
            throw new AggregationException($"trimmed-mean with beta={Format(Beta)} trims 2k={2 * k} of n={n} updates; needs 2k < n");
        }
    }
}

/// <summary>
/// Krum (Blanchard et al. 2017): the update whose n−f−2 nearest neighbours are closest (sum of squared L2 distances);
/// ties go to the lowest index. Needs n ≥ 2f+3.
/// </summary>
/// <param name="F">Assumed number of Byzantine updates.</param>
public sealed record KrumRule(int F) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "krum";

    /// <inheritdoc/>
    public override bool Selects => true;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [new("f", F.ToString(CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override void Validate(int n) => RequireKrumCount(Name, n, F, 2);
}

/// <summary>
/// Multi-Krum (Blanchard et al. 2017): the unweighted mean of the m updates with the lowest Krum scores
/// (ties → lower index). Needs n ≥ 2f+3 and 1 ≤ m ≤ n; m defaults to n−f.
/// </summary>
/// <param name="F">Assumed number of Byzantine updates.</param>
/// <param name="M">Number of updates averaged; null means n−f.</param>
public sealed record MultiKrumRule(int F, int? M = null) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "multi-krum";

    /// <inheritdoc/>
    public override bool Selects => true;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        M is { } m
            ? [new("f", F.ToString(CultureInfo.InvariantCulture)), new("m", m.ToString(CultureInfo.InvariantCulture))]
            : [new("f", F.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The effective m for <paramref name="n"/> updates.</summary>
    public int SelectionCount(int n) => M ?? (n - F);

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        RequireKrumCount(Name, n, F, 2);
        var m = SelectionCount(n);
        if (m < 1 || m > n)
        {
            throw new AggregationException($"multi-krum: m must be in [1, n={n}], got {m}");
        }
    }
}

/// <summary>
/// Bulyan (El Mhamdi et al. 2018): θ = n−2f updates chosen by repeated Krum on the shrinking set
/// (with r remaining, scores sum the max(1, r−f−2) smallest distances, as Flower does); then per coordinate
/// the β = θ−2f values nearest the median of the θ chosen (ties toward the smaller value) are averaged. Needs n ≥ 4f+3.
/// </summary>
/// <param name="F">Assumed number of Byzantine updates.</param>
public sealed record BulyanRule(int F) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "bulyan";

    /// <inheritdoc/>
    public override bool Selects => true;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [new("f", F.ToString(CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override void Validate(int n) => RequireKrumCount(Name, n, F, 4);
}

/// <summary>
/// Centered clipping (Karimireddy et al. 2021): L times v ← v + mean_i[(x_i − v)·min(1, τ/‖x_i − v‖)], starting from
/// <paramref name="Center"/> (the previous round's aggregate) or zero. The final v is the output, which callers persist
/// as the next round's centre. Needs τ &gt; 0 and L ≥ 1.
/// </summary>
/// <param name="Tau">Clipping radius τ.</param>
/// <param name="Iterations">Number of iterations L.</param>
/// <param name="Center">The starting centre v₀, or null for zero.</param>
public sealed record CenteredClippingRule(double Tau, int Iterations = 1, AggregateBuffer? Center = null) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "centered-clipping";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        [new("tau", Format(Tau)), new("iterations", Iterations.ToString(CultureInfo.InvariantCulture)), new("center", Center is null ? "zero" : "given")];

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        RequireAtLeastOne(Name, n);
        if (!(Tau > 0) || double.IsInfinity(Tau))
        {
            throw new AggregationException($"centered-clipping: tau must be a finite number > 0, got {Format(Tau)}");
        }

        if (Iterations < 1)
        {
            throw new AggregationException($"centered-clipping: iterations must be ≥ 1, got {Iterations}");
        }
    }
}

/// <summary>
/// Smoothed geometric median by Weiszfeld iterations (Pillutla et al. 2022): z₀ = mean; T times
/// z ← Σ w_i x_i / Σ w_i with w_i = 1/max(ν, ‖x_i − z‖). Needs ν &gt; 0 and T ≥ 1.
/// </summary>
/// <param name="Nu">Smoothing ν.</param>
/// <param name="Iterations">Number of iterations T.</param>
public sealed record GeometricMedianRule(double Nu = 1e-6, int Iterations = 10) : AggregationRule
{
    /// <inheritdoc/>
    public override string Name => "geometric-median";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        [new("nu", Format(Nu)), new("iterations", Iterations.ToString(CultureInfo.InvariantCulture))];

    /// <inheritdoc/>
    public override void Validate(int n)
    {
        RequireAtLeastOne(Name, n);
        if (!(Nu > 0) || double.IsInfinity(Nu))
        {
            throw new AggregationException($"geometric-median: nu must be a finite number > 0, got {Format(Nu)}");
        }

        if (Iterations < 1)
        {
            throw new AggregationException($"geometric-median: iterations must be ≥ 1, got {Iterations}");
        }
    }
}
