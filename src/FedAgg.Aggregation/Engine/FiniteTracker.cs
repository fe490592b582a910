using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FedAgg.Aggregation;

/// <summary>
/// Records, per update, the first coordinate holding NaN or ±Inf, while the first pass reads the rows anyway.
/// </summary>
internal sealed class FiniteTracker(int count)
{
    private readonly long[] _firstBad = CreateClean(count);
    private int _any;

    private int _stopped;

    public bool AnyBad => Volatile.Read(ref _any) != 0;

    /// <summary>False once the first pass is over: every row has been checked by then.</summary>
    public bool IsActive => Volatile.Read(ref _stopped) == 0;

    /// <summary>Ends checking (called when the first pass completes).</summary>
    public void Stop() => Volatile.Write(ref _stopped, 1);

    public long FirstBad(int row) => Volatile.Read(ref _firstBad[row]);

    public unsafe void Check(int row, long start, float* values, int length)
    {
        var offset = FindNonFinite(values, length);
        if (offset < 0)
        {
            return;
        }

        var index = start + offset;
        long seen;
        while (index < (seen = Volatile.Read(ref _firstBad[row])))
        {
            if (Interlocked.CompareExchange(ref _firstBad[row], index, seen) == seen)
            {
                break;
            }
        }

        Volatile.Write(ref _any, 1);
    }

    /// <summary>The offset of the first NaN or ±Inf in the span, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int FindNonFinite(float* values, int length)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= length - 64; i += 64)
            {
                // x − x is 0 for finite x and NaN for NaN and ±Inf; NaN ≠ NaN flags it.
                var a = Vector512.Load(values + i);
                var b = Vector512.Load(values + i + 16);
                var c = Vector512.Load(values + i + 32);
                var d = Vector512.Load(values + i + 48);
                var ok = Vector512.Equals(a - a, Vector512<float>.Zero) & Vector512.Equals(b - b, Vector512<float>.Zero)
                    & Vector512.Equals(c - c, Vector512<float>.Zero) & Vector512.Equals(d - d, Vector512<float>.Zero);
                if (ok != Vector512<float>.AllBitsSet)
                {
                    break;
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= length - 32; i += 32)
            {
                var a = Vector256.Load(values + i);
                var b = Vector256.Load(values + i + 8);
                var c = Vector256.Load(values + i + 16);
                var d = Vector256.Load(values + i + 24);
                var ok = Vector256.Equals(a - a, Vector256<float>.Zero) & Vector256.Equals(b - b, Vector256<float>.Zero)
                    & Vector256.Equals(c - c, Vector256<float>.Zero) & Vector256.Equals(d - d, Vector256<float>.Zero);
                if (ok != Vector256<float>.AllBitsSet)
                {
                    break;
                }
            }
        }

        for (; i < length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static long[] CreateClean(int count)
    {
        var values = new long[count];
        Array.Fill(values, long.MaxValue);
        return values;
    }
}
