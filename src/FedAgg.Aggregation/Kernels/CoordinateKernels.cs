using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FedAgg.Aggregation.Kernels;

/// <summary>What a sorted-coordinate kernel computes from each coordinate's sorted values.</summary>
internal enum SortedReduction
{
    /// <summary>The middle value (odd n) or the mean of the two middle values (even n).</summary>
    Median,

    /// <summary>The mean of sorted positions [k, n−k).</summary>
    TrimmedMean,

    /// <summary>Bulyan's coordinate phase: the mean of the k values nearest the median, ties toward the smaller.</summary>
    NearestToMedian,
}

/// <summary>
/// Coordinate-wise kernels, 16 coordinates per step across all rows. Every lane runs the same scalar formula of
/// docs/AGGREGATION.md in the same order, so results do not depend on the vector width.
/// </summary>
[SkipLocalsInit]
internal static unsafe class CoordinateKernels
{
    public const int Lanes = 16;
    private const int MeanSegment = 2048;

    /// <summary><c>destination[c] = f32(dsum over rows in order of rows[r][c] / divisor)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mean(
        ReadOnlySpan<nint> rows, int length, double divisor, float* destination, double* accumulator,
        FiniteTracker? tracker = null, ReadOnlySpan<int> rowIds = default, long start = 0)
    {
        var div = Vector512.Create(divisor);
        for (var segment = 0; segment < length; segment += MeanSegment)
        {
            var len = Math.Min(MeanSegment, length - segment);
            NativeMemory.Clear(accumulator, (nuint)(len * sizeof(double)));
            for (var r = 0; r < rows.Length; r++)
            {
                var x = (float*)rows[r] + segment;
                var c = 0;
                for (; c <= len - Lanes; c += Lanes)
                {
                    var v = Vector512.Load(x + c);
                    Vector512.Store(Vector512.Load(accumulator + c) + Vector512.WidenLower(v), accumulator + c);
                    Vector512.Store(Vector512.Load(accumulator + c + 8) + Vector512.WidenUpper(v), accumulator + c + 8);
                }

                for (; c < len; c++)
                {
                    accumulator[c] += x[c];
                }

                tracker?.Check(rowIds[r], start + segment, x, len);
            }

            var d = destination + segment;
            var i = 0;
            for (; i <= len - Lanes; i += Lanes)
            {
                var lo = Vector512.Load(accumulator + i) / div;
                var hi = Vector512.Load(accumulator + i + 8) / div;
                Vector512.Store(Vector512.Narrow(lo, hi), d + i);
            }

            for (; i < len; i++)
            {
                d[i] = (float)(accumulator[i] / divisor);
            }
        }
    }

    /// <summary>
    /// Sorts each coordinate's values across the rows with <paramref name="network"/> and reduces them as
    /// <paramref name="reduction"/> says; <paramref name="k"/> is the trim count or Bulyan's β.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sorted(ReadOnlySpan<nint> rows, int length, SortedReduction reduction, int k, int[] network, float* destination, Vector512<int>* keys)
    {
        var n = rows.Length;
        var tail = stackalloc float[Lanes];
        fixed (int* net = network)
        {
            var comparators = network.Length;
            for (var c = 0; c < length; c += Lanes)
            {
                var partial = length - c < Lanes;
                for (var r = 0; r < n; r++)
                {
                    Vector512<float> v;
                    if (!partial)
                    {
                        v = Vector512.Load((float*)rows[r] + c);
                    }
                    else
                    {
                        // Padding lanes are sorted too but never written: lanes are independent.
                        new Span<float>(tail, Lanes).Clear();
                        new ReadOnlySpan<float>((float*)rows[r] + c, length - c).CopyTo(new Span<float>(tail, Lanes));
                        v = Vector512.Load(tail);
                    }

                    keys[r] = ToKey(v);
                }

                for (var p = 0; p < comparators; p += 2)
                {
                    var a = keys[net[p]];
                    var b = keys[net[p + 1]];
                    keys[net[p]] = Vector512.Min(a, b);
                    keys[net[p + 1]] = Vector512.Max(a, b);
                }

                var result = reduction switch
                {
                    SortedReduction.Median => MedianOfSorted(keys, n),
                    SortedReduction.TrimmedMean => MeanOfSorted(keys, k, n - k),
                    _ => NearestToMedianOfSorted(keys, n, k),
                };

                if (!partial)
                {
                    Vector512.Store(result, destination + c);
                }
                else
                {
                    Vector512.Store(result, tail);
                    new ReadOnlySpan<float>(tail, length - c).CopyTo(new Span<float>(destination + c, length - c));
                }
            }
        }
    }

    /// <summary>Maps float bits to int32 keys whose signed order is the float total order (−0 &lt; +0); its own inverse.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> ToKey(Vector512<float> value)
    {
        var bits = value.AsInt32();
        return bits ^ (Vector512.ShiftRightArithmetic(bits, 31) & Vector512.Create(0x7FFFFFFF));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FromKey(Vector512<int> key) => ToKey(key.AsSingle()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MedianOfSorted(Vector512<int>* keys, int n)
    {
        if ((n & 1) == 1)
        {
            return FromKey(keys[n / 2]);
        }

        var a = FromKey(keys[(n / 2) - 1]);
        var b = FromKey(keys[n / 2]);
        var two = Vector512.Create(2.0);
        return Vector512.Narrow(
            (Vector512.WidenLower(a) + Vector512.WidenLower(b)) / two,
            (Vector512.WidenUpper(a) + Vector512.WidenUpper(b)) / two);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MeanOfSorted(Vector512<int>* keys, int first, int end)
    {
        var lo = Vector512<double>.Zero;
        var hi = Vector512<double>.Zero;
        for (var p = first; p < end; p++)
        {
            var v = FromKey(keys[p]);
            lo += Vector512.WidenLower(v);
            hi += Vector512.WidenUpper(v);
        }

        var count = Vector512.Create((double)(end - first));
        return Vector512.Narrow(lo / count, hi / count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> NearestToMedianOfSorted(Vector512<int>* keys, int n, int beta)
    {
        Vector512<double> medLo, medHi;
        if ((n & 1) == 1)
        {
            var m = FromKey(keys[n / 2]);
            medLo = Vector512.WidenLower(m);
            medHi = Vector512.WidenUpper(m);
        }
        else
        {
            var a = FromKey(keys[(n / 2) - 1]);
            var b = FromKey(keys[n / 2]);
            var two = Vector512.Create(2.0);
            medLo = (Vector512.WidenLower(a) + Vector512.WidenLower(b)) / two;
            medHi = (Vector512.WidenUpper(a) + Vector512.WidenUpper(b)) / two;
        }

        // Window start w = #{t < n−β : med − s_t > s_{t+β} − med}; the predicate is monotone in t.
        var startLo = Vector512<long>.Zero;
        var startHi = Vector512<long>.Zero;
        for (var t = 0; t < n - beta; t++)
        {
            var left = FromKey(keys[t]);
            var right = FromKey(keys[t + beta]);
            startLo -= Vector512.GreaterThan(medLo - Vector512.WidenLower(left), Vector512.WidenLower(right) - medLo).AsInt64();
            startHi -= Vector512.GreaterThan(medHi - Vector512.WidenUpper(left), Vector512.WidenUpper(right) - medHi).AsInt64();
        }

        var endLo = startLo + Vector512.Create((long)beta);
        var endHi = startHi + Vector512.Create((long)beta);
        var sumLo = Vector512<double>.Zero;
        var sumHi = Vector512<double>.Zero;
        for (var t = 0; t < n; t++)
        {
            var v = FromKey(keys[t]);
            var position = Vector512.Create((long)t);
            var inLo = Vector512.GreaterThanOrEqual(position, startLo) & Vector512.LessThan(position, endLo);
            var inHi = Vector512.GreaterThanOrEqual(position, startHi) & Vector512.LessThan(position, endHi);
            sumLo = Vector512.ConditionalSelect(inLo.AsDouble(), sumLo + Vector512.WidenLower(v), sumLo);
            sumHi = Vector512.ConditionalSelect(inHi.AsDouble(), sumHi + Vector512.WidenUpper(v), sumHi);
        }

        var count = Vector512.Create((double)beta);
        return Vector512.Narrow(sumLo / count, sumHi / count);
    }
}
