using System.Diagnostics;
using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Tests.Runner;

public class ScenarioRunnerTests
{
    [Fact]
    public async Task RunAsync_Inject200PerSecondForOneSecond_StartsExactly200AtThatRate()
    {
        var started = new List<long>();
        var clock = Stopwatch.StartNew();
        var scenario = new Scenario("s", new Step("tick", _ =>
        {
            lock (started)
            {
                started.Add(clock.ElapsedTicks);
            }

            return ValueTask.FromResult(StepResult.Ok(10, 20));
        }))
        {
            LoadSimulations = [LoadSimulation.Inject(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))],
        };

        var result = await new ScenarioRunner().RunAsync([scenario]);

        var step = result.Scenario("s").Step("tick");
        Assert.Equal(200, step.Ok);
        Assert.Equal(0, step.Failed);
        Assert.Equal(200, result.Scenario("s").Iterations);
        Assert.Equal(2000, step.BytesSent);
        Assert.Equal(4000, step.BytesReceived);
        var span = TimeSpan.FromTicks((long)((started.Max() - started.Min()) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        Assert.InRange(span, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task RunAsync_KeepFourCopies_NeverMoreThanFourInFlightAndEachCopyBackToBack()
    {
        var inFlight = 0;
        var maxInFlight = 0;
        var copies = new HashSet<int>();
        var scenario = new Scenario("k", new Step("work", async context =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (copies)
            {
                maxInFlight = Math.Max(maxInFlight, now);
                copies.Add(context.CopyIndex);
            }

            await Task.Yield();
            await Task.Delay(5, context.CancellationToken);
            Interlocked.Decrement(ref inFlight);
            return StepResult.Ok();
        }))
        {
            LoadSimulations = [LoadSimulation.KeepConstant(4, TimeSpan.FromSeconds(2))], // long enough for 8 rounds of 5 ms even on a loaded machine
        };

        var result = await new ScenarioRunner().RunAsync([scenario]);

        Assert.Equal(4, maxInFlight);
        Assert.Equal([0, 1, 2, 3], copies.Order());
        var ok = result.Scenario("k").Step("work").Ok;
        Assert.InRange(ok, 8, 4 * 400);
        Assert.Equal(0, result.Scenario("k").Step("work").Failed);
    }

    [Fact]
    public async Task RunAsync_MaxIterations_StopsAtTheLimit()
    {
        var scenario = new Scenario("m", new Step("s", static _ => ValueTask.FromResult(StepResult.Ok())))
        {
            LoadSimulations = [LoadSimulation.KeepConstant(3, TimeSpan.FromSeconds(30))],
            MaxIterations = 1000,
        };

        var result = await new ScenarioRunner().RunAsync([scenario]).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1000, result.Scenario("m").Step("s").Ok);
        Assert.True(result.Scenario("m").Measured < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task RunAsync_InjectBeyondMaxInFlight_FailsTheExcessAsOverloaded()
    {
        using var release = new SemaphoreSlim(0);
        var scenario = new Scenario("o", new Step("hold", async context =>
        {
            await release.WaitAsync(context.CancellationToken);
            return StepResult.Ok();
        }))
        {
            LoadSimulations = [LoadSimulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500))],
            MaxInFlight = 5,
        };

        // The held iterations are released only once the injection is over, so exactly 5 ever run.
        var result = await new ScenarioRunner(new ScenarioRunnerOptions
        {
            ReportInterval = TimeSpan.FromMilliseconds(50),
            OnInterval = elapsed =>
            {
                if (elapsed >= TimeSpan.FromMilliseconds(600))
                {
                    release.Release(5);
                }
            },
        }).RunAsync([scenario]).WaitAsync(TimeSpan.FromSeconds(30));

        var step = result.Scenario("o").Step("hold");
        Assert.Equal(5, step.Ok);
        Assert.Equal(45, step.Failed);
        Assert.Equal(new KeyValuePair<string, long>("overloaded", 45), Assert.Single(step.FailuresByReason));
        Assert.Equal(5, result.Scenario("o").Iterations);
    }

    [Fact]
    public async Task RunAsync_LateStarts_CountFromTheScheduledStart()
    {
        // Iteration 0 stalls the scheduler for 200 ms (a synchronous step): iterations scheduled meanwhile start late, and
        // a coordinated-omission-aware runner charges that delay to them.
        var scenario = new Scenario("co", new Step("s", context =>
        {
            if (context.InvocationNumber == 0)
            {
                var stall = Stopwatch.StartNew();
                while (stall.ElapsedMilliseconds < 200)
                {
                    Thread.SpinWait(1000);
                }
            }

            return ValueTask.FromResult(StepResult.Ok());
        }))
        {
            LoadSimulations = [LoadSimulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500))],
        };

        var result = await new ScenarioRunner().RunAsync([scenario]);

        var step = result.Scenario("co").Step("s");
        Assert.Equal(50, step.Ok);

