using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Tests.Runner;

public class LoadSimulationTests
{
    [Fact]
    public void StartOf_InjectFiftyPerSecondForTwoSeconds_HundredStartsTwentyMillisecondsApart()
    {
        var inject = (InjectSimulation)LoadSimulation.Inject(50, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(100, inject.ExpectedCount);
        var starts = Starts(inject);
        Assert.Equal(100, starts.Count);
        for (var k = 0; k < starts.Count; k++)
        {
            Assert.Equal(TimeSpan.FromMilliseconds(20 * k), starts[k]);
        }
    }

    [Fact]
    public void StartOf_InjectPerInterval_SpreadsTheBatchOverTheInterval()
    {
        var inject = (InjectSimulation)LoadSimulation.Inject(10, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
        Assert.Equal(20, inject.FromRatePerSecond);
        Assert.Equal(60, Starts(inject).Count);
    }

    [Fact]
    public void StartOf_RampZeroToHundredOverTenSeconds_FiveHundredStartsWithTheRateRisingLinearly()
    {
        var ramp = (InjectSimulation)LoadSimulation.RampingInject(0, 100, TimeSpan.FromSeconds(10));
        var starts = Starts(ramp);
        Assert.Equal(500, ramp.ExpectedCount);
        Assert.Equal(500, starts.Count);
        Assert.True(starts.Zip(starts.Skip(1)).All(static p => p.Second > p.First), "starts must increase");

        // ∫ r = 100·t²/20: 5 by t = 1 s, 125 by 5 s; each one-second window holds r(mid) = 10·(s + 0.5) starts.
        Assert.Equal(125, starts.Count(static s => s < TimeSpan.FromSeconds(5)));
        for (var second = 0; second < 10; second++)
        {
            var inWindow = starts.Count(s => s >= TimeSpan.FromSeconds(second) && s < TimeSpan.FromSeconds(second + 1));
            Assert.InRange(inWindow, (10 * second) + 4, (10 * second) + 6);
        }
    }

    [Fact]
    public void StartOf_RampDown_StartsFastThenSlow()
    {
        var ramp = (InjectSimulation)LoadSimulation.RampingInject(100, 20, TimeSpan.FromSeconds(4));
        var starts = Starts(ramp);
        Assert.Equal(240, starts.Count);
        Assert.True(starts.Count(static s => s < TimeSpan.FromSeconds(2)) > starts.Count(static s => s >= TimeSpan.FromSeconds(2)));
    }

    [Theory]
    [InlineData("inject:50/s", 50.0, 50.0)]
    [InlineData("inject:3/ms", 3000.0, 3000.0)]
    [InlineData("inject:120/m", 2.0, 2.0)]
    [InlineData("ramp:0-100/s", 0.0, 100.0)]
    [InlineData("ramp:10.5-2/s", 10.5, 2.0)]
    public void Parse_InjectAndRamp_GivesRatesPerSecond(string text, double from, double to)
    {
        var simulation = Assert.IsType<InjectSimulation>(LoadSimulation.Parse(text, TimeSpan.FromSeconds(7)));
        Assert.Equal(from, simulation.FromRatePerSecond, 9);
        Assert.Equal(to, simulation.ToRatePerSecond, 9);
        Assert.Equal(TimeSpan.FromSeconds(7), simulation.During);
    }

    [Fact]
    public void Parse_Keep_GivesCopies()
    {
        var keep = Assert.IsType<KeepConstantSimulation>(LoadSimulation.Parse("keep:16", TimeSpan.FromSeconds(1)));
        Assert.Equal(16, keep.Copies);
    }

    [Theory]
    [InlineData("")]
    [InlineData("inject")]
    [InlineData("inject:50")]
    [InlineData("inject:0/s")]
    [InlineData("inject:-1/s")]
    [InlineData("inject:50/h")]
    [InlineData("ramp:100/s")]
    [InlineData("keep:0")]
    [InlineData("keep:x")]
    [InlineData("burst:5")]
    public void Parse_Invalid_ThrowsFormatExceptionNamingTheForms(string text)
    {
        var e = Assert.Throws<FormatException>(() => LoadSimulation.Parse(text, TimeSpan.FromSeconds(1)));
        Assert.Contains("inject:RATE/s", e.Message, StringComparison.Ordinal);
    }

    private static List<TimeSpan> Starts(InjectSimulation simulation)
    {
        var starts = new List<TimeSpan>();
        for (long k = 0; k < 10_000_000; k++)
        {
            var start = simulation.StartOf(k);
            if (start >= simulation.During)
            {
                break;
            }

            starts.Add(start);
        }

        return starts;
    }
}
