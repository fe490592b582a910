using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FedAgg.Aggregation.Kernels;

/// <summary>
/// The deterministic dot product of docs/AGGREGATION.md: per 1024-coordinate chunk, 16 float32 lanes (lane = c mod 16)
/// each a fused multiply-add chain in ascending c, then the lanes folded pairwise in double (<see cref="LaneSum"/>). Chunk partials are
/// summed in chunk order by the caller. Vector512 lanes are exactly the 16 lanes, so the width never shows.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DotKernels
{
    public const int Chunk = 1024;
    public const int Lanes = 16;

    /// <summary>For each chunk of <c>x − v</c> (or <c>x</c> when <paramref name="v"/> is null) in a chunk-aligned block, its cnorm2 partial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SquaredNormPartials(float* x, float* v, int length, double* partials)
    {
        var pad = stackalloc float[Lanes];
        var chunk = 0;
        for (var start = 0; start < length; start += Chunk, chunk++)
        {
            var len = Math.Min(Chunk, length - start);
            var acc = Vector512<float>.Zero;
            var c = 0;
            for (; c <= len - Lanes; c += Lanes)
            {
                var e = Vector512.Load(x + start + c);
                if (v != null)
                {
                    e -= Vector512.Load(v + start + c);
                }

                acc = Vector512.FusedMultiplyAdd(e, e, acc);
            }

            if (c < len)
            {
                // Zero padding leaves a lane unchanged: fma(0, 0, L) = L because L is never −0.
                for (var l = 0; l < Lanes; l++)
                {
                    pad[l] = c + l < len ? (v != null ? x[start + c + l] - v[start + c + l] : x[start + c + l]) : 0f;
                }

                var e = Vector512.Load(pad);
                acc = Vector512.FusedMultiplyAdd(e, e, acc);
            }

            partials[chunk] = LaneSum(acc);
        }
    }

    /// <summary>
    /// The 16 lanes widened to double and folded pairwise: lane i + lane i+8 (i &lt; 8), then i + i+4 (i &lt; 4), then
    /// i + i+2 (i &lt; 2), then 0 + 1. A fixed tree, so any implementation reproduces it; vectors do it in three adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double LaneSum(Vector512<float> lanes)
    {
        var eight = Vector512.WidenLower(lanes) + Vector512.WidenUpper(lanes);
        var four = eight.GetLower() + eight.GetUpper();
        var two = four.GetLower() + four.GetUpper();
        return two.GetElement(0) + two.GetElement(1);
    }

    /// <summary>
    /// Gram chunk partials: <c>partial[i·stride + j] = chunk cdot(y_i, y_j)</c> for i ≤ j over <paramref name="rows"/> rows
    /// (a multiple of 4; padding rows are zero) of <paramref name="vectors"/>·16 coordinates laid out <paramref name="rowStride"/> apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GramChunk(float* y, int rows, int rowStride, int vectors, double* partial, int partialStride)
    {
        for (var ti = 0; ti < rows; ti += 4)
        {
            var r0 = y + ((long)ti * rowStride);
            var r1 = r0 + rowStride;
            var r2 = r1 + rowStride;
            var r3 = r2 + rowStride;
            for (var tj = ti; tj < rows; tj += 4)
            {
                var c0 = y + ((long)tj * rowStride);
                var c1 = c0 + rowStride;
                var c2 = c1 + rowStride;
                var c3 = c2 + rowStride;
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                for (var k = 0; k < vectors * Lanes; k += Lanes)
                {
                    var x0 = Vector512.Load(r0 + k);
                    var x1 = Vector512.Load(r1 + k);
                    var x2 = Vector512.Load(r2 + k);
                    var x3 = Vector512.Load(r3 + k);
                    var y0 = Vector512.Load(c0 + k);
                    var y1 = Vector512.Load(c1 + k);
                    var y2 = Vector512.Load(c2 + k);
                    var y3 = Vector512.Load(c3 + k);
                    a00 = Vector512.FusedMultiplyAdd(x0, y0, a00);
                    a01 = Vector512.FusedMultiplyAdd(x0, y1, a01);
                    a02 = Vector512.FusedMultiplyAdd(x0, y2, a02);
                    a03 = Vector512.FusedMultiplyAdd(x0, y3, a03);
                    a10 = Vector512.FusedMultiplyAdd(x1, y0, a10);
                    a11 = Vector512.FusedMultiplyAdd(x1, y1, a11);
                    a12 = Vector512.FusedMultiplyAdd(x1, y2, a12);
                    a13 = Vector512.FusedMultiplyAdd(x1, y3, a13);
                    a20 = Vector512.FusedMultiplyAdd(x2, y0, a20);
                    a21 = Vector512.FusedMultiplyAdd(x2, y1, a21);
                    a22 = Vector512.FusedMultiplyAdd(x2, y2, a22);
                    a23 = Vector512.FusedMultiplyAdd(x2, y3, a23);
                    a30 = Vector512.FusedMultiplyAdd(x3, y0, a30);
                    a31 = Vector512.FusedMultiplyAdd(x3, y1, a31);
                    a32 = Vector512.FusedMultiplyAdd(x3, y2, a32);
                    a33 = Vector512.FusedMultiplyAdd(x3, y3, a33);
                }

                var p = partial + ((long)ti * partialStride) + tj;
                Put(p, 0, 0, a00, ti, tj, partialStride);
                Put(p, 0, 1, a01, ti, tj, partialStride);
                Put(p, 0, 2, a02, ti, tj, partialStride);
                Put(p, 0, 3, a03, ti, tj, partialStride);
                Put(p, 1, 0, a10, ti, tj, partialStride);
                Put(p, 1, 1, a11, ti, tj, partialStride);
                Put(p, 1, 2, a12, ti, tj, partialStride);
                Put(p, 1, 3, a13, ti, tj, partialStride);
                Put(p, 2, 0, a20, ti, tj, partialStride);
                Put(p, 2, 1, a21, ti, tj, partialStride);
                Put(p, 2, 2, a22, ti, tj, partialStride);
                Put(p, 2, 3, a23, ti, tj, partialStride);
                Put(p, 3, 0, a30, ti, tj, partialStride);
                Put(p, 3, 1, a31, ti, tj, partialStride);
                Put(p, 3, 2, a32, ti, tj, partialStride);
                Put(p, 3, 3, a33, ti, tj, partialStride);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(double* p, int a, int b, Vector512<float> lanes, int ti, int tj, int stride)
    {
        if (ti + a <= tj + b)
        {
            p[(a * stride) + b] = LaneSum(lanes);
        }
    }
}
