using System.Runtime.Intrinsics;
using FedAgg.Training.Kernels;

namespace FedAgg.Training.Optimizers;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter 2019), following PyTorch's <c>torch.optim.AdamW</c>.
/// </summary>
/// <remarks>
/// Step t (from 1), per element: <c>p ← p·(1 − ηλ)</c>; <c>m ← fma(β1, m, (1 − β1)·g)</c>;
/// <c>v ← fma(β2, v, ((1 − β2)·g)·g)</c>; <c>d ← √v / √(1 − β2^t) + ε</c>; <c>p ← fma(−η/(1 − β1^t), m/d, p)</c>.
/// Bias corrections are computed in double and rounded once. Subnormal g, m and v are flushed to zero (m decays
/// geometrically wherever the gradient is zero, and x86 processes subnormals about twenty times slower).
/// Element-wise only, so the result is the same bits at every vector width.
/// </remarks>
public sealed unsafe class AdamWOptimizer : IOptimizer
{
    private readonly float[] _m;
    private readonly float[] _v;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameterCount">The parameter vector's length.</param>
    /// <param name="learningRate">η, positive and finite.</param>
    /// <param name="beta1">β1 in [0, 1); default 0.9.</param>
    /// <param name="beta2">β2 in [0, 1); default 0.999.</param>
    /// <param name="epsilon">ε &gt; 0; default 1e-8.</param>
    /// <param name="weightDecay">λ ≥ 0, decoupled; default 0.</param>
    public AdamWOptimizer(int parameterCount, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        OptimizerChecks.Positive(learningRate, nameof(learningRate));
        OptimizerChecks.Fraction(beta1, nameof(beta1));
        OptimizerChecks.Fraction(beta2, nameof(beta2));
        OptimizerChecks.Positive(epsilon, nameof(epsilon));
        OptimizerChecks.NonNegative(weightDecay, nameof(weightDecay));
        ParameterCount = parameterCount;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _m = new float[parameterCount];
        _v = new float[parameterCount];
    }

    /// <inheritdoc/>
    public int ParameterCount { get; }

    /// <summary>η.</summary>
    public float LearningRate { get; }

    /// <summary>β1.</summary>
    public float Beta1 { get; }

    /// <summary>β2.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <summary>The number of steps taken since creation or the last <see cref="Reset"/>.</summary>
    public long StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        OptimizerChecks.Lengths(ParameterCount, parameters.Length, gradient.Length);
        StepCount++;
        var constants = new Constants(
            Decay: (float)(1.0 - ((double)LearningRate * WeightDecay)),
            Beta1: Beta1,
            OneMinusBeta1: (float)(1.0 - Beta1),
            Beta2: Beta2,
            OneMinusBeta2: (float)(1.0 - Beta2),
            SqrtCorrection2: (float)Math.Sqrt(1.0 - Math.Pow(Beta2, StepCount)),
            Epsilon: Epsilon,
            NegativeStep: (float)(-LearningRate / (1.0 - Math.Pow(Beta1, StepCount))));
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* m = _m)
        fixed (float* v = _v)
        {
            var state = new State(p, g, m, v);
            var i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                i = Run<Simd512, Vector512<float>>(in state, in constants, 0, parameters.Length);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                i = Run<Simd256, Vector256<float>>(in state, in constants, 0, parameters.Length);
            }

            Run<SimdScalar, float>(in state, in constants, i, parameters.Length);
        }
    }

    /// <inheritdoc/>
    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        StepCount = 0;
    }

    private static int Run<TOps, TVec>(in State state, in Constants k, int start, int length)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var decay = TOps.Broadcast(k.Decay);
        var beta1 = TOps.Broadcast(k.Beta1);
        var oneMinusBeta1 = TOps.Broadcast(k.OneMinusBeta1);
        var beta2 = TOps.Broadcast(k.Beta2);
        var oneMinusBeta2 = TOps.Broadcast(k.OneMinusBeta2);
        var sqrtCorrection2 = TOps.Broadcast(k.SqrtCorrection2);
        var epsilon = TOps.Broadcast(k.Epsilon);
        var step = TOps.Broadcast(k.NegativeStep);
        var i = start;
        for (; i + w <= length; i += w)
        {
            var grad = TOps.FlushSubnormal(TOps.Load(state.G + i));
            var param = TOps.Multiply(TOps.Load(state.P + i), decay);
            var m = TOps.FlushSubnormal(TOps.MultiplyAdd(beta1, TOps.Load(state.M + i), TOps.Multiply(oneMinusBeta1, grad)));
            var v = TOps.FlushSubnormal(TOps.MultiplyAdd(beta2, TOps.Load(state.V + i), TOps.Multiply(TOps.Multiply(oneMinusBeta2, grad), grad)));
            var denominator = TOps.Add(TOps.Divide(TOps.Sqrt(v), sqrtCorrection2), epsilon);
            TOps.Store(state.M + i, m);
            TOps.Store(state.V + i, v);
            TOps.Store(state.P + i, TOps.MultiplyAdd(step, TOps.Divide(m, denominator), param));
        }

        return i;
    }

    private readonly record struct Constants(
        float Decay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float SqrtCorrection2, float Epsilon, float NegativeStep);

    private readonly struct State(float* p, float* g, float* m, float* v)
    {
        public readonly float* P = p;
        public readonly float* G = g;
        public readonly float* M = m;
        public readonly float* V = v;
    }
}
