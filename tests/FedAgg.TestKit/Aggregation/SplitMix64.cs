namespace FedAgg.TestKit.Aggregation;

/// <summary>
/// SplitMix64 exactly as docs/AGGREGATION.md states it (64-bit wrapping). Used by the bucketing reference and by the
/// test-data generators; System.Random is avoided because its algorithm is not a published contract.
/// </summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        unchecked
        {
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>In [0, maxExclusive); the slight modulo bias does not matter for test data.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        return (int)(Next() % (ulong)maxExclusive);
    }

    public bool NextBool() => (Next() >> 63) != 0;

    /// <summary>
    /// Roughly normal (Irwin–Hall of 4 uniforms, variance 1): only + and ×, so the bits do not depend on a libm.
    /// </summary>
    public double NextGaussianLike() =>
        (NextDouble() + NextDouble() + NextDouble() + NextDouble() - 2.0) * Math.Sqrt(3.0);
}
