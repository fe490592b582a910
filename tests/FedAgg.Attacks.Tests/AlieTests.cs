namespace FedAgg.Attacks.Tests;

public sealed class AlieTests
{
    [Theory]
    // s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n); Φ⁻¹ values from CPython's statistics.NormalDist().inv_cdf.
    // n=10, f=2: s = ⌊6⌋ − 2 = 4, (10 − 4)/10 = 0.6, Φ⁻¹(0.6) = 0.2533471031357998
    [InlineData(10, 2, 4, 0.2533471031357998)]
    // n=50, f=12: s = ⌊26⌋ − 12 = 14, (50 − 14)/50 = 0.72, Φ⁻¹(0.72) = 0.5828415072712162
    [InlineData(50, 12, 14, 0.5828415072712162)]
    // n=50, f=24: s = 26 − 24 = 2, 48/50 = 0.96, Φ⁻¹(0.96) = 1.7506860712521695
    [InlineData(50, 24, 2, 1.7506860712521695)]
    // n=11, f=2: s = ⌊6.5⌋ − 2 = 4, 7/11 = 0.636…, Φ⁻¹(7/11) = 0.3487556955170447
    [InlineData(11, 2, 4, 0.3487556955170447)]
    // n=100, f=30: s = 51 − 30 = 21, 79/100 = 0.79, Φ⁻¹(0.79) = 0.8064212470182404
    [InlineData(100, 30, 21, 0.8064212470182404)]
    // n=7, f=2: s = ⌊4.5⌋ − 2 = 2, 5/7 = 0.714…, Φ⁻¹(5/7) = 0.5659488219328631
    [InlineData(7, 2, 2, 0.5659488219328631)]
    // n=10, f=1: s = 6 − 1 = 5, 5/10 = 0.5, Φ⁻¹(0.5) = 0 (one attacker cannot shift the median side)
    [InlineData(10, 1, 5, 0.0)]
    public void ZMax_PaperFormula_MatchesHandComputation(int n, int f, int supporters, double z)
    {
        Assert.Equal(supporters, Alie.Supporters(n, f));
        Assert.InRange(Alie.ZMax(n, f), z - 1e-14, z + 1e-14);
    }

    [Theory]
    [InlineData(10, 6)] // s = 0: every value would need infinite z
    [InlineData(10, 7)] // s < 0
    [InlineData(2, 0)] // s = 2 = n: Φ⁻¹(0)
    [InlineData(10, 10)] // f ≥ n
    [InlineData(0, 0)]
    [InlineData(10, -1)]
    public void ZMax_OutsideFormulaDomain_Throws(int n, int f) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Alie.ZMax(n, f));
}
