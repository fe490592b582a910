using FedAgg.Grains.Tests.TestSupport;

namespace FedAgg.Grains.Tests.Runtime;

public sealed class TimerTests
{
    private static readonly TimeSpan Due = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task RegisterGrainTimer_ClockAdvances_TicksAtDueTimeThenEveryPeriod()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITimerGrain>("ticker");
        var start = host.Clock.GetUtcNow();
        await grain.StartTimer(Due, Period);

        host.Clock.Advance(Due - TimeSpan.FromTicks(1));
        Assert.Equal(0, await grain.Ticks());
        host.Clock.Advance(TimeSpan.FromTicks(1));
        await host.Probe.WaitForAsync("tick:ticker");

        for (var n = 2; n <= 4; n++)
        {
            // The next tick is armed once the previous callback has finished: period after that moment.
            var next = start + Due + (Period * (n - 1));
            await host.Clock.WaitForTimerAsync(next, Probe.Timeout);
            host.Clock.Advance(next - host.Clock.GetUtcNow());
            await host.Probe.WaitForAsync("tick:ticker", n);
        }

        Assert.Equal(4, await grain.Ticks());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task TimerTick_WhileACallIsRunning_WaitsForTheCallToFinish()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITimerGrain>("polite");
        await grain.StartTimer(Due, Period);

        var hold = grain.HoldUntilGate("polite");
        await host.Probe.WaitForAsync("hold-entered:polite");
        host.Clock.Advance(Due);

        // The tick is queued behind the running call (Advance fired it synchronously), so it has not run.
        Assert.Equal(0, host.Probe.Count("tick:polite"));
        host.Probe.OpenGate("polite");
        await hold.WaitAsync(Probe.Timeout);
        await host.Probe.WaitForAsync("tick:polite");

        Assert.Equal(0, await grain.TicksDuringCalls());
        Assert.Equal(1, await grain.Ticks());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Timer_Disposed_StopsTicking()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITimerGrain>("stopped");
        await grain.StartTimer(Due, Period);

        await grain.StopTimer();
        host.Clock.Advance(Period * 5);

        // Any tick would have been queued by Advance ahead of this call.
        Assert.Equal(0, await grain.Ticks());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Timer_ActivationDeactivates_StopsWithIt()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITimerGrain>("mortal");
        await grain.StartTimer(Due, Period);

        await grain.Deactivate();
        await host.Probe.WaitForAsync("timer-deactivated:mortal");
        host.Clock.Advance(Period * 5);

        // A fresh activation has no timer and never saw a tick.
        Assert.Equal(0, await grain.Ticks());
        Assert.Equal(0, host.Probe.Count("tick:mortal"));
    }
}
