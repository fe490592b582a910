using System.Collections.ObjectModel;
using System.Runtime.CompilerServices;
using FedAgg.Core;
using FedAgg.Training.Data;
using FedAgg.Training.Kernels;

namespace FedAgg.Training.Models;

/// <summary>
/// A multilayer perceptron with ReLU hidden layers and a softmax cross-entropy head, whose parameters live in one flat
/// float32 vector: that vector is what the federation ships as the model and, as a difference, as an update.
/// </summary>
/// <remarks>
/// <para>Parameter layout (stable; part of the model format): for each layer <c>l</c> = 1 … L in order, with
/// <c>in = LayerSizes[l − 1]</c> and <c>out = LayerSizes[l]</c>: the weights <c>W[out, in]</c> row-major (element
/// <c>W[o, i]</c> at <c>WeightOffset(l) + o·in + i</c>), then the biases <c>b[out]</c>. The layer computes
/// <c>z = W·x + b</c>; hidden layers apply ReLU, the last layer's <c>z</c> are the logits.</para>
/// <para>The loss of a batch is the mean over its samples of <c>log Σ_c exp(z_c) − z_y</c>; gradients are of that mean.</para>
/// <para>Results are deterministic: the same parameters and inputs give the same bits on a machine, whatever the vector
/// width (every sum is taken in a fixed order with fused multiply-adds). An instance keeps scratch buffers, so it is not
/// safe to use from two threads at once; use one instance per thread.</para>
/// </remarks>
[SkipLocalsInit]
public sealed unsafe class Mlp
{
    private const int EvaluationChunk = 256;

    private readonly int[] _sizes;
    private readonly int[] _weightOffsets;
    private readonly int[] _biasOffsets;
    private readonly int _maxWidth;
    private int _capacity;
    private int _stride;
    private float[] _inputT = [];
    private float[][] _activationT = [];
    private float[][] _activationRows = [];
    private float[] _deltaA = [];
    private float[] _deltaB = [];

    /// <summary>Creates a network with the given layer sizes (input first, classes last).</summary>
    /// <param name="layerSizes">At least two sizes, each in 1 … 65,536, with at most 1 billion parameters in all.</param>
    /// <exception cref="ArgumentException">The sizes are out of range.</exception>
    public Mlp(IReadOnlyList<int> layerSizes)
    {
        ArgumentNullException.ThrowIfNull(layerSizes);
        _sizes = [.. layerSizes];
        ParameterCount = CountParameters(_sizes);
        _weightOffsets = new int[_sizes.Length];
        _biasOffsets = new int[_sizes.Length];
        var offset = 0;
        for (var l = 1; l < _sizes.Length; l++)
        {
            _weightOffsets[l] = offset;
            offset += _sizes[l] * _sizes[l - 1];
            _biasOffsets[l] = offset;
            offset += _sizes[l];
            _maxWidth = Math.Max(_maxWidth, _sizes[l]);
        }

        LayerSizes = new ReadOnlyCollection<int>(_sizes);
    }

    /// <summary>The default architecture for Fashion-MNIST: 784-256-128-10.</summary>
    public static IReadOnlyList<int> DefaultLayerSizes { get; } = new ReadOnlyCollection<int>([784, 256, 128, 10]);

    /// <summary>The layer sizes, input first.</summary>
    public IReadOnlyList<int> LayerSizes { get; }

    /// <summary>The length of the flat parameter vector.</summary>
    public int ParameterCount { get; }

    /// <summary>The input width (features per sample).</summary>
    public int InputSize => _sizes[0];

    /// <summary>The output width (classes).</summary>
    public int OutputSize => _sizes[^1];

    /// <summary>The number of weight layers (one less than the number of sizes).</summary>
    public int LayerCount => _sizes.Length - 1;

