namespace FedAgg.Attacks;

/// <summary>Parameters of the attacks; each applies to one <see cref="AttackKind"/> and is ignored by the others.</summary>
public sealed class AttackOptions
{
    /// <summary>
    /// <see cref="AttackKind.SignFlip"/>: the submitted update is <c>−SignFlipScale · own honest update</c>
    /// (default 1: the honest update reversed, the classic sign-flipping attack). Finite and &gt; 0.
    /// </summary>
    public double SignFlipScale { get; init; } = 1.0;

    /// <summary>
    /// <see cref="AttackKind.Gaussian"/>: standard deviation σ of the noise every coordinate is drawn from (default 1.0:
    /// two to three orders of magnitude above typical update coordinates of 10⁻³…10⁻², so a plain mean visibly breaks
    /// while robust rules can reject it). Finite and ≥ 0.
    /// </summary>
    public double GaussianSigma { get; init; } = 1.0;

    /// <summary>
    /// <see cref="AttackKind.Alie"/>: z to use instead of <see cref="Alie.ZMax(int, int)"/> (default null: z_max from n and f).
    /// Finite when set.
    /// </summary>
    public double? AlieZ { get; init; }

    /// <summary>
    /// <see cref="AttackKind.Alie"/>: +1 submits <c>μ + z·σ</c> (default: the form the issue gives, and the form of
    /// Baruch et al. 2019, Algorithm 3, as we read it), −1 submits <c>μ − z·σ</c> (the sign several public
    /// implementations use on gradients, which point against the update direction). Must be +1 or −1.
    /// </summary>
    public int AlieSign { get; init; } = 1;

    /// <summary>
    /// <see cref="AttackKind.Alie"/>: whether σ is the sample standard deviation (divisor k − 1, default true: what
    /// <c>torch.std</c> computes by default, which public ALIE implementations call) or the population one (divisor k).
    /// </summary>
    public bool AlieSampleStd { get; init; } = true;

    /// <summary>
    /// <see cref="AttackKind.Ipm"/>: ε in <c>−ε · mean of the honest updates</c> (default 0.1, the small-ε setting of
    /// Xie, Koyejo and Gupta 2020, "Fall of Empires": small vectors opposite to the honest mean that robust rules
    /// find hard to tell from honest ones near convergence). Finite and &gt; 0.
    /// </summary>
    public double IpmEpsilon { get; init; } = 0.1;

    /// <summary>
    /// <see cref="AttackKind.FreeRider"/>: σ of the noise sent instead of training (default 0: a zero update, i.e.
    /// the base model returned unchanged). Finite and ≥ 0.
    /// </summary>
    public double FreeRiderSigma { get; init; }

    /// <summary>
    /// <see cref="AttackKind.Replay"/>: which earlier submission to resubmit, counted back from the latest
    /// (default 1: the update this participant submitted last). At least 1.
    /// </summary>
    public int ReplayAge { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option that is out of range and the allowed range.</summary>
    public void Validate()
    {
        RequireFinite(SignFlipScale, nameof(SignFlipScale), positive: true);
        RequireFinite(GaussianSigma, nameof(GaussianSigma), positive: false);
        if (AlieZ is { } z && !double.IsFinite(z))
        {
            throw new ArgumentOutOfRangeException(nameof(AlieZ), z, $"{nameof(AlieZ)} must be finite when set.");
        }

        if (AlieSign is not (1 or -1))
        {
            throw new ArgumentOutOfRangeException(nameof(AlieSign), AlieSign, $"{nameof(AlieSign)} must be +1 or -1.");
        }

        RequireFinite(IpmEpsilon, nameof(IpmEpsilon), positive: true);
        RequireFinite(FreeRiderSigma, nameof(FreeRiderSigma), positive: false);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReplayAge, 1, nameof(ReplayAge));
    }

    private static void RequireFinite(double value, string name, bool positive)
    {
        var ok = double.IsFinite(value) && (positive ? value > 0 : value >= 0);
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and {(positive ? "> 0" : ">= 0")}.");
        }
    }
}
