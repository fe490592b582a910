using System.Runtime.Intrinsics;
using FedAgg.Training.Kernels;

namespace FedAgg.Training.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional heavy-ball momentum and L2 weight decay (PyTorch's <c>torch.optim.SGD</c>
/// without dampening or Nesterov).
/// </summary>
/// <remarks>
/// Per element, with fused multiply-adds and subnormal g and v flushed to zero (x86 handles subnormals about twenty
/// times slower): <c>g ← fma(λ, p, g)</c>; with momentum μ ≠ 0, <c>v ← fma(μ, v, g)</c>, <c>g ← v</c>;
/// then <c>p ← fma(−η, g, p)</c>. The velocity starts at zero, so the first step uses <c>v = g</c> as PyTorch does.
/// Element-wise only, so the result is the same bits at every vector width.
/// </remarks>
public sealed unsafe class SgdOptimizer : IOptimizer
{
    private readonly float[] _velocity;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameterCount">The parameter vector's length.</param>
    /// <param name="learningRate">η, positive and finite.</param>
    /// <param name="momentum">μ in [0, 1); 0 (default) disables momentum.</param>
    /// <param name="weightDecay">λ ≥ 0 (default 0), added to the gradient as <c>λ·p</c>.</param>
    public SgdOptimizer(int parameterCount, float learningRate, float momentum = 0f, float weightDecay = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        OptimizerChecks.Positive(learningRate, nameof(learningRate));
        OptimizerChecks.Fraction(momentum, nameof(momentum));
        OptimizerChecks.NonNegative(weightDecay, nameof(weightDecay));
        ParameterCount = parameterCount;
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        _velocity = momentum == 0 ? [] : new float[parameterCount];
    }

    /// <inheritdoc/>
    public int ParameterCount { get; }

    /// <summary>η.</summary>
    public float LearningRate { get; }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        OptimizerChecks.Lengths(ParameterCount, parameters.Length, gradient.Length);
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* v = _velocity)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                Run<Simd512, Vector512<float>>(p, g, v, parameters.Length);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Run<Simd256, Vector256<float>>(p, g, v, parameters.Length);
            }
            else
            {
                Run<SimdScalar, float>(p, g, v, parameters.Length);
            }
        }
    }

    /// <inheritdoc/>
    public void Reset() => Array.Clear(_velocity);

    private void Run<TOps, TVec>(float* p, float* g, float* v, int length)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var i = RunWidth<TOps, TVec>(p, g, v, 0, length);
        RunWidth<SimdScalar, float>(p, g, v, i, length);
    }

    private int RunWidth<TOps, TVec>(float* p, float* g, float* v, int start, int length)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var decay = TOps.Broadcast(WeightDecay);
        var momentum = TOps.Broadcast(Momentum);
        var step = TOps.Broadcast(-LearningRate);
        var useMomentum = Momentum != 0;
        var i = start;
        for (; i + w <= length; i += w)
        {
            var param = TOps.Load(p + i);
            var grad = TOps.MultiplyAdd(decay, param, TOps.FlushSubnormal(TOps.Load(g + i)));
            if (useMomentum)
            {
                grad = TOps.FlushSubnormal(TOps.MultiplyAdd(momentum, TOps.Load(v + i), grad));
                TOps.Store(v + i, grad);
            }

            TOps.Store(p + i, TOps.MultiplyAdd(step, grad, param));
        }

        return i;
    }
}
