namespace FedAgg.Training.Optimizers;

/// <summary>A first-order optimizer over a flat parameter vector, with its state in flat arrays of the same length.</summary>
public interface IOptimizer
{
    /// <summary>The length of the parameter vector the optimizer was made for.</summary>
    int ParameterCount { get; }

    /// <summary>Applies one update to <paramref name="parameters"/> given the gradient of the loss.</summary>
    /// <param name="parameters">Updated in place.</param>
    /// <param name="gradient">The gradient, same length.</param>
    void Step(Span<float> parameters, ReadOnlySpan<float> gradient);

    /// <summary>Forgets all state (momentum, moments, step count), as if newly created.</summary>
    void Reset();
}