        // Iterations 0..10 (scheduled at 0..100 ms, started at ≥ 200 ms) all took ≥ 100 ms: the top 11 of 50.
        Assert.True(step.Latency.Percentile(80) >= 100_000, $"p80 {step.Latency.Percentile(80)} µs: late starts were not charged");
    }

    [Fact]
    public async Task RunAsync_FailingAndThrowingSteps_CountFailuresByReasonAndEndTheIteration()
    {
        var second = 0;
        var scenario = new Scenario("f",
            new Step("first", static context => ValueTask.FromResult((context.InvocationNumber % 4) switch
            {
                0 => StepResult.Fail("status:RoundNotOpen"),
                1 => throw new InvalidOperationException("boom"),
                2 => StepResult.Fail("timeout"),
                _ => StepResult.Ok(),
            })),
            new Step("second", _ =>
            {
                Interlocked.Increment(ref second);
                return ValueTask.FromResult(StepResult.Ok());
            }))
        {
            LoadSimulations = [LoadSimulation.KeepConstant(1, TimeSpan.FromSeconds(30))],
            MaxIterations = 400,
        };

        using var errors = new StringWriter();
        var result = await new ScenarioRunner(new ScenarioRunnerOptions { Errors = errors }).RunAsync([scenario]);

        var first = result.Scenario("f").Step("first");
        Assert.Equal(100, first.Ok);
        Assert.Equal(300, first.Failed);
        Assert.Equal(
            [new("exception:InvalidOperationException", 100L), new("status:RoundNotOpen", 100L), new("timeout", 100L)],
            first.FailuresByReason);
        Assert.Equal(100, second);
        Assert.Equal(100, result.Scenario("f").Step("second").Ok);
        Assert.Contains("f/first: InvalidOperationException: boom", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal(20, errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task RunAsync_WarmUp_DiscardsWarmUpIterations()
    {
        var warm = 0;
        var scenario = new Scenario("w", new Step("s", context =>
        {
            if (context.IsWarmUp)
            {
                Interlocked.Increment(ref warm);
            }

            return ValueTask.FromResult(StepResult.Ok());
        }))
        {
            LoadSimulations = [LoadSimulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(300))],
            WarmUp = TimeSpan.FromMilliseconds(200),
        };

        var result = await new ScenarioRunner().RunAsync([scenario]);

        Assert.Equal(20, warm);
        Assert.Equal(30, result.Scenario("w").Step("s").Ok);
    }

    [Fact]
    public async Task RunAsync_StepOutlivesGrace_IsCancelled()
    {
        var scenario = new Scenario("g", new Step("stuck", static async context =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return StepResult.Ok();
        }))
        {
            LoadSimulations = [LoadSimulation.Inject(10, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200))],
            GracePeriod = TimeSpan.FromMilliseconds(100),
        };

        var result = await new ScenarioRunner().RunAsync([scenario]).WaitAsync(TimeSpan.FromSeconds(20));

        var step = result.Scenario("g").Step("stuck");
        Assert.Equal(2, step.Failed);
        Assert.Equal("cancelled", Assert.Single(step.FailuresByReason).Key);
    }

    [Fact]
    public async Task RunAsync_Intervals_ClosedEverySecondWithLiveLines()
    {
        var scenario = new Scenario("i", new Step("s", static _ => ValueTask.FromResult(StepResult.Ok())))
        {
            LoadSimulations = [LoadSimulation.Inject(50, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1100))],
        };
        using var live = new StringWriter();
        var ticks = 0;

        var result = await new ScenarioRunner(new ScenarioRunnerOptions
        {
            ReportInterval = TimeSpan.FromMilliseconds(250),
            Live = live,
            OnInterval = _ => Interlocked.Increment(ref ticks),
        }).RunAsync([scenario]);

        var intervals = result.Scenario("i").Intervals;
        Assert.True(intervals.Count >= 4, $"{intervals.Count} intervals");
        Assert.Equal(55, intervals.Sum(static i => i.Ok));
        Assert.True(ticks >= 4);
        Assert.Contains("i/s: ok ", live.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StepStats_ManyDistinctReasons_KeepsAtMost64AndCountsTheRestAsOther()
    {
        var stats = new StepStats("s", "t");
        for (var i = 0; i < 100; i++)
        {
            stats.Record(StepResult.Fail($"reason-{i}"), TimeSpan.Zero);
        }

        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(3));
        var summary = stats.Summarize(TimeSpan.FromSeconds(2));
        Assert.Equal(StepStats.MaxReasons + 1, summary.FailuresByReason.Count);
        Assert.Equal(100 - StepStats.MaxReasons, summary.FailuresByReason.Single(static f => f.Key == "other").Value);
        Assert.Equal(100, summary.Failed);
        Assert.Equal(1, summary.Ok);
        Assert.Equal(0.5, summary.OkPerSecond);
        Assert.Equal(3.0, summary.PercentileMs(50), 1);
    }

    [Fact]
    public void StepStats_ManyIntervals_CompactsToBoundedCountKeepingTotals()
    {
        var stats = new StepStats("s", "t");
        for (var i = 1; i <= StepStats.MaxIntervals + 10; i++)
        {
            stats.Record(StepResult.Ok(1, 2), TimeSpan.FromMilliseconds(1));
            stats.CloseInterval(TimeSpan.FromSeconds(i), TimeSpan.FromSeconds(1));
        }

        var intervals = stats.Intervals();
        Assert.True(intervals.Count <= StepStats.MaxIntervals);
        Assert.Equal(StepStats.MaxIntervals + 10, intervals.Sum(static i => i.Ok));
        Assert.Equal(TimeSpan.FromSeconds(StepStats.MaxIntervals + 10), intervals.Aggregate(TimeSpan.Zero, static (a, i) => a + i.Length));
    }
}
