using System.Runtime.Intrinsics;
using FedAgg.Aggregation.Kernels;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Aggregation.Tests.Kernels;

public sealed unsafe class KernelTests
{
    [Fact]
    public void SquaredNormPartials_LanesTwoToTheSixtyApart_MatchesHandComputedFold()
    {
        // Same vector as the reference's hand-computed case: the engine's vector fold must give 2^60 + 768 too.
        var x = new float[16];
        x[0] = 1 << 30;
        for (var c = 1; c < 16; c++)
        {
            x[c] = 8f;
        }

        var partial = new double[1];
        fixed (float* p = x)
        fixed (double* q = partial)
        {
            DotKernels.SquaredNormPartials(p, null, x.Length, q);
        }

        Assert.Equal(Math.Pow(2, 60) + 768, partial[0]);
    }

    [Fact]
    public void SquaredNormPartials_RandomBlocksAndTails_EqualReferenceCdotPerChunk()
    {
        var random = new Random(12345);
        foreach (var length in new[] { 1, 15, 16, 17, 1023, 1024, 1025, 3000, 4096 })
        {
            var x = new float[length];
            var v = new float[length];
            for (var c = 0; c < length; c++)
            {
                x[c] = (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)));
                v[c] = (float)(random.NextDouble() - 0.5);
            }

            var chunks = (length + 1023) / 1024;
            var partials = new double[chunks];
            fixed (float* px = x)
            fixed (float* pv = v)
            fixed (double* pp = partials)
            {
                DotKernels.SquaredNormPartials(px, pv, length, pp);
            }

            var e = new float[length];
            for (var c = 0; c < length; c++)
            {
                e[c] = x[c] - v[c];
            }

            var total = 0.0;
            foreach (var partial in partials)
            {
                total += partial;
            }

            Assert.Equal(BitConverter.DoubleToInt64Bits(NaiveAggregation.Cdot(e, e)), BitConverter.DoubleToInt64Bits(total));
        }
    }

    [Fact]
    public void MergeExchange_EveryZeroOneInput_Sorts()
    {
        // The 0-1 principle: a comparator network sorts every input iff it sorts every 0/1 input.
        for (var n = 1; n <= 18; n++)
        {
            var network = SortingNetwork.MergeExchange(n);
            for (var bits = 0; bits < 1 << n; bits++)
            {
                var values = new int[n];
                for (var i = 0; i < n; i++)
                {
                    values[i] = (bits >> i) & 1;
                }

                foreach (var (a, b) in network)
                {
                    if (values[a] > values[b])
                    {
                        (values[a], values[b]) = (values[b], values[a]);
                    }
                }

                for (var i = 1; i < n; i++)
                {
                    Assert.True(values[i - 1] <= values[i], $"n={n} input={bits:b} not sorted at {i}");
                }
            }
        }
    }

    [Fact]
    public void PrunedNetwork_RandomInputsUpTo130_RequiredPositionsSorted()
    {
        var random = new Random(7);
        foreach (var n in new[] { 19, 24, 31, 50, 64, 99, 100, 101, 128, 130 })
        {
            var (first, last) = (n / 2 - 1, n / 2);
            var flat = SortingNetwork.For(n, first, last);
            var full = SortingNetwork.MergeExchange(n).Count;
            Assert.True(flat.Length / 2 <= full);
            for (var trial = 0; trial < 200; trial++)
            {
                var values = new int[n];
                for (var i = 0; i < n; i++)
                {
                    values[i] = random.Next(-5, 5);
                }

                var expected = values.Order().ToArray();
                for (var p = 0; p < flat.Length; p += 2)
                {
                    if (values[flat[p]] > values[flat[p + 1]])
                    {
                        (values[flat[p]], values[flat[p + 1]]) = (values[flat[p + 1]], values[flat[p]]);
                    }
                }

                for (var i = first; i <= last; i++)
                {
                    Assert.Equal(expected[i], values[i]);
                }
            }
        }
    }

    [Fact]
    public void ToKey_SignedOrder_IsFloatTotalOrderWithNegativeZeroFirst()
    {
        float[] ordered = [float.NegativeInfinity, -float.MaxValue, -1f, -float.Epsilon, -0f, 0f, float.Epsilon, 1f, float.MaxValue, float.PositiveInfinity];
        var keys = ordered.Select(v => CoordinateKernels.ToKey(Vector512.Create(v)).GetElement(0)).ToArray();
        for (var i = 1; i < keys.Length; i++)
        {
            Assert.True(keys[i - 1] < keys[i], $"{ordered[i - 1]} should sort before {ordered[i]}");
        }

        foreach (var v in ordered)
        {
            var roundTrip = CoordinateKernels.ToKey(CoordinateKernels.ToKey(Vector512.Create(v)).AsSingle()).AsSingle().GetElement(0);
            Assert.Equal(BitConverter.SingleToInt32Bits(v), BitConverter.SingleToInt32Bits(roundTrip));
        }
    }
}
