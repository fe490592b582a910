namespace FedAgg.Aggregation;

/// <summary>
/// FedAvg's server step (McMahan et al. 2017, with a server learning rate): <c>θ = f32(θ + η·Δ)</c> per coordinate,
/// in double (docs/AGGREGATION.md). No state. With η = 1 (the default) the new model is the old one plus the aggregate.
/// </summary>
/// <param name="LearningRate">Server learning rate η (default 1); a finite number &gt; 0.</param>
/// <exception cref="ArgumentOutOfRangeException">A parameter is out of range; the exception names it.</exception>
public sealed record FedAvgOptimizer(double LearningRate = 1.0) : OuterOptimizer
{
    /// <summary>Server learning rate η (default 1); a finite number &gt; 0.</summary>
    public double LearningRate { get; init => field = OptimizerParameters.LearningRate(value, nameof(LearningRate)); }
        = OptimizerParameters.LearningRate(LearningRate, nameof(LearningRate));

    /// <inheritdoc/>
    public override string Name => "fedavg";

    /// <inheritdoc/>
    /// <remarks><c>eta</c>.</remarks>
    public override IReadOnlyList<KeyValuePair<string, string>> Parameters => [new("eta", OptimizerParameters.Format(LearningRate))];

    /// <inheritdoc/>
    /// <remarks>None.</remarks>
    public override IReadOnlyList<string> StateNames => [];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer's length differs from the model's, or <paramref name="state"/> is not empty.</exception>
    public override void Apply(AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state, CancellationToken cancellationToken = default) =>
        OptimizerKernel.Run(new Kernel(LearningRate), this, model, delta, state, cancellationToken);

    private readonly struct Kernel(double eta) : IOptimizerStep
    {
        public static int StateCount => 0;

        public void Step(Span<float> model, ReadOnlySpan<float> delta, Span<float> state0, Span<float> state1)
        {
            delta = delta[..model.Length];
            for (var i = 0; i < model.Length; i++)
            {
                model[i] = (float)((double)model[i] + (eta * (double)delta[i]));
            }
        }
    }
}
