using FedAgg.Core;
using FedAgg.Training.Optimizers;

namespace FedAgg.Training.Tests.Optimizers;

public sealed class OptimizerTests
{
    // 1,003 elements: full vectors at every width plus a scalar tail.
    private const int Length = 1_003;

    [Fact]
    public void AdamW_FiveSteps_MatchesScalarPyTorchFormula()
    {
        const double lr = 1e-2, beta1 = 0.9, beta2 = 0.99, eps = 1e-8, wd = 0.1;
        var random = new SplitMix64(1);
        var parameters = RandomVector(ref random);
        var reference = parameters.Select(p => (double)p).ToArray();
        var m = new double[Length];
        var v = new double[Length];
        var optimizer = new AdamWOptimizer(Length, (float)lr, (float)beta1, (float)beta2, (float)eps, (float)wd);

        for (var step = 1; step <= 5; step++)
        {
            var gradient = RandomVector(ref random);
            optimizer.Step(parameters, gradient);

            // torch.optim.AdamW, written out in double.
            for (var i = 0; i < Length; i++)
            {
                reference[i] *= 1 - (lr * wd);
                m[i] = (beta1 * m[i]) + ((1 - beta1) * gradient[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * gradient[i] * gradient[i]);
                var mHat = m[i] / (1 - Math.Pow(beta1, step));
                var vHat = v[i] / (1 - Math.Pow(beta2, step));
                reference[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }

        Assert.Equal(5, optimizer.StepCount);
        for (var i = 0; i < Length; i++)
        {
            Assert.True(Math.Abs(parameters[i] - reference[i]) <= 1e-6 + (1e-5 * Math.Abs(reference[i])), $"element {i}: {parameters[i]} vs {reference[i]}");
        }
    }

    [Fact]
    public void Sgd_MomentumAndDecay_FiveSteps_MatchesScalarPyTorchFormula()
    {
        const double lr = 0.05, momentum = 0.9, wd = 0.01;
        var random = new SplitMix64(2);
        var parameters = RandomVector(ref random);
        var reference = parameters.Select(p => (double)p).ToArray();
        var velocity = new double[Length];
        var optimizer = new SgdOptimizer(Length, (float)lr, (float)momentum, (float)wd);

        for (var step = 1; step <= 5; step++)
        {
            var gradient = RandomVector(ref random);
            optimizer.Step(parameters, gradient);

            // torch.optim.SGD without dampening or Nesterov: the first step's buffer is the gradient itself.
            for (var i = 0; i < Length; i++)
            {
                var g = gradient[i] + (wd * reference[i]);
                velocity[i] = step == 1 ? g : (momentum * velocity[i]) + g;
                reference[i] -= lr * velocity[i];
            }
        }

        for (var i = 0; i < Length; i++)
        {
            Assert.True(Math.Abs(parameters[i] - reference[i]) <= 1e-6 + (1e-5 * Math.Abs(reference[i])), $"element {i}: {parameters[i]} vs {reference[i]}");
        }
    }

    [Fact]
    public void Sgd_NoMomentum_IsOneFusedMultiplyAddPerElement()
    {
        var random = new SplitMix64(3);
        var parameters = RandomVector(ref random);
        var gradient = RandomVector(ref random);
        var expected = parameters.Zip(gradient, (p, g) => MathF.FusedMultiplyAdd(-0.1f, g, p)).ToArray();

        new SgdOptimizer(Length, 0.1f).Step(parameters, gradient);

        Assert.Equal(expected, parameters);
    }

    [Fact]
    public void AdamW_Reset_NextStepEqualsAFreshOptimizersFirstStep()
    {
        var random = new SplitMix64(4);
        var start = RandomVector(ref random);
        var gradient = RandomVector(ref random);
        var used = new AdamWOptimizer(Length, 1e-3f);
        var scratch = (float[])start.Clone();
        used.Step(scratch, gradient);
        used.Step(scratch, gradient);
        used.Reset();

        var afterReset = (float[])start.Clone();
        used.Step(afterReset, gradient);
        var fresh = (float[])start.Clone();
        new AdamWOptimizer(Length, 1e-3f).Step(fresh, gradient);

        Assert.Equal(1, used.StepCount);
        Assert.Equal(fresh, afterReset);
    }

    [Fact]
    public void Step_SubnormalGradient_TreatedAsZero()
    {
        var parameters = new float[Length];
        Array.Fill(parameters, 0.5f);
        var gradient = new float[Length];
        Array.Fill(gradient, 1e-40f);
        var optimizer = new AdamWOptimizer(Length, 1e-3f);

        optimizer.Step(parameters, gradient);

        Assert.All(parameters, p => Assert.Equal(0.5f, p));
    }

    [Fact]
    public void Constructor_OutOfRangeSettings_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer(10, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer(10, 1e-3f, beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SgdOptimizer(10, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SgdOptimizer(10, 0.1f, momentum: -0.1f));
        Assert.Throws<ArgumentException>(() => new SgdOptimizer(10, 0.1f).Step(new float[10], new float[9]));
    }

    private static float[] RandomVector(ref SplitMix64 random)
    {
        var values = new float[Length];
        for (var i = 0; i < Length; i++)
        {
            values[i] = (float)random.NextGaussian();
        }

        return values;
    }
}
