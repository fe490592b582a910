using System.Buffers.Binary;
using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Processes;
using Xunit.Sdk;

namespace FedAgg.Cli.Tests;

/// <summary>
/// `fedagg aggregate` against numpy, an implementation that shares nothing with ours: numpy reads our inputs and our
/// output file, and computes np.mean / np.median in float64.
/// </summary>
[Trait("Category", "Interop")]
public sealed class AggregateCommandNumpyTests : IDisposable
{
    private const int N = 10;
    private const int D = 5000;

    // Prints how numpy sees our output file and writes the float64 reference as raw little-endian doubles.
    private const string Script = """
        import sys
        import numpy as np
        output, rule, destination = sys.argv[1], sys.argv[2], sys.argv[3]
        xs = np.stack([np.load(path).astype(np.float64) for path in sys.argv[4:]])
        reference = np.mean(xs, axis=0) if rule == "mean" else np.median(xs, axis=0)
        ours = np.load(output)
        print(ours.dtype.str, ours.shape)
        reference.astype("<f8").tofile(destination)
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("mean")]
    [InlineData("median")]
    public void Aggregate_MeanOrMedian_WithinOneFloat32UlpOfNumpyFloat64(string rule)
    {
        // Even n, so the median averages the two middle values; input 4 is float16 (numpy widens it too).
        var updates = UpdateFiles.Mixed(seed: 301, N, D);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        NpyFile.WriteFloat16(inputs[4], [.. updates[4].Select(v => (Half)v)]);
        var output = _temp.File("result.npy");
        var run = FedaggProcess.Run(["aggregate", "--rule", rule, "--out", output, .. inputs]);
        run.SuccessReport();

        var referencePath = _temp.File("reference.f8");
        var printed = PythonRunner.RunNumpy(Script, [output, rule, referencePath, .. inputs]);

        Assert.Equal($"<f4 ({D},)", printed.Trim());
        var bytes = File.ReadAllBytes(referencePath);
        Assert.Equal(8 * D, bytes.Length);
        var ours = NpyOutput.Read(output).Values;

        // Not bit-exact: numpy sums pairwise in its own order, and we round to float32 where it keeps float64. Both are
        // within half an ulp of the exact value here, so after rounding numpy's value they may differ by at most one ulp.
        for (var c = 0; c < D; c++)
        {
            var reference = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * c));
            var rounded = (float)reference;
            var ulps = Math.Abs((long)OrderedBits(ours[c]) - OrderedBits(rounded));
            if (ulps > 1)
            {
                throw new XunitException(
                    $"{rule}: coordinate {c} is {BitAssert.Show(ours[c])}, numpy's float64 {reference:R} rounds to {BitAssert.Show(rounded)}: {ulps} ulps apart");
            }
        }
    }

    /// <summary>Bits mapped so that adjacent floats differ by one and ±0 coincide.</summary>
    private static int OrderedBits(float value)
    {
        var bits = BitConverter.SingleToInt32Bits(value);
        return bits >= 0 ? bits : -(bits & int.MaxValue);
    }
}
