using FedAgg.Grains.Runtime;
using FedAgg.Grains.Tests.TestSupport;

namespace FedAgg.Grains.Tests.Runtime;

public sealed class ActivationTests
{
    [Fact(Timeout = TestTimeouts.Test)]
    public async Task GetGrain_ManyConcurrentFirstCalls_CreateExactlyOneActivation()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        var ids = await Task.WhenAll(Enumerable.Range(0, 100)
            .Select(_ => Task.Run(() => host.Grains.GetGrain<ILifecycleGrain>("single").InstanceId()))).WaitAsync(Probe.Timeout);

        Assert.Single(ids.Distinct());
        Assert.Equal(1, host.Probe.Count("activate:single"));
        Assert.Equal(1, host.Runtime.ActivationCount);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task GetGrain_NothingCalled_ActivatesNothing()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        var grain = host.Grains.GetGrain<ILifecycleGrain>("lazy");

        Assert.Equal("lazy", grain.GetPrimaryKeyString());
        Assert.Equal(0, host.Runtime.ActivationCount);
        Assert.Equal("lazy", await grain.Key());
        Assert.Equal(1, host.Runtime.ActivationCount);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Call_GrainThrowsSynchronously_CallerGetsTheSameException()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ILifecycleGrain>("thrower");

        var thrown = await Assert.ThrowsAsync<ArgumentException>(() => grain.Fail("bad argument"));

