namespace FedAgg.Aggregation;

/// <summary>
/// FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"; no bias correction). Per coordinate, in double,
/// left to right: <c>m = f32(β₁·m + (1−β₁)·Δ)</c>; <c>v = f32(β₂·v + (1−β₂)·(Δ·Δ))</c>;
/// <c>θ = f32(θ + η·m / (sqrt(v) + τ))</c>, the stored (rounded) m and v feeding the θ step (docs/AGGREGATION.md).
/// State: <c>m</c> and <c>v</c>, starting at zero.
/// </summary>
/// <param name="LearningRate">Server learning rate η (default 0.01); a finite number &gt; 0.</param>
/// <param name="Beta1">First-moment decay β₁ (default 0.9); 0 ≤ β₁ &lt; 1.</param>
/// <param name="Beta2">Second-moment decay β₂ (default 0.99); 0 ≤ β₂ &lt; 1.</param>
/// <param name="Tau">Adaptivity τ added to sqrt(v) (default 0.001); a finite number &gt; 0.</param>
/// <exception cref="ArgumentOutOfRangeException">A parameter is out of range; the exception names it.</exception>
public sealed record FedAdamOptimizer(double LearningRate = 0.01, double Beta1 = 0.9, double Beta2 = 0.99, double Tau = 0.001) : OuterOptimizer
{
    /// <summary>Server learning rate η (default 0.01); a finite number &gt; 0.</summary>
    public double LearningRate { get; init => field = OptimizerParameters.LearningRate(value, nameof(LearningRate)); }
        = OptimizerParameters.LearningRate(LearningRate, nameof(LearningRate));

    /// <summary>First-moment decay β₁ (default 0.9); 0 ≤ β₁ &lt; 1.</summary>
    public double Beta1 { get; init => field = OptimizerParameters.Rate(value, nameof(Beta1)); }
        = OptimizerParameters.Rate(Beta1, nameof(Beta1));

    /// <summary>Second-moment decay β₂ (default 0.99); 0 ≤ β₂ &lt; 1.</summary>
    public double Beta2 { get; init => field = OptimizerParameters.Rate(value, nameof(Beta2)); }
        = OptimizerParameters.Rate(Beta2, nameof(Beta2));

    /// <summary>Adaptivity τ added to sqrt(v) (default 0.001); a finite number &gt; 0.</summary>
    public double Tau { get; init => field = OptimizerParameters.Epsilon(value, nameof(Tau)); }
        = OptimizerParameters.Epsilon(Tau, nameof(Tau));

    /// <inheritdoc/>
    public override string Name => "fedadam";

    /// <inheritdoc/>
    /// <remarks><c>eta</c>, <c>beta1</c>, <c>beta2</c>, <c>tau</c>.</remarks>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
    [
        new("eta", OptimizerParameters.Format(LearningRate)),
        new("beta1", OptimizerParameters.Format(Beta1)),
        new("beta2", OptimizerParameters.Format(Beta2)),
        new("tau", OptimizerParameters.Format(Tau)),
    ];

    /// <inheritdoc/>
    /// <remarks><c>m</c> (first moment), <c>v</c> (second moment).</remarks>
    public override IReadOnlyList<string> StateNames => ["m", "v"];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer's length differs from the model's, or <paramref name="state"/> does not hold exactly two buffers.</exception>
    public override void Apply(AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state, CancellationToken cancellationToken = default) =>
        OptimizerKernel.Run(new Kernel(LearningRate, Beta1, Beta2, Tau), this, model, delta, state, cancellationToken);

    private readonly struct Kernel(double eta, double beta1, double beta2, double tau) : IOptimizerStep
    {
        public static int StateCount => 2;

        public void Step(Span<float> model, ReadOnlySpan<float> delta, Span<float> state0, Span<float> state1)
        {
            delta = delta[..model.Length];
            var first = state0[..model.Length];
            var second = state1[..model.Length];
            var oneMinusBeta1 = 1.0 - beta1;
            var oneMinusBeta2 = 1.0 - beta2;
            for (var i = 0; i < model.Length; i++)
            {
                var d = (double)delta[i];
                var m = (float)((beta1 * (double)first[i]) + (oneMinusBeta1 * d));
                var v = (float)((beta2 * (double)second[i]) + (oneMinusBeta2 * (d * d)));
                first[i] = m;
                second[i] = v;
                model[i] = (float)((double)model[i] + (eta * (double)m / (Math.Sqrt(v) + tau)));
            }
        }
    }
}
