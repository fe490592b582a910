using FedAgg.Core;
using FedAgg.Training.Data;
using FedAgg.Training.Models;

namespace FedAgg.Training.Tests.Models;

public sealed class MlpTests
{
    [Fact]
    public void CountParameters_DefaultLayers_IsSumOfWeightsAndBiases()
    {
        // 784·256 + 256 + 256·128 + 128 + 128·10 + 10, worked by hand.
        Assert.Equal(235_146, Mlp.CountParameters([784, 256, 128, 10]));
        Assert.Equal(235_146, new Mlp(Mlp.DefaultLayerSizes).ParameterCount);
        Assert.Equal(5 * 4 + 4 + (4 * 3) + 3, Mlp.CountParameters([5, 4, 3]));
    }

    [Fact]
    public void Offsets_FollowTheDocumentedLayout()
    {
        var mlp = new Mlp([5, 4, 3]);

        Assert.Equal(0, mlp.WeightOffset(1));
        Assert.Equal(20, mlp.BiasOffset(1));
        Assert.Equal(24, mlp.WeightOffset(2));
        Assert.Equal(36, mlp.BiasOffset(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => mlp.WeightOffset(3));
    }

    [Fact]
    public void Constructor_BadSizes_Throw()
    {
        Assert.Throws<ArgumentException>(() => new Mlp([784]));
        Assert.Throws<ArgumentException>(() => new Mlp([784, 0, 10]));
    }

    [Fact]
    public void Initialize_Seeded_HeUniformWithinBoundsZeroBiasesAndReproducible()
    {
        var mlp = new Mlp(Mlp.DefaultLayerSizes);
        var a = new float[mlp.ParameterCount];
        var b = new float[mlp.ParameterCount];
        var c = new float[mlp.ParameterCount];

        mlp.Initialize(a, 17);
        mlp.Initialize(b, 17);
        mlp.Initialize(c, 18);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        for (var l = 1; l <= mlp.LayerCount; l++)
        {
            var fanIn = mlp.LayerSizes[l - 1];
            var fanOut = mlp.LayerSizes[l];
            var bound = Math.Sqrt(6.0 / fanIn);
            var weights = a.AsSpan(mlp.WeightOffset(l), fanIn * fanOut).ToArray();
            Assert.All(weights, w => Assert.InRange(w, -bound, bound));

            // U(−b, b) has variance b²/3 = 2/fanIn (He).
            var variance = weights.Select(w => (double)w * w).Average();
            Assert.InRange(variance, 2.0 / fanIn * 0.9, 2.0 / fanIn * 1.1);
            Assert.All(a.AsSpan(mlp.BiasOffset(l), fanOut).ToArray(), bias => Assert.Equal(0f, bias));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(64)]
    [InlineData(300)]
    public void Forward_DefaultMlp_MatchesNaiveScalarForward(int count)
    {
        int[] sizes = [784, 256, 128, 10];
        var mlp = new Mlp(sizes);
        var parameters = new float[mlp.ParameterCount];
        mlp.Initialize(parameters, 3);
        var random = new SplitMix64(4);
        RandomizeBiases(mlp, parameters, ref random);
        var inputs = RandomInputs(count * 784, ref random);
        var logits = new float[count * 10];

        mlp.Forward(parameters, inputs, count, logits);

        for (var s = 0; s < count; s++)
        {
            var expected = NaiveMlp.Forward(sizes, parameters, inputs.AsSpan(s * 784, 784));
            for (var c = 0; c < 10; c++)
            {
                var actual = logits[(s * 10) + c];
                Assert.True(
                    Math.Abs(actual - expected[c]) <= 1e-5 * Math.Max(1, Math.Abs(expected[c])),
                    $"sample {s} class {c}: {actual} vs {expected[c]}");
            }
        }
    }

    [Fact]
    public void ComputeGradient_TinyMlp_MatchesCentralFiniteDifferencesOnEveryParameter()
    {
        int[] sizes = [5, 4, 3];
        var mlp = new Mlp(sizes);
        var parameters = new float[mlp.ParameterCount];
        mlp.Initialize(parameters, 8);
        var random = new SplitMix64(9);
        RandomizeBiases(mlp, parameters, ref random);
        var inputs = RandomInputs(7 * 5, ref random);
        byte[] labels = [0, 1, 2, 2, 1, 0, 1];
        var gradient = new float[mlp.ParameterCount];

        var loss = mlp.ComputeGradient(parameters, inputs, labels, gradient);

        var reference = parameters.Select(p => (double)p).ToArray();
        Assert.Equal(NaiveMlp.Loss(sizes, reference, inputs, labels), loss, 1e-5);
        AssertMatchesFiniteDifferences(sizes, reference, inputs, labels, gradient, Enumerable.Range(0, mlp.ParameterCount));
    }

    [Fact]
    public void ComputeGradient_DefaultMlp_MatchesFiniteDifferencesOnSampledParameters()
    {
        int[] sizes = [784, 256, 128, 10];
        var mlp = new Mlp(sizes);
        var parameters = new float[mlp.ParameterCount];
        mlp.Initialize(parameters, 10);
        var random = new SplitMix64(11);
        RandomizeBiases(mlp, parameters, ref random);
        var inputs = RandomInputs(3 * 784, ref random);
        byte[] labels = [3, 9, 0];
        var gradient = new float[mlp.ParameterCount];

        mlp.ComputeGradient(parameters, inputs, labels, gradient);

        // Every bias, plus weights sampled from each layer (rows and columns at tile edges included).
        var indices = new List<int>();
        for (var l = 1; l <= mlp.LayerCount; l++)
        {
            var fanIn = sizes[l - 1];
            var fanOut = sizes[l];
            indices.AddRange(Enumerable.Range(mlp.BiasOffset(l), Math.Min(fanOut, 12)));
            foreach (var (o, i) in new[] { (0, 0), (fanOut - 1, fanIn - 1), (fanOut / 2, fanIn / 3), (fanOut - 1, 0) })
            {
                indices.Add(mlp.WeightOffset(l) + (o * fanIn) + i);
            }

            for (var n = 0; n < 6; n++)
            {
                indices.Add(mlp.WeightOffset(l) + (int)(random.NextUInt64() % (ulong)(fanIn * fanOut)));
            }
        }

        AssertMatchesFiniteDifferences(sizes, parameters.Select(p => (double)p).ToArray(), inputs, labels, gradient, indices);
    }

    [Fact]
    public void Evaluate_RandomModel_MatchesNaiveAccuracyAndLoss()
    {
        int[] sizes = [784, 256, 128, 10];
        var mlp = new Mlp(sizes);
        var parameters = new float[mlp.ParameterCount];
        mlp.Initialize(parameters, 12);
        var random = new SplitMix64(13);
        const int count = 300;
        var inputs = RandomInputs(count * 784, ref random);
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = (byte)(random.NextUInt64() % 10);
        }

        var result = mlp.Evaluate(parameters, new Dataset(inputs, labels, 784));

        var correct = 0;
        for (var s = 0; s < count; s++)
        {
            var logits = NaiveMlp.Forward(sizes, parameters, inputs.AsSpan(s * 784, 784));
            if (Array.IndexOf(logits, logits.Max()) == labels[s])
            {
                correct++;
            }
        }

        Assert.Equal(count, result.Count);
        Assert.Equal(correct, result.Correct);
        var parametersDouble = parameters.Select(p => (double)p).ToArray();
        Assert.Equal(NaiveMlp.Loss(sizes, parametersDouble, inputs, labels), result.MeanLoss, 1e-4);
    }

    [Fact]
    public void ComputeGradient_LabelOutOfRange_Throws()
    {
        var mlp = new Mlp([5, 4, 3]);
        var parameters = new float[mlp.ParameterCount];

        Assert.Throws<ArgumentException>(() => mlp.ComputeGradient(parameters, new float[5], [3], new float[mlp.ParameterCount]));
    }

    private static void AssertMatchesFiniteDifferences(
        int[] sizes, double[] parameters, float[] inputs, byte[] labels, float[] gradient, IEnumerable<int> indices)
    {
        const double h = 1e-4;
        foreach (var index in indices)
        {
            var saved = parameters[index];
            parameters[index] = saved + h;
            var plus = NaiveMlp.Loss(sizes, parameters, inputs, labels);
            parameters[index] = saved - h;
            var minus = NaiveMlp.Loss(sizes, parameters, inputs, labels);
            parameters[index] = saved;
            var numeric = (plus - minus) / (2 * h);
            Assert.True(
                Math.Abs(gradient[index] - numeric) <= 2e-5 + (1e-3 * Math.Abs(numeric)),
                $"parameter {index}: analytic {gradient[index]:R}, numeric {numeric:R}");
        }
    }

    private static void RandomizeBiases(Mlp mlp, float[] parameters, ref SplitMix64 random)
    {
        // Initialisation zeroes biases; give them values so their gradients and the bias path are tested.
        for (var l = 1; l <= mlp.LayerCount; l++)
        {
            for (var o = 0; o < mlp.LayerSizes[l]; o++)
            {
                parameters[mlp.BiasOffset(l) + o] = (float)(random.NextDouble() * 0.2);
            }
        }
    }

    private static float[] RandomInputs(int length, ref SplitMix64 random)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return values;
    }
}
