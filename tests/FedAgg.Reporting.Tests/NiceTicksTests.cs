namespace FedAgg.Reporting.Tests;

public sealed class NiceTicksTests
{
    public static TheoryData<double, double, int, double, double, double, double[]> Ranges() => new()
    {
        // min, max, max intervals → axis min, axis max, step, ticks
        { 0, 1, 5, 0, 1, 0.2, [0, 0.2, 0.4, 0.6, 0.8, 1] },
        { 3, 97, 5, 0, 100, 20, [0, 20, 40, 60, 80, 100] },
        { -1, 1, 5, -1, 1, 0.5, [-1, -0.5, 0, 0.5, 1] },
        { 0.0012, 0.0087, 5, 0, 0.01, 0.002, [0, 0.002, 0.004, 0.006, 0.008, 0.01] },
        { -37, -3, 5, -40, 0, 10, [-40, -30, -20, -10, 0] },
        { 0, 270_000, 5, 0, 300_000, 100_000, [0, 100_000, 200_000, 300_000] },
        { 0.61, 0.93, 8, 0.6, 0.95, 0.05, [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95] },
        { 12.5, 13.1, 5, 12.4, 13.2, 0.2, [12.4, 12.6, 12.8, 13, 13.2] },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Compute_Range_GivesOneTwoFiveTicks(double min, double max, int intervals, double axisMin, double axisMax, double step, double[] ticks)
    {
        var scale = NiceTicks.Compute(min, max, intervals);
        Assert.Equal(axisMin, scale.Min);
        Assert.Equal(axisMax, scale.Max);
        Assert.Equal(step, scale.Step);
        Assert.Equal(ticks, scale.Ticks);
    }

    [Fact]
    public void Compute_IntegerData_NeverStepsBelowOne()
    {
        Assert.Equal([1.0, 2, 3], NiceTicks.Compute(1, 3, 8, minimumStep: 1).Ticks);
        Assert.Equal([0.0, 2, 4, 6, 8, 10], NiceTicks.Compute(1, 10, 8, minimumStep: 1).Ticks);
    }

    [Fact]
    public void Compute_EqualBounds_WidensAroundTheValue()
    {
        var scale = NiceTicks.Compute(5, 5, 5);
        Assert.Equal([4.5, 5, 5.5], scale.Ticks);
        Assert.Equal([-1.0, -0.5, 0, 0.5, 1], NiceTicks.Compute(0, 0, 5).Ticks);
    }

    [Fact]
    public void Compute_NonFinite_FallsBackToUnitRange()
    {
        var scale = NiceTicks.Compute(double.NaN, double.PositiveInfinity, 5);
        Assert.Equal(0, scale.Min);
        Assert.Equal(1, scale.Max);
    }

    [Fact]
    public void Compute_FixedEnds_KeepThemAndTickInside()
    {
        var both = NiceTicks.Compute(0.05, 0.95, 5, fixedMin: true, fixedMax: true);
        Assert.Equal(0.05, both.Min);
        Assert.Equal(0.95, both.Max);
        Assert.Equal([0.2, 0.4, 0.6, 0.8], both.Ticks);

        var top = NiceTicks.Compute(0.35, 1, 5, fixedMax: true);
        Assert.Equal(0.2, top.Min);
        Assert.Equal(1, top.Max);
        Assert.Equal([0.2, 0.4, 0.6, 0.8, 1], top.Ticks);
    }

    [Fact]
    public void Compute_ManyRanges_TicksAreInsideEvenlySpacedAndFew()
    {
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var magnitude = random.Next(-6, 9);
            var a = (random.NextDouble() - 0.5) * Math.Pow(10, magnitude);
            var b = a + ((0.01 + random.NextDouble()) * Math.Pow(10, magnitude + random.Next(-5, 3)));
            var intervals = random.Next(2, 10);
            var scale = NiceTicks.Compute(a, b, intervals);
            var slack = scale.Step * 1e-6;
            Assert.True(scale.Min <= a + slack && scale.Max >= b - slack, $"[{a}, {b}] not inside [{scale.Min}, {scale.Max}]");
            Assert.InRange(scale.Ticks.Count, 2, intervals + 1);
            var mantissa = scale.Step / Math.Pow(10, Math.Floor(Math.Log10(scale.Step) + 1e-12));
            Assert.Contains(Math.Round(mantissa, 9), (double[])[1, 2, 5]);
            for (var t = 1; t < scale.Ticks.Count; t++)
            {
                Assert.Equal(scale.Step, scale.Ticks[t] - scale.Ticks[t - 1], scale.Step * 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(0, 1, 0.4, "0.4")]
    [InlineData(0, 0.01, 0.006, "0.006")]
    [InlineData(-1, 1, 0, "0")]
    [InlineData(0, 100, 60, "60")]
    [InlineData(0, 270_000, 200_000, "200k")]
    [InlineData(0, 270_000, 0, "0")]
    [InlineData(0, 3e7, 2e7, "20M")]
    public void Format_Tick_UsesStepDecimalsAndSuffixes(double min, double max, double value, string expected) =>
        Assert.Equal(expected, NiceTicks.Compute(min, max, 5).Format(value));
}
