namespace FedAgg.Aggregation;

/// <summary>
/// DiLoCo's outer step (Douillard et al. 2023): Nesterov momentum on the pseudo-gradient <c>g = −Δ</c>. Per coordinate,
/// in double, <c>m = f32(μ·m + g)</c> then <c>θ = f32(θ − η·(g + μ·m))</c> with the stored (rounded) m
/// (docs/AGGREGATION.md). State: <c>momentum</c>, starting at zero. With μ = 0 this is plain SGD, <c>θ + η·Δ</c>.
/// </summary>
/// <param name="LearningRate">Outer learning rate η (default 0.7); a finite number &gt; 0.</param>
/// <param name="Momentum">Nesterov momentum μ (default 0.9); 0 ≤ μ &lt; 1.</param>
/// <exception cref="ArgumentOutOfRangeException">A parameter is out of range; the exception names it.</exception>
public sealed record DiLoCoOptimizer(double LearningRate = 0.7, double Momentum = 0.9) : OuterOptimizer
{
    /// <summary>Outer learning rate η (default 0.7); a finite number &gt; 0.</summary>
    public double LearningRate { get; init => field = OptimizerParameters.LearningRate(value, nameof(LearningRate)); }
        = OptimizerParameters.LearningRate(LearningRate, nameof(LearningRate));

    /// <summary>Nesterov momentum μ (default 0.9); 0 ≤ μ &lt; 1.</summary>
    public double Momentum { get; init => field = OptimizerParameters.Rate(value, nameof(Momentum)); }
        = OptimizerParameters.Rate(Momentum, nameof(Momentum));

    /// <inheritdoc/>
    public override string Name => "diloco";

    /// <inheritdoc/>
    /// <remarks><c>eta</c>, <c>mu</c>.</remarks>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters =>
        [new("eta", OptimizerParameters.Format(LearningRate)), new("mu", OptimizerParameters.Format(Momentum))];

    /// <inheritdoc/>
    /// <remarks><c>momentum</c>.</remarks>
    public override IReadOnlyList<string> StateNames => ["momentum"];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer's length differs from the model's, or <paramref name="state"/> does not hold exactly one buffer.</exception>
    public override void Apply(AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state, CancellationToken cancellationToken = default) =>
        OptimizerKernel.Run(new Kernel(LearningRate, Momentum), this, model, delta, state, cancellationToken);

    private readonly struct Kernel(double eta, double mu) : IOptimizerStep
    {
        public static int StateCount => 1;

        public void Step(Span<float> model, ReadOnlySpan<float> delta, Span<float> state0, Span<float> state1)
        {
            delta = delta[..model.Length];
            var momentum = state0[..model.Length];
            for (var i = 0; i < model.Length; i++)
            {
                var g = -(double)delta[i];
                var m = (float)((mu * (double)momentum[i]) + g);
                momentum[i] = m;
                model[i] = (float)((double)model[i] - (eta * (g + (mu * (double)m))));
            }
        }
    }
}
