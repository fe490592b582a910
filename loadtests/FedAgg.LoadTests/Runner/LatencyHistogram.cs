using System.Numerics;

namespace FedAgg.LoadTests.Runner;

/// <summary>
/// A latency histogram in HdrHistogram's log-linear layout: values in microseconds from 0 to
/// <see cref="MaxTrackableMicroseconds"/> (one hour), kept to 2 significant decimal digits (every bucket is at most
/// 1/128 of its values wide), in one fixed array of <see cref="CountsLength"/> counters allocated once.
/// Recording never allocates; larger values are clamped to the top and counted in <see cref="ClampedCount"/>.
/// </summary>
/// <remarks>
/// Not thread-safe: one writer at a time (<see cref="StepStats"/> serializes its recorders). A percentile is the highest
/// value equivalent to the nearest-rank sample (HdrHistogram's convention), capped at the exact maximum, so it is never
/// below the true nearest-rank percentile and at most 1/128 above it.
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>The largest value tracked exactly: one hour in microseconds.</summary>
    public const long MaxTrackableMicroseconds = 3_600_000_000L;

    /// <summary>log2 of half the sub-buckets per bucket: 2 significant digits need 200 sub-buckets, rounded up to 256.</summary>
    private const int SubBucketHalfCountMagnitude = 7;
    private const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;
    private const long SubBucketMask = (2L * SubBucketHalfCount) - 1;
    private const int LeadingZeroCountBase = 64 - SubBucketHalfCountMagnitude - 1;

    /// <summary>Buckets needed so that 256 · 2^(buckets−1) exceeds one hour of microseconds.</summary>
    private static readonly int BucketCount = ComputeBucketCount();

    private readonly long[] _counts;
    private long _totalCount;
    private long _max;
    private long _min = long.MaxValue;
    private double _sum;

    /// <summary>Creates an empty histogram.</summary>
    public LatencyHistogram() => _counts = new long[CountsLength];

    /// <summary>The number of counters (fixed; the histogram's memory never grows).</summary>
    public static int CountsLength { get; } = (BucketCount + 1) * SubBucketHalfCount;

    /// <summary>How many values were recorded.</summary>
    public long TotalCount => _totalCount;

    /// <summary>How many recorded values exceeded <see cref="MaxTrackableMicroseconds"/> (recorded as that).</summary>
    public long ClampedCount { get; private set; }

    /// <summary>The exact largest value recorded (µs), 0 when empty.</summary>
    public long Max => _totalCount == 0 ? 0 : _max;

    /// <summary>The exact smallest value recorded (µs), 0 when empty.</summary>
    public long Min => _totalCount == 0 ? 0 : _min;

    /// <summary>The exact mean of the recorded values (µs), 0 when empty.</summary>
    public double Mean => _totalCount == 0 ? 0 : _sum / _totalCount;

    /// <summary>Records one value.</summary>
    /// <param name="microseconds">The value; negative values count as 0.</param>
    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }
        else if (microseconds > MaxTrackableMicroseconds)
        {
            microseconds = MaxTrackableMicroseconds;
            ClampedCount++;
        }

        _counts[IndexOf(microseconds)]++;
        _totalCount++;
        _sum += microseconds;
        if (microseconds > _max)
        {
            _max = microseconds;
        }

        if (microseconds < _min)
        {
            _min = microseconds;
        }
    }

    /// <summary>Records a duration (rounded down to whole microseconds).</summary>
    /// <param name="elapsed">The duration.</param>
    public void Record(TimeSpan elapsed) => Record(elapsed.Ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100): the highest value equivalent to the nearest-rank sample
    /// (rank ⌈p/100 · n⌉, at least 1), capped at <see cref="Max"/>. 0 when empty.
    /// </summary>
    /// <param name="percentile">The percentile, 0 to 100.</param>
    /// <returns>The value in microseconds.</returns>
    public long Percentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100.0);
        if (_totalCount == 0)
        {
            return 0;
        }

        var rank = Math.Max(1L, (long)Math.Ceiling(percentile / 100.0 * _totalCount));
        rank = Math.Min(rank, _totalCount);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(HighestEquivalentValue(i), _max);
            }
        }

        return _max;
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    /// <param name="other">The histogram to add (unchanged).</param>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._totalCount == 0)
        {
            return;
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        _totalCount += other._totalCount;
        _sum += other._sum;
        ClampedCount += other.ClampedCount;
        _max = Math.Max(_max, other._max);
        _min = Math.Min(_min, other._min);
    }

    /// <summary>Forgets every value (keeps the array).</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        _totalCount = 0;
        _sum = 0;
        _max = 0;
        _min = long.MaxValue;
        ClampedCount = 0;
    }

    /// <summary>The smallest value that lands in the same counter as <paramref name="value"/>.</summary>
    /// <param name="value">A value in 0..<see cref="MaxTrackableMicroseconds"/>.</param>
    /// <returns>The bucket's lowest value.</returns>
    public static long LowestEquivalentValue(long value) => LowestValueAt(IndexOf(value));

    /// <summary>The largest value that lands in the same counter as <paramref name="value"/>.</summary>
    /// <param name="value">A value in 0..<see cref="MaxTrackableMicroseconds"/>.</param>
    /// <returns>The bucket's highest value.</returns>
    public static long HighestEquivalentValue(long value) => HighestEquivalentValue(IndexOf(value));

    private static int IndexOf(long value)
    {
        var bucketIndex = LeadingZeroCountBase - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        var subBucketIndex = (int)(value >> bucketIndex);
        return ((bucketIndex + 1) << SubBucketHalfCountMagnitude) + (subBucketIndex - SubBucketHalfCount);
    }

    private static long LowestValueAt(int index)
    {
        var bucketIndex = (index >> SubBucketHalfCountMagnitude) - 1;
        var subBucketIndex = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucketIndex < 0)
        {
            subBucketIndex -= SubBucketHalfCount;
            bucketIndex = 0;
        }

        return (long)subBucketIndex << bucketIndex;
    }

    private static long HighestEquivalentValue(int index)
    {
        var bucketIndex = Math.Max(0, (index >> SubBucketHalfCountMagnitude) - 1);
        return LowestValueAt(index) + (1L << bucketIndex) - 1;
    }

    private static int ComputeBucketCount()
    {
        var smallestUntrackable = 2L * SubBucketHalfCount;
        var buckets = 1;
        while (smallestUntrackable <= MaxTrackableMicroseconds)
        {
            smallestUntrackable <<= 1;
            buckets++;
        }

        return buckets;
    }
}