    /// <summary>The length of the flat parameter vector of an MLP with these layer sizes.</summary>
    /// <param name="layerSizes">At least two sizes, each in 1 … 65,536.</param>
    /// <returns>Σ over layers of <c>out·in + out</c>.</returns>
    /// <exception cref="ArgumentException">The sizes are out of range or give more than 1 billion parameters.</exception>
    public static int CountParameters(ReadOnlySpan<int> layerSizes)
    {
        if (layerSizes.Length < 2)
        {
            throw new ArgumentException("An MLP needs at least two layer sizes (input and output).", nameof(layerSizes));
        }

        long total = 0;
        for (var l = 0; l < layerSizes.Length; l++)
        {
            if (layerSizes[l] is < 1 or > 65_536)
            {
                throw new ArgumentException($"Layer size {l} is {layerSizes[l]}; allowed 1 … 65,536.", nameof(layerSizes));
            }

            if (l > 0)
            {
                total += ((long)layerSizes[l] * layerSizes[l - 1]) + layerSizes[l];
            }
        }

        return total <= 1_000_000_000
            ? (int)total
            : throw new ArgumentException($"The layers need {total} parameters; at most 1,000,000,000 are allowed.", nameof(layerSizes));
    }

    /// <summary>Where layer <paramref name="layer"/>'s weights start in the flat vector (layers are numbered from 1).</summary>
    /// <param name="layer">1 … <see cref="LayerCount"/>.</param>
    public int WeightOffset(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, LayerCount);
        return _weightOffsets[layer];
    }

    /// <summary>Where layer <paramref name="layer"/>'s biases start in the flat vector (layers are numbered from 1).</summary>
    /// <param name="layer">1 … <see cref="LayerCount"/>.</param>
    public int BiasOffset(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, LayerCount);
        return _biasOffsets[layer];
    }

    /// <summary>
    /// Fills <paramref name="parameters"/> with a seeded He (Kaiming) uniform initialisation: every weight of a layer
    /// with fan-in <c>n</c> drawn from U(−√(6/n), √(6/n)), biases zero. Draws come from <see cref="SplitMix64"/> seeded
    /// with <paramref name="seed"/>, one per weight in layout order: <c>w = (float)((2u − 1)·bound)</c>.
    /// </summary>
    /// <param name="parameters">Exactly <see cref="ParameterCount"/> floats.</param>
    /// <param name="seed">The seed.</param>
    public void Initialize(Span<float> parameters, ulong seed)
    {
        CheckLength(parameters.Length, ParameterCount, nameof(parameters));
        var random = new SplitMix64(seed);
        for (var l = 1; l < _sizes.Length; l++)
        {
            var bound = Math.Sqrt(6.0 / _sizes[l - 1]);
            var weights = parameters.Slice(_weightOffsets[l], _sizes[l] * _sizes[l - 1]);
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(((2 * random.NextDouble()) - 1) * bound);
            }

            parameters.Slice(_biasOffsets[l], _sizes[l]).Clear();
        }
    }

    /// <summary>Computes the logits of <paramref name="count"/> samples.</summary>
    /// <param name="parameters">The flat parameters.</param>
    /// <param name="inputs">The samples, row-major <c>[count, InputSize]</c>.</param>
    /// <param name="count">The number of samples.</param>
    /// <param name="logits">Receives row-major <c>[count, OutputSize]</c>.</param>
    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, int count, Span<float> logits)
    {
        CheckLength(parameters.Length, ParameterCount, nameof(parameters));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckLength(inputs.Length, (long)count * InputSize, nameof(inputs));
        CheckLength(logits.Length, (long)count * OutputSize, nameof(logits));
        for (var start = 0; start < count; start += EvaluationChunk)
        {
            var n = Math.Min(EvaluationChunk, count - start);
            RunForward(parameters, inputs.Slice(start * InputSize, n * InputSize), n, keepRows: false);
            var logitsT = _activationT[LayerCount];
            for (var c = 0; c < OutputSize; c++)
            {
                for (var i = 0; i < n; i++)
                {
                    logits[((start + i) * OutputSize) + c] = logitsT[(c * _stride) + i];
                }
            }
        }
    }

    /// <summary>
    /// Computes the mean softmax cross-entropy of a batch and its gradient with respect to every parameter.
    /// </summary>
    /// <param name="parameters">The flat parameters.</param>
    /// <param name="inputs">The batch, row-major <c>[labels.Length, InputSize]</c>.</param>
    /// <param name="labels">The class of each sample, each below <see cref="OutputSize"/>; at least one.</param>
    /// <param name="gradient">Receives the gradient in the parameter layout (every element is written).</param>
    /// <returns>The mean loss of the batch.</returns>
    public float ComputeGradient(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<byte> labels, Span<float> gradient)
    {
        CheckLength(parameters.Length, ParameterCount, nameof(parameters));
        CheckLength(gradient.Length, ParameterCount, nameof(gradient));
        var count = labels.Length;
        ArgumentOutOfRangeException.ThrowIfZero(count, nameof(labels));
        CheckLength(inputs.Length, (long)count * InputSize, nameof(inputs));
        for (var i = 0; i < count; i++)
        {
            if (labels[i] >= OutputSize)
            {
                throw new ArgumentException($"Label {labels[i]} at {i} is not below the {OutputSize} classes.", nameof(labels));
            }
        }

        RunForward(parameters, inputs, count, keepRows: true);
        var stride = _stride;
        var layers = LayerCount;
        var delta = _deltaA;
        var loss = SoftmaxCrossEntropyDelta(_activationT[layers], labels, delta);

        fixed (float* p = parameters)
        fixed (float* g = gradient)
        fixed (float* x = inputs)
        {
            for (var l = layers; l >= 1; l--)
            {
                var fanIn = _sizes[l - 1];
                var fanOut = _sizes[l];
                fixed (float* d = delta)
                fixed (float* rows = l == 1 ? null : _activationRows[l - 1])
                {
                    // dW[o, i] = Σ_s delta[o, s]·a[s, i] over the real samples only.
                    var input = l == 1 ? x : rows;
                    Gemm.Multiply(fanOut, fanIn, count, d, stride, 1, input, fanIn, g + _weightOffsets[l], fanIn, null, GemmEpilogue.None, null);

                    // db[o] = Σ_s delta[o, s], in sample order.
                    var bias = g + _biasOffsets[l];
                    for (var o = 0; o < fanOut; o++)
                    {
                        var sum = 0f;
                        var row = d + ((nint)o * stride);
                        for (var s = 0; s < count; s++)
                        {
                            sum += row[s];
                        }

                        bias[o] = sum;
                    }

                    if (l > 1)
                    {
                        // delta'[i, s] = (a[i, s] > 0) · Σ_o W[o, i]·delta[o, s].
                        var next = delta == _deltaA ? _deltaB : _deltaA;
                        fixed (float* dn = next)
                        fixed (float* mask = _activationT[l - 1])
                        {
                            Gemm.Multiply(fanIn, stride, fanOut, p + _weightOffsets[l], 1, fanIn, d, stride, dn, stride, null, GemmEpilogue.MaskPositive, mask);
                        }

                        delta = next;
                    }
                }
            }
        }

        return loss;
    }

    /// <summary>Evaluates a model on a data set: accuracy and mean loss.</summary>
    /// <param name="parameters">The flat parameters.</param>
    /// <param name="data">The samples; their feature count must be <see cref="InputSize"/>.</param>
    /// <returns>The result.</returns>
    public EvaluationResult Evaluate(ReadOnlySpan<float> parameters, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckLength(parameters.Length, ParameterCount, nameof(parameters));
        CheckLength(data.FeatureCount, InputSize, nameof(data));
        var correct = 0;
        var totalLoss = 0.0;
        var classes = OutputSize;
        for (var start = 0; start < data.Count; start += EvaluationChunk)
        {
            var n = Math.Min(EvaluationChunk, data.Count - start);
            RunForward(parameters, data.Features.AsSpan(start * InputSize, n * InputSize), n, keepRows: false);
            var logitsT = _activationT[LayerCount];
            for (var s = 0; s < n; s++)
            {
                var label = data.Labels[start + s];
                var max = logitsT[s];
                var best = 0;
                for (var c = 1; c < classes; c++)
                {
                    var z = logitsT[(c * _stride) + s];
                    if (z > max)
                    {
                        max = z;
                        best = c;
                    }
                }

                var sum = 0f;
                for (var c = 0; c < classes; c++)
                {
                    sum += MathF.Exp(logitsT[(c * _stride) + s] - max);
                }

                if (label >= classes)
                {
                    throw new ArgumentException($"Label {label} of sample {start + s} is not below the {classes} classes.", nameof(data));
                }

                totalLoss += MathF.Log(sum) - (logitsT[(label * _stride) + s] - max);
                if (best == label)
                {
                    correct++;
                }
            }
        }

        return new EvaluationResult(data.Count, correct, data.Count == 0 ? 0 : totalLoss / data.Count);
    }

    /// <summary>Runs the forward pass; activations go to the transposed buffers <c>[width, capacity]</c>.</summary>
    private void RunForward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, int count, bool keepRows)
    {
        EnsureCapacity(count);
        var stride = _stride;
        var inputSize = InputSize;

        // Samples become columns, so the kernel vectorises over the batch; the padding columns stay zero.
        var inputT = _inputT;
        for (var s = 0; s < count; s++)
        {
            var row = inputs.Slice(s * inputSize, inputSize);
            for (var i = 0; i < inputSize; i++)
            {
                inputT[(i * stride) + s] = row[i];
            }
        }

        for (var i = 0; i < inputSize; i++)
        {
            inputT.AsSpan((i * stride) + count, stride - count).Clear();
        }

        fixed (float* p = parameters)
        {
            for (var l = 1; l <= LayerCount; l++)
            {
                var fanIn = _sizes[l - 1];
                var fanOut = _sizes[l];
                var source = l == 1 ? _inputT : _activationT[l - 1];
                fixed (float* a = source)
                fixed (float* z = _activationT[l])
                {
                    var epilogue = l == LayerCount ? GemmEpilogue.None : GemmEpilogue.Relu;
                    Gemm.Multiply(fanOut, stride, fanIn, p + _weightOffsets[l], fanIn, 1, a, stride, z, stride, p + _biasOffsets[l], epilogue, null);
                }

                if (keepRows && l < LayerCount)
                {
                    // The weight gradient of the next layer reads this activation sample by sample.
                    var rows = _activationRows[l];
                    var columns = _activationT[l];
                    for (var s = 0; s < count; s++)
                    {
                        for (var o = 0; o < fanOut; o++)
                        {
                            rows[(s * fanOut) + o] = columns[(o * stride) + s];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Writes (softmax − one-hot)/count into <paramref name="delta"/> (<c>[classes, capacity]</c>, padding zero) and returns the mean loss.</summary>
    private float SoftmaxCrossEntropyDelta(float[] logitsT, ReadOnlySpan<byte> labels, float[] delta)
    {
        var classes = OutputSize;
        var stride = _stride;
        var count = labels.Length;
        var scale = 1f / count;
        var totalLoss = 0.0;
        for (var s = 0; s < count; s++)
        {
            var max = logitsT[s];
            for (var c = 1; c < classes; c++)
            {
                max = MathF.Max(max, logitsT[(c * stride) + s]);
            }

            var sum = 0f;
            for (var c = 0; c < classes; c++)
            {
                // Below e^-80 the probability is flushed to zero: it cannot matter next to the maximum's 1 and would
                // otherwise become a subnormal that slows every later multiply it takes part in.
                var shifted = logitsT[(c * stride) + s] - max;
                var e = shifted < -80f ? 0f : MathF.Exp(shifted);
                delta[(c * stride) + s] = e;
                sum += e;
            }

            var label = labels[s];
            totalLoss += MathF.Log(sum) - (logitsT[(label * stride) + s] - max);
            var inverse = 1f / sum;
            for (var c = 0; c < classes; c++)
            {
                var probability = delta[(c * stride) + s] * inverse;
                delta[(c * stride) + s] = (probability - (c == label ? 1f : 0f)) * scale;
            }
        }

        for (var c = 0; c < classes; c++)
        {
            delta.AsSpan((c * stride) + count, stride - count).Clear();
        }

        return (float)(totalLoss / count);
    }

    /// <summary>Sets the batch stride (the count rounded up to the vector width) and grows the buffers to fit it.</summary>
    private void EnsureCapacity(int count)
    {
        var width = Gemm.VectorWidth;
        _stride = Math.Max(width, (count + width - 1) / width * width);
        if (_stride <= _capacity)
        {
            return;
        }

        var needed = _stride;
        _capacity = needed;
        _inputT = new float[_sizes[0] * needed];
        _activationT = new float[_sizes.Length][];
        _activationRows = new float[_sizes.Length][];
        for (var l = 1; l < _sizes.Length; l++)
        {
            _activationT[l] = new float[_sizes[l] * needed];
            _activationRows[l] = new float[_sizes[l] * needed];
        }

        _deltaA = new float[_maxWidth * needed];
        _deltaB = new float[_maxWidth * needed];
    }

    private static void CheckLength(long actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected length {expected}, got {actual}.", name);
        }
    }
}
