using System.Numerics;
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
    public const int MeanSegment = 16384;

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
            // Four rows per sweep: the accumulator is read and written once per four rows, and the prefetcher
            // follows four streams at a time. The adds stay in row order per coordinate.
            var r = 0;
            for (; r + 4 <= rows.Length; r += 4)
            {
                var x0 = (float*)rows[r] + segment;
                var x1 = (float*)rows[r + 1] + segment;
                var x2 = (float*)rows[r + 2] + segment;
                var x3 = (float*)rows[r + 3] + segment;
                var c = 0;
                for (; c <= len - Lanes; c += Lanes)
                {
                    var v0 = Vector512.Load(x0 + c);
                    var v1 = Vector512.Load(x1 + c);
                    var v2 = Vector512.Load(x2 + c);
                    var v3 = Vector512.Load(x3 + c);
                    var lo = Vector512.Load(accumulator + c) + Vector512.WidenLower(v0);
                    var hi = Vector512.Load(accumulator + c + 8) + Vector512.WidenUpper(v0);
                    lo += Vector512.WidenLower(v1);
                    hi += Vector512.WidenUpper(v1);
                    lo += Vector512.WidenLower(v2);
                    hi += Vector512.WidenUpper(v2);
                    lo += Vector512.WidenLower(v3);
                    hi += Vector512.WidenUpper(v3);
                    Vector512.Store(lo, accumulator + c);
                    Vector512.Store(hi, accumulator + c + 8);
                }

                for (; c < len; c++)
                {
                    accumulator[c] = accumulator[c] + x0[c] + x1[c] + x2[c] + x3[c];
                }

                if (tracker is not null)
                {
                    tracker.Check(rowIds[r], start + segment, x0, len);
                    tracker.Check(rowIds[r + 1], start + segment, x1, len);
                    tracker.Check(rowIds[r + 2], start + segment, x2, len);
                    tracker.Check(rowIds[r + 3], start + segment, x3, len);
                }
            }

            for (; r < rows.Length; r++)
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
    /// <paramref name="keys"/> holds ⌈length/16⌉·n vectors: rows are first transposed into one key group per 16
    /// coordinates (reading each row sequentially), so the network then runs on a group that sits in L1.
    /// <paramref name="observer"/> sees every key group just before and just after the network sorts it; a struct type
    /// argument, so the JIT compiles a copy per observer and <see cref="NoObserver"/> costs nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sorted<TObserver>(
        ReadOnlySpan<nint> rows, int length, SortedReduction reduction, int k, int[] network, float* destination, Vector512<int>* keys,
        TObserver observer, FiniteTracker? tracker = null, ReadOnlySpan<int> rowIds = default, long start = 0)
        where TObserver : struct, IGroupObserver
    {
        var n = rows.Length;
        var groups = (length + Lanes - 1) / Lanes;
        var full = length / Lanes;
        var tail = stackalloc float[Lanes];
        for (var r = 0; r < n; r++)
        {
            var x = (float*)rows[r];
            var target = keys + r;
            for (var g = 0; g < full; g++)
            {
                target[(long)g * n] = ToKey(Vector512.Load(x + (g * Lanes)));
            }

            if (full < groups)
            {
                // Padding lanes are sorted too but never written: lanes are independent.
                new Span<float>(tail, Lanes).Clear();
                new ReadOnlySpan<float>(x + (full * Lanes), length - (full * Lanes)).CopyTo(new Span<float>(tail, Lanes));
                target[(long)full * n] = ToKey(Vector512.Load(tail));
            }

            tracker?.Check(rowIds[r], start, x, length);
        }

        var compiled = CompiledNetwork.For(network);
        {
            for (var g = 0; g < groups; g++)
            {
                var group = keys + ((long)g * n);
                observer.BeforeSort(group, n);
                compiled.Apply(group);
                observer.AfterSort(group, n, g < full ? Lanes : length - (g * Lanes));

                var result = reduction switch
                {
                    SortedReduction.Median => MedianOfSorted(group, n),
                    SortedReduction.TrimmedMean => MeanOfSorted(group, k, n - k),
                    _ => NearestToMedianOfSorted(group, n, k),
                };

                var c = g * Lanes;
                if (g < full)
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

/// <summary>Sees each key group of <see cref="CoordinateKernels.Sorted{TObserver}"/> around its sorting network.</summary>
internal unsafe interface IGroupObserver
{
    /// <summary>The group's n key vectors, in row order, before sorting.</summary>
    void BeforeSort(Vector512<int>* group, int n);

    /// <summary>The same group after sorting; <paramref name="lanes"/> of its 16 lanes are real coordinates, the rest padding.</summary>
    void AfterSort(Vector512<int>* sorted, int n, int lanes);
}

/// <summary>Observes nothing: the plain aggregation.</summary>
internal readonly unsafe struct NoObserver : IGroupObserver
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BeforeSort(Vector512<int>* group, int n)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AfterSort(Vector512<int>* sorted, int n, int lanes)
    {
    }
}

/// <summary>
/// Counts, per row, the coordinates at which the row's value lands in sorted positions [first, last] — the positions a
/// sorted reduction reads — where equal values are ordered by row (the stable sort): row i's position is
/// #{j : x_j &lt; x_i} + #{j &lt; i : x_j = x_i} in the total order. Exact integer counts, 16 coordinates at a time.
/// </summary>
/// <remarks>
/// <paramref name="unsorted"/> holds n key vectors (a copy of the group before sorting), <paramref name="masks"/> n lane masks
/// of scratch, <paramref name="counts"/> the n counters.
/// </remarks>
internal readonly unsafe struct KeptCounter(Vector512<int>* unsorted, ushort* masks, long* counts, int first, int last) : IGroupObserver
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BeforeSort(Vector512<int>* group, int n) =>
        Buffer.MemoryCopy(group, unsorted, (long)n * sizeof(Vector512<int>), (long)n * sizeof(Vector512<int>));

    /// <summary>Adds this group's kept coordinates to the counts (positions [first, last] of the group are sorted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AfterSort(Vector512<int>* sorted, int n, int lanes)
    {
        var lo = sorted[first];
        var hi = sorted[last];
        var valid = lanes == CoordinateKernels.Lanes ? 0xFFFFu : (1u << lanes) - 1;

        // Common case: in every lane exactly last − first + 1 rows hold a value in [s_first, s_last]. Those rows then hold
        // exactly the positions first … last, whatever their order, and no tie needs breaking.
        var width = (hi - lo).AsUInt32();
        var inRange = Vector512<int>.Zero;
        for (var i = 0; i < n; i++)
        {
            var hit = Vector512.LessThanOrEqual((unsorted[i] - lo).AsUInt32(), width).AsInt32();
            masks[i] = (ushort)hit.ExtractMostSignificantBits();
            inRange -= hit;
        }

        if ((Vector512.Equals(inRange, Vector512.Create(last - first + 1)).ExtractMostSignificantBits() & valid) == valid)
        {
            for (var i = 0; i < n; i++)
            {
                counts[i] += BitOperations.PopCount(masks[i] & valid);
            }

            return;
        }

        CountWithTies(lo, hi, n, valid);
    }

    /// <summary>
    /// Values strictly between s_first and s_last are kept and values outside are not; a value equal to either is kept
    /// when its stable position #{j : x_j &lt; value} + (equal values in earlier rows) falls in [first, last].
    /// </summary>
    private void CountWithTies(Vector512<int> lo, Vector512<int> hi, int n, uint valid)
    {
        var belowLo = Vector512<int>.Zero;
        var belowHi = Vector512<int>.Zero;
        for (var j = 0; j < n; j++)
        {
            var key = unsorted[j];
            belowLo -= Vector512.LessThan(key, lo);
            belowHi -= Vector512.LessThan(key, hi);
        }

        var firstPosition = Vector512.Create(first);
        var lastPosition = Vector512.Create(last);
        for (var i = 0; i < n; i++)
        {
            var key = unsorted[i];
            var equalLo = Vector512.Equals(key, lo);
            var equalHi = Vector512.Equals(key, hi);
            var keptLo = equalLo & Vector512.GreaterThanOrEqual(belowLo, firstPosition) & Vector512.LessThanOrEqual(belowLo, lastPosition);
            var keptHi = equalHi & Vector512.GreaterThanOrEqual(belowHi, firstPosition) & Vector512.LessThanOrEqual(belowHi, lastPosition);
            var kept = (Vector512.GreaterThan(key, lo) & Vector512.LessThan(key, hi)) | keptLo | keptHi;
            counts[i] += BitOperations.PopCount((uint)kept.ExtractMostSignificantBits() & valid);

            // Equal values met so far move the next equal one position up.
            belowLo -= equalLo;
            belowHi -= equalHi;
        }
    }
}