        Assert.Same(host.Probe.LastThrown, thrown);
        Assert.Equal("bad argument", thrown.Message);
        Assert.Equal(1, host.Probe.Count("activate:thrower"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Call_GrainThrowsAfterAwait_CallerGetsTheSameExceptionAndGrainStaysActive()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ILifecycleGrain>("async-thrower");
        var before = await grain.InstanceId();

        var thrown = await Assert.ThrowsAsync<FormatException>(() => grain.FailAfterAwait("bad format"));

        Assert.Same(host.Probe.LastThrown, thrown);
        Assert.Equal(before, await grain.InstanceId());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Call_OnActivateAsyncThrows_FailsTheCallAndDiscardsTheActivation()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ILifecycleGrain>("fail-once");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.InstanceId());
        Assert.Equal("activation of fail-once failed on purpose", thrown.Message);
        Assert.Equal(0, host.Probe.Count("deactivate:fail-once:ShuttingDown"));

        // The failed activation is gone: the next call activates afresh, and this time OnActivateAsync succeeds.
        await grain.InstanceId();
        Assert.Equal(2, host.Probe.Count("activate:fail-once"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Call_ActivationAlwaysFails_QueuedCallsAllFail()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ILifecycleGrain>("fail-always");

        var calls = Enumerable.Range(0, 5).Select(_ => grain.InstanceId()).ToArray();

        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => call);
        }

        Assert.Equal(0, host.Runtime.ActivationCount);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task CallThrough_ChainReturnsToFirstGrain_ThrowsDeadlockExceptionNamingTheChain()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var a = host.Grains.GetGrain<IChainGrain>("a");

        var thrown = await Assert.ThrowsAsync<DeadlockException>(() => a.CallThrough("b", interleaved: false).WaitAsync(Probe.Timeout));

        Assert.Equal([new GrainId("chain", "a"), new GrainId("chain", "b"), new GrainId("chain", "a")], thrown.CallChain);
        Assert.Contains("chain/a → chain/b → chain/a", thrown.Message, StringComparison.Ordinal);

        // Nothing is left stuck: both grains still answer.
        Assert.Equal("hello from a", await a.Hello());
        Assert.Equal("hello from b", await host.Grains.GetGrain<IChainGrain>("b").Hello());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task CallSelf_GrainCallsItself_ThrowsDeadlockException()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        var thrown = await Assert.ThrowsAsync<DeadlockException>(() => host.Grains.GetGrain<IChainGrain>("self").CallSelf().WaitAsync(Probe.Timeout));

        Assert.Equal([new GrainId("chain", "self"), new GrainId("chain", "self")], thrown.CallChain);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task CallSelf_ReentrantGrain_Succeeds()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        Assert.Equal("reentrant hello", await host.Grains.GetGrain<IReentrantGrain>("re").CallSelf().WaitAsync(Probe.Timeout));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task CallThrough_FinalCallAlwaysInterleaves_Succeeds()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        var result = await host.Grains.GetGrain<IChainGrain>("c").CallThrough("d", interleaved: true).WaitAsync(Probe.Timeout);

        Assert.Equal("interleaved hello from c", result);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task ReadThrough_ReadOnlyChainBackToReadOnlyCaller_Succeeds()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });

        var result = await host.Grains.GetGrain<IChainGrain>("r1").ReadThrough("r2").WaitAsync(Probe.Timeout);

        Assert.Equal("read hello from r1", result);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Call_GrainNeverAnswers_TimesOutAfterResponseTimeoutOnTheClock()
    {
        await using var host = await GrainTestHost.StartAsync(g => g.Configure<MessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)));
        var grain = host.Grains.GetGrain<ITurnGrain>("slow");

        var call = grain.HoldUntilGate("never");
        await host.Probe.WaitForAsync("hold-entered:slow");
        host.Clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(call.IsCompleted);
        host.Clock.Advance(TimeSpan.FromSeconds(0.1));

        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(Probe.Timeout));
        Assert.Contains("ITurnGrain.HoldUntilGate on turn/slow", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("MessagingOptions.ResponseTimeout", thrown.Message, StringComparison.Ordinal);
        host.Probe.OpenGate("never");
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task DeactivateOnIdle_AfterTheCall_DeactivatesAndNextCallReactivates()
    {
        await using var host = await GrainTestHost.StartAsync(_ => { });
        var grain = host.Grains.GetGrain<ILifecycleGrain>("bye");
        var first = await grain.InstanceId();

        await grain.DeactivateSelf();
        await host.Probe.WaitForAsync("deactivate:bye:ApplicationRequested");
        var second = await grain.InstanceId();

        Assert.NotEqual(first, second);
        Assert.Equal(2, host.Probe.Count("activate:bye"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Collector_ActivationIdleForCollectionAge_DeactivatesItAndNextCallReactivates()
    {
        await using var host = await GrainTestHost.StartAsync(g => g.Configure<GrainCollectionOptions>(o =>
        {
            o.CollectionAge = TimeSpan.FromMinutes(10);
            o.CollectionQuantum = TimeSpan.FromMinutes(1);
        }));
        var idle = host.Grains.GetGrain<ILifecycleGrain>("idle");
        var busy = host.Grains.GetGrain<ILifecycleGrain>("busy");
        var first = await idle.InstanceId();
        await busy.InstanceId();

        host.Clock.Advance(TimeSpan.FromMinutes(6));
        await busy.InstanceId();
        host.Clock.Advance(TimeSpan.FromMinutes(5));
        await host.Probe.WaitForAsync("deactivate:idle:ActivationIdle");

        Assert.Equal(0, host.Probe.Count("deactivate:busy:ActivationIdle"));
        Assert.NotEqual(first, await idle.InstanceId());
        Assert.Equal(2, host.Probe.Count("activate:idle"));
        Assert.Equal(1, host.Probe.Count("activate:busy"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task DelayDeactivation_LongerThanCollectionAge_KeepsTheActivation()
    {
        await using var host = await GrainTestHost.StartAsync(g => g.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(10)));
        var kept = host.Grains.GetGrain<ILifecycleGrain>("kept");
        var plain = host.Grains.GetGrain<ILifecycleGrain>("plain");
        var id = await kept.InstanceId();
        await plain.InstanceId();
        await kept.KeepAliveFor(TimeSpan.FromMinutes(30));

        host.Clock.Advance(TimeSpan.FromMinutes(20));
        await host.Probe.WaitForAsync("deactivate:plain:ActivationIdle");

        Assert.Equal(id, await kept.InstanceId());
        Assert.Equal(0, host.Probe.Count("deactivate:kept:ActivationIdle"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StopAsync_WithActivations_DeactivatesEveryOneAndRefusesLaterCalls()
    {
        var host = await GrainTestHost.StartAsync(_ => { });
        var grains = Enumerable.Range(0, 10).Select(i => host.Grains.GetGrain<ILifecycleGrain>($"stop-{i}")).ToArray();
        await Task.WhenAll(grains.Select(g => g.InstanceId()));

        await host.StopAsync();

        for (var i = 0; i < grains.Length; i++)
        {
            Assert.Equal(1, host.Probe.Count($"deactivate:stop-{i}:ShuttingDown"));
        }

        Assert.Equal(0, host.Runtime.ActivationCount);
        await Assert.ThrowsAsync<InvalidOperationException>(() => grains[0].InstanceId());
        await host.DisposeAsync();
    }
}
