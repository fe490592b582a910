using System.Runtime.Intrinsics;
using FedAgg.Core;
using FedAgg.Training.Kernels;

namespace FedAgg.Training.Tests.Kernels;

public sealed unsafe class GemmTests
{
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        // m, n, k, epilogue; n covers the 4-, 2- and 1-vector blocks and scalar tails at widths 8 and 16,
        // k crosses the 128-term depth blocks, m the 4- and 8-row tiles and their tails.
        { 1, 1, 1, 0 },
        { 4, 64, 784, 1 },
        { 13, 70, 300, 2 },
        { 9, 37, 129, 0 },
        { 8, 32, 128, 1 },
        { 3, 5, 0, 1 },
        { 16, 48, 257, 2 },
        { 10, 80, 17, 0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_EveryWidth_BitIdenticalToScalarFmaReference(int m, int n, int k, int epilogueCode)
    {
        var epilogue = (GemmEpilogue)epilogueCode;
        var random = new SplitMix64((ulong)((m * 1000) + n + k));

        // A is read transposed (row stride 1) to exercise both strides; B and C have padded rows.
        var aColStride = m + 3;
        var a = Fill(new float[Math.Max(1, k * aColStride)], ref random);
        var bStride = n + 5;
        var b = Fill(new float[Math.Max(1, k * bStride)], ref random);
        var cStride = n + 2;
        var bias = Fill(new float[m], ref random);
        var mask = Fill(new float[m * cStride], ref random);

        var expected = new float[m * cStride];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var acc = bias[i];
                for (var t = 0; t < k; t++)
                {
                    acc = MathF.FusedMultiplyAdd(a[i + (t * aColStride)], b[(t * bStride) + j], acc);
                }

                expected[(i * cStride) + j] = epilogue switch
                {
                    GemmEpilogue.Relu => acc > 0 ? acc : 0,
                    GemmEpilogue.MaskPositive => mask[(i * cStride) + j] > 0 ? acc : 0,
                    _ => acc,
                };
            }
        }

        AssertWidth<SimdScalar, float>(expected, m, n, k, a, aColStride, b, bStride, cStride, bias, epilogue, mask);
        if (Vector256.IsHardwareAccelerated)
        {
            AssertWidth<Simd256, Vector256<float>>(expected, m, n, k, a, aColStride, b, bStride, cStride, bias, epilogue, mask);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            AssertWidth<Simd512, Vector512<float>>(expected, m, n, k, a, aColStride, b, bStride, cStride, bias, epilogue, mask);
        }
    }

    [Fact]
    public void Multiply_NoBias_StartsFromZero()
    {
        float[] a = [2, 3];
        float[] b = [5, 7];
        var c = new float[1];
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            Gemm.Multiply(1, 1, 2, pa, 2, 1, pb, 1, pc, 1, null, GemmEpilogue.None, null);
        }

        Assert.Equal(31f, c[0]);
    }

    private static void AssertWidth<TOps, TVec>(
        float[] expected, int m, int n, int k, float[] a, int aColStride, float[] b, int bStride, int cStride, float[] bias, GemmEpilogue epilogue, float[] mask)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var c = new float[m * cStride];
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        fixed (float* pmask = mask)
        {
            Gemm.Multiply<TOps, TVec>(m, n, k, pa, 1, aColStride, pb, bStride, pc, cStride, pbias, epilogue, pmask);
        }

        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var index = (i * cStride) + j;
                Assert.True(
                    BitConverter.SingleToInt32Bits(expected[index]) == BitConverter.SingleToInt32Bits(c[index]),
                    $"{typeof(TOps).Name}: C[{i}, {j}] = {c[index]:R}, expected {expected[index]:R}");
            }
        }
    }

    private static float[] Fill(float[] values, ref SplitMix64 random)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
