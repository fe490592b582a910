using FedAgg.Grains.Tests.TestSupport;

namespace FedAgg.Grains.Tests.Runtime;

public sealed class TurnTests
{
    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Enter_ThousandConcurrentCallsFromManyTasks_NeverOverlapAndAllRun()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITurnGrain>("busy");

        // Hold the grain so that the thousand calls pile up, sent from many pool threads at once, then let them go.
        var hold = grain.HoldUntilGate("busy");
        await host.Probe.WaitForAsync("hold-entered:busy");
        var calls = new Task[1000];
        await Task.WhenAll(Enumerable.Range(0, calls.Length).Select(i => Task.Run(() => { calls[i] = grain.Enter(i); }))).WaitAsync(Probe.Timeout);
        host.Probe.OpenGate("busy");
        await Task.WhenAll(calls.Append(hold)).WaitAsync(Probe.Timeout);

        Assert.Equal(0, await grain.Overlaps());
        var log = await grain.Log();
        Assert.Equal(Enumerable.Range(0, 1000), log.Order());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Enter_CallsIssuedSequentiallyWithoutAwaiting_RunInArrivalOrder()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITurnGrain>("ordered");

        var calls = new Task[200];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = grain.Enter(i);
        }

        await Task.WhenAll(calls).WaitAsync(Probe.Timeout);

        Assert.Equal(Enumerable.Range(0, 200), await grain.Log());
        Assert.Equal(0, await grain.Overlaps());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task ReadOnly_TwoCallsNeedingEachOtherInside_RunConcurrently()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITurnGrain>("readers");

        // The barrier only opens when both read-only calls are inside the grain at the same time.
        await Task.WhenAll(grain.ReadAtBarrier("both", 2), grain.ReadAtBarrier("both", 2)).WaitAsync(Probe.Timeout);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Write_QueuedWhileReadOnlyCallsAreInside_StartsOnlyAfterTheyLeave()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITurnGrain>("rw");

        var reads = new[] { grain.ReadUntilGate("readers"), grain.ReadUntilGate("readers") };
        await host.Probe.WaitForAsync("read-entered:rw", 2);
        var write = grain.Write();
        var lateRead = grain.ReadUntilGate("late");

        // An always-interleave call still gets in, which also shows the write has had every chance to start.
        Assert.Equal("peek", await grain.Peek().WaitAsync(Probe.Timeout));
        Assert.Equal(0, host.Probe.Count("write-entered:rw"));
        Assert.False(write.IsCompleted);

        host.Probe.OpenGate("readers");
        Assert.Equal(0, await write.WaitAsync(Probe.Timeout));
        await Task.WhenAll(reads).WaitAsync(Probe.Timeout);

        // The read that arrived after the write waited behind it (arrival order), then ran.
        await host.Probe.WaitForAsync("read-entered:rw", 3);
        host.Probe.OpenGate("late");
        await lateRead.WaitAsync(Probe.Timeout);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task AlwaysInterleave_WhileAnExclusiveCallIsStuck_RunsAtOnce()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ITurnGrain>("stuck");

        var hold = grain.HoldUntilGate("stuck");
        await host.Probe.WaitForAsync("hold-entered:stuck");
        var write = grain.Write();

        Assert.Equal("peek", await grain.Peek().WaitAsync(Probe.Timeout));
        Assert.False(write.IsCompleted);

        host.Probe.OpenGate("stuck");
        await Task.WhenAll(hold, write).WaitAsync(Probe.Timeout);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task WriteAtBarrier_DifferentKeys_RunInParallel()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        // Each call is exclusive on its own grain; the barrier needs both inside at once.
        var a = host.Grains.GetGrain<ITurnGrain>("parallel-a").WriteAtBarrier("keys", 2);
        var b = host.Grains.GetGrain<ITurnGrain>("parallel-b").WriteAtBarrier("keys", 2);

        await Task.WhenAll(a, b).WaitAsync(Probe.Timeout);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task ValueTaskAndGenericMethods_ThroughTheProxy_ReturnResults()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<IValueTaskGrain>("vt");

        await grain.Nothing();
        Assert.Equal(42, await grain.Twice(21));
        Assert.Equal("text", await grain.Echo("text"));
        Assert.Equal(7L, await grain.Echo(7L));
    }
}
