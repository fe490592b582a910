using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Attacks.Tests;

public sealed class StandardNormalTests
{
    [Theory]
    // Published table values (Abramowitz & Stegun 26.2; the 1.959963985 of every 95 % interval).
    [InlineData(0.975, 1.959963985, 1e-9)]
    [InlineData(0.5, 0.0, 0.0)]
    [InlineData(0.001, -3.090232306, 1e-9)]
    [InlineData(0.999, 3.090232306, 1e-9)]
    [InlineData(0.9, 1.281551566, 1e-9)]
    // CPython's statistics.NormalDist().inv_cdf, one per AS 241 branch: |q| ≤ 0.425, r ≤ 5, r > 5.
    [InlineData(0.3, -0.5244005127080407, 1e-15)]
    [InlineData(0.076, -1.4325027208258114, 1e-15)]
    [InlineData(0.074, -1.4466320671589785, 1e-15)]
    [InlineData(1e-10, -6.361340902404056, 1e-14)]
    [InlineData(1e-12, -7.034483825301132, 1e-14)]
    [InlineData(1e-20, -9.262340089798405, 1e-14)]
    [InlineData(1e-300, -37.0470962993612, 1e-12)]
    public void InverseCdf_KnownProbabilities_MatchPublishedValues(double p, double expected, double tolerance) =>
        Assert.InRange(StandardNormal.InverseCdf(p), expected - tolerance, expected + tolerance);

    [Fact]
    public void InverseCdf_Bounds_AreInfinite()
    {
        Assert.Equal(double.NegativeInfinity, StandardNormal.InverseCdf(0.0));
        Assert.Equal(double.PositiveInfinity, StandardNormal.InverseCdf(1.0));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0000001)]
    [InlineData(double.NaN)]
    public void InverseCdf_OutsideUnitInterval_Throws(double p) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardNormal.InverseCdf(p));

    [Fact]
    public void InverseCdf_MirroredProbabilities_AreSymmetric() =>
        Prop.ForAll(Gen.Choose(1, 999_999).ToArbitrary(), k =>
        {
            var p = k / 1_000_000.0;
            return Math.Abs(StandardNormal.InverseCdf(p) + StandardNormal.InverseCdf(1 - p)) <= 1e-9;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void InverseCdf_ThenIndependentCdf_ReturnsProbability()
    {
        // Φ from series and a continued fraction written here (no shared constants with AS 241).
        foreach (var p in (double[])[1e-15, 1e-9, 1e-6, 0.001, 0.0249, 0.07, 0.075, 0.2, 0.5, 0.61, 0.8, 0.925, 0.93, 0.99, 0.999999])
        {
            var z = StandardNormal.InverseCdf(p);
            var back = IndependentNormal.Cdf(z);
            Assert.True(Math.Abs(back - p) <= (1e-12 * p) + 1e-15, $"p = {p:R}: Φ(Φ⁻¹(p)) = {back:R}");
        }
    }

    [Fact]
    public void InverseCdf_Monotone_OverAGrid()
    {
        var previous = double.NegativeInfinity;
        for (var k = 1; k < 100_000; k++)
        {
            var z = StandardNormal.InverseCdf(k / 100_000.0);
            Assert.True(z > previous, $"not increasing at p = {k / 100_000.0}");
            previous = z;
        }
    }
}

/// <summary>Φ(x) = erfc(−x/√2)/2 from the all-positive erf series (|t| ≤ 3) and erfc's continued fraction (|t| &gt; 3).</summary>
internal static class IndependentNormal
{
    public static double Cdf(double x)
    {
        var t = Math.Abs(x) / Math.Sqrt(2);
        var upperTail = 0.5 * Erfc(t); // P(Z > |x|)
        return x < 0 ? upperTail : 1 - upperTail;
    }

    private static double Erfc(double t)
    {
        if (t <= 3)
        {
            // erf t = 2/√π · e^{−t²} · Σ_{n≥0} 2ⁿ t^{2n+1} / (1·3·…·(2n+1))
            double term = t, sum = t;
            for (var n = 1; n < 200; n++)
            {
                term *= 2 * t * t / ((2 * n) + 1);
                sum += term;
                if (term < sum * 1e-18)
                {
                    break;
                }
            }

            return 1 - (2 / Math.Sqrt(Math.PI) * Math.Exp(-t * t) * sum);
        }

        // erfc t = e^{−t²}/√π · 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + 2/(t + …))))), evaluated bottom-up.
        var fraction = t;
        for (var k = 400; k >= 1; k--)
        {
            fraction = t + (k / 2.0 / fraction);
        }

        return Math.Exp(-t * t) / Math.Sqrt(Math.PI) / fraction;
    }
}
