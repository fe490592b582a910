namespace FedAgg.Training.Tests;

/// <summary>
/// An independent, deliberately plain MLP in double precision over the documented parameter layout
/// (per layer W[out, in] row-major, then b[out]); the reference the SIMD kernels are checked against.
/// </summary>
internal static class NaiveMlp
{
    public static int ParameterCount(int[] sizes)
    {
        var total = 0;
        for (var l = 1; l < sizes.Length; l++)
        {
            total += (sizes[l] * sizes[l - 1]) + sizes[l];
        }

        return total;
    }

    /// <summary>The logits of one sample.</summary>
    public static double[] Forward(int[] sizes, ReadOnlySpan<float> parameters, ReadOnlySpan<float> input)
    {
        var activation = new double[sizes[0]];
        for (var i = 0; i < sizes[0]; i++)
        {
            activation[i] = input[i];
        }

        var offset = 0;
        for (var l = 1; l < sizes.Length; l++)
        {
            var fanIn = sizes[l - 1];
            var fanOut = sizes[l];
            var next = new double[fanOut];
            for (var o = 0; o < fanOut; o++)
            {
                double sum = parameters[offset + (fanOut * fanIn) + o];
                for (var i = 0; i < fanIn; i++)
                {
                    sum += parameters[offset + (o * fanIn) + i] * activation[i];
                }

                next[o] = l < sizes.Length - 1 ? Math.Max(sum, 0) : sum;
            }

            offset += (fanOut * fanIn) + fanOut;
            activation = next;
        }

        return activation;
    }

    /// <summary>The mean softmax cross-entropy of a batch, with parameters given in double.</summary>
    public static double Loss(int[] sizes, double[] parameters, float[] inputs, byte[] labels)
    {
        var total = 0.0;
        for (var s = 0; s < labels.Length; s++)
        {
            var activation = new double[sizes[0]];
            for (var i = 0; i < sizes[0]; i++)
            {
                activation[i] = inputs[(s * sizes[0]) + i];
            }

            var offset = 0;
            for (var l = 1; l < sizes.Length; l++)
            {
                var fanIn = sizes[l - 1];
                var fanOut = sizes[l];
                var next = new double[fanOut];
                for (var o = 0; o < fanOut; o++)
                {
                    var sum = parameters[offset + (fanOut * fanIn) + o];
                    for (var i = 0; i < fanIn; i++)
                    {
                        sum += parameters[offset + (o * fanIn) + i] * activation[i];
                    }

                    next[o] = l < sizes.Length - 1 ? Math.Max(sum, 0) : sum;
                }

                offset += (fanOut * fanIn) + fanOut;
                activation = next;
            }

            var max = activation.Max();
            var logSum = Math.Log(activation.Sum(z => Math.Exp(z - max))) + max;
            total += logSum - activation[labels[s]];
        }

        return total / labels.Length;
    }
}
