using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FedAgg.Training.Kernels;

/// <summary>What <see cref="Gemm"/> does to each finished output element.</summary>
internal enum GemmEpilogue
{
    /// <summary>Store the sum.</summary>
    None,

    /// <summary>Store <c>max(sum, 0)</c>.</summary>
    Relu,

    /// <summary>Store <c>mask[m, n] &gt; 0 ? sum : 0</c> (the ReLU derivative; the mask has C's layout).</summary>
    MaskPositive,
}

/// <summary>
/// One matrix-multiply kernel, used for the forward pass and both halves of the backward pass:
/// <c>C[m, n] = init[m] + Σ_t A[m, t]·B[t, n]</c> where A is read one scalar at a time through two strides (so a
/// transposed operand costs nothing) and B and C are row-major with contiguous rows. Columns are vectorised.
/// </summary>
/// <remarks>
/// Scalar formula, which is also the exact summation order: <c>acc = init[m]</c> (or 0), then for t = 0, 1, …, K−1:
/// <c>acc = fma(A[m, t], B[t, n], acc)</c>; then the epilogue. Every output element is its own lane and its terms are
/// added in t order, so the result is bit-identical at every vector width, for every tiling and for any split of the
/// rows or columns across threads. Cache blocking over t stores the partial sum in C and reloads it, which changes
/// nothing either.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class Gemm
{
    /// <summary>Terms per pass over a column block, sized so the block of B a pass reads stays in L1.</summary>
    private const int DepthBlock = 128;

    /// <summary>The vector width the dispatcher uses on this machine, in floats (the batch is padded to a multiple of it).</summary>
    public static int VectorWidth =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256.IsHardwareAccelerated ? Vector256<float>.Count : 1;

    /// <summary>Computes C (see the class remarks) at the widest vector width the machine accelerates.</summary>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B (the summation length).</param>
    /// <param name="a">A[i, t] is <c>a[i * aRowStride + t * aColStride]</c>.</param>
    /// <param name="aRowStride">Distance between rows of A.</param>
    /// <param name="aColStride">Distance between columns of A.</param>
    /// <param name="b">B[t, j] is <c>b[t * bStride + j]</c>.</param>
    /// <param name="bStride">Distance between rows of B.</param>
    /// <param name="c">C[i, j] is <c>c[i * cStride + j]</c>.</param>
    /// <param name="cStride">Distance between rows of C (and of the mask).</param>
    /// <param name="bias">The initial value per row of C, or null for zero.</param>
    /// <param name="epilogue">What to do with each finished sum.</param>
    /// <param name="mask">The mask for <see cref="GemmEpilogue.MaskPositive"/>, laid out like C; otherwise ignored.</param>
    public static void Multiply(
        int m, int n, int k, float* a, int aRowStride, int aColStride, float* b, int bStride, float* c, int cStride, float* bias, GemmEpilogue epilogue, float* mask)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Multiply<Simd512, Vector512<float>>(m, n, k, a, aRowStride, aColStride, b, bStride, c, cStride, bias, epilogue, mask);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Multiply<Simd256, Vector256<float>>(m, n, k, a, aRowStride, aColStride, b, bStride, c, cStride, bias, epilogue, mask);
        }
        else
        {
            Multiply<SimdScalar, float>(m, n, k, a, aRowStride, aColStride, b, bStride, c, cStride, bias, epilogue, mask);
        }
    }

    /// <summary>Computes C at the width <typeparamref name="TOps"/> gives; columns past the last full vector go one at a time.</summary>
    public static void Multiply<TOps, TVec>(
        int m, int n, int k, float* a, int aRowStride, int aColStride, float* b, int bStride, float* c, int cStride, float* bias, GemmEpilogue epilogue, float* mask)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var args = new Operands(a, aRowStride, aColStride, b, bStride, c, cStride, bias, epilogue, mask);
        var n0 = 0;
        for (; n0 + (4 * w) <= n; n0 += 4 * w)
        {
            ForDepthBlocks<TOps, TVec>(in args, m, k, n0, 4);
        }

        if (n0 + (2 * w) <= n)
        {
            ForDepthBlocks<TOps, TVec>(in args, m, k, n0, 2);
            n0 += 2 * w;
        }

        for (; n0 + w <= n; n0 += w)
        {
            ForDepthBlocks<TOps, TVec>(in args, m, k, n0, 1);
        }

        if (n0 < n && w > 1)
        {
            // Columns left over after the last full vector: the same formula one column at a time.
            Multiply<SimdScalar, float>(
                m, n - n0, k, a, aRowStride, aColStride, b + n0, bStride, c + n0, cStride, bias, epilogue, epilogue == GemmEpilogue.MaskPositive ? mask + n0 : mask);
        }
    }

    private static void ForDepthBlocks<TOps, TVec>(in Operands args, int m, int k, int n0, int vectors)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        if (k == 0)
        {
            // No terms: C is the bias (or zero) through the epilogue.
            ForRows<TOps, TVec>(in args, m, n0, vectors, 0, 0, first: true, last: true);
            return;
        }

        for (var t0 = 0; t0 < k; t0 += DepthBlock)
        {
            var count = Math.Min(DepthBlock, k - t0);
            ForRows<TOps, TVec>(in args, m, n0, vectors, t0, count, first: t0 == 0, last: t0 + count == k);
        }
    }

    private static void ForRows<TOps, TVec>(in Operands args, int m, int n0, int vectors, int t0, int count, bool first, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var m0 = 0;
        switch (vectors)
        {
            case 4:
                for (; m0 + 4 <= m; m0 += 4)
                {
                    Tile4x4<TOps, TVec>(in args, m0, n0, t0, count, first, last);
                }

                break;
            case 2:
                for (; m0 + 8 <= m; m0 += 8)
                {
                    Tile8x2<TOps, TVec>(in args, m0, n0, t0, count, first, last);
                }

                break;
            default:
                for (; m0 + 8 <= m; m0 += 8)
                {
                    Tile8x1<TOps, TVec>(in args, m0, n0, t0, count, first, last);
                }

                break;
        }

        for (; m0 < m; m0++)
        {
            for (var v = 0; v < vectors; v++)
            {
                Tile1x1<TOps, TVec>(in args, m0, n0 + (v * w), t0, count, first, last);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Start<TOps, TVec>(in Operands args, int row, nint offset, bool first)
        where TOps : ISimdOps<TVec>
        where TVec : struct =>
        !first ? TOps.Load(args.C + offset) : args.Bias == null ? TOps.Zero : TOps.Broadcast(args.Bias[row]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TOps, TVec>(in Operands args, nint offset, TVec value, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        if (last)
        {
            if (args.Epilogue == GemmEpilogue.Relu)
            {
                value = TOps.Relu(value);
            }
            else if (args.Epilogue == GemmEpilogue.MaskPositive)
            {
                value = TOps.WherePositive(TOps.Load(args.Mask + offset), value);
            }
        }

        TOps.Store(args.C + offset, value);
    }

    private static void Tile4x4<TOps, TVec>(in Operands args, int m0, int n0, int t0, int count, bool first, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var cs = (nint)args.CStride;
        var o0 = (m0 * cs) + n0;
        var o1 = o0 + cs;
        var o2 = o1 + cs;
        var o3 = o2 + cs;
        TVec c00 = Start<TOps, TVec>(in args, m0, o0, first), c01 = Start<TOps, TVec>(in args, m0, o0 + w, first), c02 = Start<TOps, TVec>(in args, m0, o0 + (2 * w), first), c03 = Start<TOps, TVec>(in args, m0, o0 + (3 * w), first);
        TVec c10 = Start<TOps, TVec>(in args, m0 + 1, o1, first), c11 = Start<TOps, TVec>(in args, m0 + 1, o1 + w, first), c12 = Start<TOps, TVec>(in args, m0 + 1, o1 + (2 * w), first), c13 = Start<TOps, TVec>(in args, m0 + 1, o1 + (3 * w), first);
        TVec c20 = Start<TOps, TVec>(in args, m0 + 2, o2, first), c21 = Start<TOps, TVec>(in args, m0 + 2, o2 + w, first), c22 = Start<TOps, TVec>(in args, m0 + 2, o2 + (2 * w), first), c23 = Start<TOps, TVec>(in args, m0 + 2, o2 + (3 * w), first);
        TVec c30 = Start<TOps, TVec>(in args, m0 + 3, o3, first), c31 = Start<TOps, TVec>(in args, m0 + 3, o3 + w, first), c32 = Start<TOps, TVec>(in args, m0 + 3, o3 + (2 * w), first), c33 = Start<TOps, TVec>(in args, m0 + 3, o3 + (3 * w), first);

        var ars = (nint)args.ARowStride;
        var acs = (nint)args.AColStride;
        var a0 = args.A + (m0 * ars) + (t0 * acs);
        var a1 = a0 + ars;
        var a2 = a1 + ars;
        var a3 = a2 + ars;
        var bs = (nint)args.BStride;
        var bp = args.B + (t0 * bs) + n0;
        for (var t = 0; t < count; t++)
        {
            var b0 = TOps.Load(bp);
            var b1 = TOps.Load(bp + w);
            var b2 = TOps.Load(bp + (2 * w));
            var b3 = TOps.Load(bp + (3 * w));
            var x = TOps.Broadcast(*a0);
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            c02 = TOps.MultiplyAdd(x, b2, c02);
            c03 = TOps.MultiplyAdd(x, b3, c03);
            x = TOps.Broadcast(*a1);
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            c12 = TOps.MultiplyAdd(x, b2, c12);
            c13 = TOps.MultiplyAdd(x, b3, c13);
            x = TOps.Broadcast(*a2);
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            c22 = TOps.MultiplyAdd(x, b2, c22);
            c23 = TOps.MultiplyAdd(x, b3, c23);
            x = TOps.Broadcast(*a3);
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
            c32 = TOps.MultiplyAdd(x, b2, c32);
            c33 = TOps.MultiplyAdd(x, b3, c33);
            a0 += acs;
            a1 += acs;
            a2 += acs;
            a3 += acs;
            bp += bs;
        }

        Finish<TOps, TVec>(in args, o0, c00, last);
        Finish<TOps, TVec>(in args, o0 + w, c01, last);
        Finish<TOps, TVec>(in args, o0 + (2 * w), c02, last);
        Finish<TOps, TVec>(in args, o0 + (3 * w), c03, last);
        Finish<TOps, TVec>(in args, o1, c10, last);
        Finish<TOps, TVec>(in args, o1 + w, c11, last);
        Finish<TOps, TVec>(in args, o1 + (2 * w), c12, last);
        Finish<TOps, TVec>(in args, o1 + (3 * w), c13, last);
        Finish<TOps, TVec>(in args, o2, c20, last);
        Finish<TOps, TVec>(in args, o2 + w, c21, last);
        Finish<TOps, TVec>(in args, o2 + (2 * w), c22, last);
        Finish<TOps, TVec>(in args, o2 + (3 * w), c23, last);
        Finish<TOps, TVec>(in args, o3, c30, last);
        Finish<TOps, TVec>(in args, o3 + w, c31, last);
        Finish<TOps, TVec>(in args, o3 + (2 * w), c32, last);
        Finish<TOps, TVec>(in args, o3 + (3 * w), c33, last);
    }

    private static void Tile8x2<TOps, TVec>(in Operands args, int m0, int n0, int t0, int count, bool first, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var w = TOps.Count;
        var cs = (nint)args.CStride;
        var o0 = (m0 * cs) + n0;
        TVec c00 = Start<TOps, TVec>(in args, m0, o0, first), c01 = Start<TOps, TVec>(in args, m0, o0 + w, first);
        TVec c10 = Start<TOps, TVec>(in args, m0 + 1, o0 + cs, first), c11 = Start<TOps, TVec>(in args, m0 + 1, o0 + cs + w, first);
        TVec c20 = Start<TOps, TVec>(in args, m0 + 2, o0 + (2 * cs), first), c21 = Start<TOps, TVec>(in args, m0 + 2, o0 + (2 * cs) + w, first);
        TVec c30 = Start<TOps, TVec>(in args, m0 + 3, o0 + (3 * cs), first), c31 = Start<TOps, TVec>(in args, m0 + 3, o0 + (3 * cs) + w, first);
        TVec c40 = Start<TOps, TVec>(in args, m0 + 4, o0 + (4 * cs), first), c41 = Start<TOps, TVec>(in args, m0 + 4, o0 + (4 * cs) + w, first);
        TVec c50 = Start<TOps, TVec>(in args, m0 + 5, o0 + (5 * cs), first), c51 = Start<TOps, TVec>(in args, m0 + 5, o0 + (5 * cs) + w, first);
        TVec c60 = Start<TOps, TVec>(in args, m0 + 6, o0 + (6 * cs), first), c61 = Start<TOps, TVec>(in args, m0 + 6, o0 + (6 * cs) + w, first);
        TVec c70 = Start<TOps, TVec>(in args, m0 + 7, o0 + (7 * cs), first), c71 = Start<TOps, TVec>(in args, m0 + 7, o0 + (7 * cs) + w, first);

        var ars = (nint)args.ARowStride;
        var acs = (nint)args.AColStride;
        var ap = args.A + (m0 * ars) + (t0 * acs);
        var bs = (nint)args.BStride;
        var bp = args.B + (t0 * bs) + n0;
        for (var t = 0; t < count; t++)
        {
            var b0 = TOps.Load(bp);
            var b1 = TOps.Load(bp + w);
            var x = TOps.Broadcast(ap[0]);
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            x = TOps.Broadcast(ap[ars]);
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            x = TOps.Broadcast(ap[2 * ars]);
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            x = TOps.Broadcast(ap[3 * ars]);
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
            x = TOps.Broadcast(ap[4 * ars]);
            c40 = TOps.MultiplyAdd(x, b0, c40);
            c41 = TOps.MultiplyAdd(x, b1, c41);
            x = TOps.Broadcast(ap[5 * ars]);
            c50 = TOps.MultiplyAdd(x, b0, c50);
            c51 = TOps.MultiplyAdd(x, b1, c51);
            x = TOps.Broadcast(ap[6 * ars]);
            c60 = TOps.MultiplyAdd(x, b0, c60);
            c61 = TOps.MultiplyAdd(x, b1, c61);
            x = TOps.Broadcast(ap[7 * ars]);
            c70 = TOps.MultiplyAdd(x, b0, c70);
            c71 = TOps.MultiplyAdd(x, b1, c71);
            ap += acs;
            bp += bs;
        }

        Finish<TOps, TVec>(in args, o0, c00, last);
        Finish<TOps, TVec>(in args, o0 + w, c01, last);
        Finish<TOps, TVec>(in args, o0 + cs, c10, last);
        Finish<TOps, TVec>(in args, o0 + cs + w, c11, last);
        Finish<TOps, TVec>(in args, o0 + (2 * cs), c20, last);
        Finish<TOps, TVec>(in args, o0 + (2 * cs) + w, c21, last);
        Finish<TOps, TVec>(in args, o0 + (3 * cs), c30, last);
        Finish<TOps, TVec>(in args, o0 + (3 * cs) + w, c31, last);
        Finish<TOps, TVec>(in args, o0 + (4 * cs), c40, last);
        Finish<TOps, TVec>(in args, o0 + (4 * cs) + w, c41, last);
        Finish<TOps, TVec>(in args, o0 + (5 * cs), c50, last);
        Finish<TOps, TVec>(in args, o0 + (5 * cs) + w, c51, last);
        Finish<TOps, TVec>(in args, o0 + (6 * cs), c60, last);
        Finish<TOps, TVec>(in args, o0 + (6 * cs) + w, c61, last);
        Finish<TOps, TVec>(in args, o0 + (7 * cs), c70, last);
        Finish<TOps, TVec>(in args, o0 + (7 * cs) + w, c71, last);
    }

    private static void Tile8x1<TOps, TVec>(in Operands args, int m0, int n0, int t0, int count, bool first, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var cs = (nint)args.CStride;
        var o0 = (m0 * cs) + n0;
        TVec c0 = Start<TOps, TVec>(in args, m0, o0, first), c1 = Start<TOps, TVec>(in args, m0 + 1, o0 + cs, first);
        TVec c2 = Start<TOps, TVec>(in args, m0 + 2, o0 + (2 * cs), first), c3 = Start<TOps, TVec>(in args, m0 + 3, o0 + (3 * cs), first);
        TVec c4 = Start<TOps, TVec>(in args, m0 + 4, o0 + (4 * cs), first), c5 = Start<TOps, TVec>(in args, m0 + 5, o0 + (5 * cs), first);
        TVec c6 = Start<TOps, TVec>(in args, m0 + 6, o0 + (6 * cs), first), c7 = Start<TOps, TVec>(in args, m0 + 7, o0 + (7 * cs), first);

        var ars = (nint)args.ARowStride;
        var acs = (nint)args.AColStride;
        var ap = args.A + (m0 * ars) + (t0 * acs);
        var bs = (nint)args.BStride;
        var bp = args.B + (t0 * bs) + n0;
        for (var t = 0; t < count; t++)
        {
            var b0 = TOps.Load(bp);
            c0 = TOps.MultiplyAdd(TOps.Broadcast(ap[0]), b0, c0);
            c1 = TOps.MultiplyAdd(TOps.Broadcast(ap[ars]), b0, c1);
            c2 = TOps.MultiplyAdd(TOps.Broadcast(ap[2 * ars]), b0, c2);
            c3 = TOps.MultiplyAdd(TOps.Broadcast(ap[3 * ars]), b0, c3);
            c4 = TOps.MultiplyAdd(TOps.Broadcast(ap[4 * ars]), b0, c4);
            c5 = TOps.MultiplyAdd(TOps.Broadcast(ap[5 * ars]), b0, c5);
            c6 = TOps.MultiplyAdd(TOps.Broadcast(ap[6 * ars]), b0, c6);
            c7 = TOps.MultiplyAdd(TOps.Broadcast(ap[7 * ars]), b0, c7);
            ap += acs;
            bp += bs;
        }

        Finish<TOps, TVec>(in args, o0, c0, last);
        Finish<TOps, TVec>(in args, o0 + cs, c1, last);
        Finish<TOps, TVec>(in args, o0 + (2 * cs), c2, last);
        Finish<TOps, TVec>(in args, o0 + (3 * cs), c3, last);
        Finish<TOps, TVec>(in args, o0 + (4 * cs), c4, last);
        Finish<TOps, TVec>(in args, o0 + (5 * cs), c5, last);
        Finish<TOps, TVec>(in args, o0 + (6 * cs), c6, last);
        Finish<TOps, TVec>(in args, o0 + (7 * cs), c7, last);
    }

    private static void Tile1x1<TOps, TVec>(in Operands args, int m0, int n0, int t0, int count, bool first, bool last)
        where TOps : ISimdOps<TVec>
        where TVec : struct
    {
        var o0 = (m0 * (nint)args.CStride) + n0;
        var c0 = Start<TOps, TVec>(in args, m0, o0, first);
        var acs = (nint)args.AColStride;
        var ap = args.A + (m0 * (nint)args.ARowStride) + (t0 * acs);
        var bs = (nint)args.BStride;
        var bp = args.B + (t0 * bs) + n0;
        for (var t = 0; t < count; t++)
        {
            c0 = TOps.MultiplyAdd(TOps.Broadcast(*ap), TOps.Load(bp), c0);
            ap += acs;
            bp += bs;
        }

        Finish<TOps, TVec>(in args, o0, c0, last);
    }

    /// <summary>The operands of one multiply, passed by reference to the tiles.</summary>
    private readonly struct Operands(
        float* a, int aRowStride, int aColStride, float* b, int bStride, float* c, int cStride, float* bias, GemmEpilogue epilogue, float* mask)
    {
        public readonly float* A = a;
        public readonly int ARowStride = aRowStride;
        public readonly int AColStride = aColStride;
        public readonly float* B = b;
        public readonly int BStride = bStride;
        public readonly float* C = c;
        public readonly int CStride = cStride;
        public readonly float* Bias = bias;
        public readonly GemmEpilogue Epilogue = epilogue;
        public readonly float* Mask = mask;
    }
}
