using System.Text.Json;
using FedAgg.Grains.Hosting;
using FedAgg.Grains.Reminders;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using FedAgg.Grains.Tests.TestSupport;
using FedAgg.TestKit.Time;
using Microsoft.Extensions.DependencyInjection;

namespace FedAgg.Grains.Tests.Storage;

/// <summary>
/// The storage, ETag and reminder contract every provider must meet; each provider runs it through a subclass that
/// says how to point a host at a fresh database and how to read a stored payload back raw.
/// </summary>
public abstract class StorageProviderTests : IAsyncLifetime
{
    private static readonly GrainId Grain = new("counter", "k");

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task ReadStateAsync_NothingStored_ReturnsEmptyStateWithNullEtag()
    {
        await using var host = await StartHostAsync();
        var storage = Storage(host);
        var state = new GrainState<CounterState>(new CounterState { Value = 99 }, "7");

        await storage.ReadStateAsync("counter", Grain, state);

        Assert.Equal(0, state.State.Value);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task WriteStateAsync_FirstAndSecondWrite_EtagsOneThenTwoAndStoredAsCamelCaseJson()
    {
        await using var host = await StartHostAsync();
        var storage = Storage(host);
        var state = new GrainState<CounterState>();
        state.State.Value = 5;
        state.State.LastWriter = "w";

        await storage.WriteStateAsync("counter", Grain, state);
        Assert.Equal("1", state.ETag);
        Assert.True(state.RecordExists);
        state.State.Value = 6;
        await storage.WriteStateAsync("counter", Grain, state);
        Assert.Equal("2", state.ETag);

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.Equal(6, read.State.Value);
        Assert.Equal("w", read.State.LastWriter);
        Assert.Equal("2", read.ETag);
        Assert.True(read.RecordExists);
        var raw = await ReadRawPayloadAsync(Grain, "counter");
        using var json = JsonDocument.Parse(raw!);
        Assert.Equal(6, json.RootElement.GetProperty("value").GetInt32());
        Assert.Equal("w", json.RootElement.GetProperty("lastWriter").GetString());
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task WriteStateAsync_StaleEtag_ThrowsWithBothEtagsAndDoesNotOverwrite()
    {
        await using var host = await StartHostAsync();
        var storage = Storage(host);
        var first = new GrainState<CounterState>();
        await storage.WriteStateAsync("counter", Grain, first);
        var stale = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, stale);
        first.State.Value = 1;
        await storage.WriteStateAsync("counter", Grain, first);

        stale.State.Value = 100;
        var thrown = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Grain, stale));

        Assert.Equal("1", thrown.CurrentEtag);
        Assert.Equal("2", thrown.StoredEtag);
        Assert.Contains("expected ETag 1 but storage holds 2", thrown.Message, StringComparison.Ordinal);
        Assert.Equal("1", stale.ETag);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.Equal(1, read.State.Value);
        Assert.Equal("2", read.ETag);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task WriteStateAsync_TwoWritersWithTheSameEtagAtOnce_ExactlyOneSucceedsEveryRound()
    {
        await using var host = await StartHostAsync();
        var storage = Storage(host);
        for (var round = 0; round < 25; round++)
        {
            // Both read the same version (in round 0: no row, so both race to insert).
            var a = new GrainState<CounterState>();
            var b = new GrainState<CounterState>();
            await storage.ReadStateAsync("counter", Grain, a);
            await storage.ReadStateAsync("counter", Grain, b);
            Assert.Equal(a.ETag, b.ETag);
            a.State.LastWriter = "a";
            b.State.LastWriter = "b";
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var writes = new[] { a, b }.Select(s => Task.Run(async () =>
            {
                await go.Task;
                try
                {
                    await storage.WriteStateAsync("counter", Grain, s);
                    return (Won: true, s.State.LastWriter);
                }
                catch (InconsistentStateException)
                {
                    return (Won: false, s.State.LastWriter);
                }
            })).ToArray();
            go.SetResult();
            var results = await Task.WhenAll(writes).WaitAsync(Probe.Timeout);

            var winner = Assert.Single(results, r => r.Won);
            var read = new GrainState<CounterState>();
            await storage.ReadStateAsync("counter", Grain, read);
            Assert.Equal(winner.LastWriter, read.State.LastWriter);
            Assert.Equal((round + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), read.ETag);
        }
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task ClearStateAsync_ThenWriterWithOldEtag_ConflictsBecauseVersionsNeverGoBack()
    {
        await using var host = await StartHostAsync();
        var storage = Storage(host);
        var owner = new GrainState<CounterState>();
        owner.State.Value = 3;
        await storage.WriteStateAsync("counter", Grain, owner);
        var old = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, old);

        await storage.ClearStateAsync("counter", Grain, owner);
        Assert.Equal("2", owner.ETag);
        Assert.False(owner.RecordExists);
        Assert.Equal(0, owner.State.Value);

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal("2", read.ETag);
        Assert.Null(await ReadRawPayloadAsync(Grain, "counter"));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Grain, old));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", Grain, old));
        var never = new GrainState<CounterState>();
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Grain, never));

        read.State.Value = 4;
        await storage.WriteStateAsync("counter", Grain, read);
        Assert.Equal("3", read.ETag);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task PersistentState_HostRestartedOnTheSameDatabase_StateIsReadBack()
    {
        await using (var first = await StartHostAsync())
        {
            var grain = first.Grains.GetGrain<ICounterGrain>("restart");
            Assert.Equal(1, await grain.Increment("first"));
            Assert.Equal(2, await grain.Increment("first"));
        }

        await using var second = await StartHostAsync();
        var again = second.Grains.GetGrain<ICounterGrain>("restart");

        Assert.Equal(2, await again.Get());
        Assert.Equal("2", await again.Etag());
        Assert.Equal(1, second.Probe.Count("counter-activate:restart:2"));
        Assert.Equal(3, await again.Increment("second"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Increment_TwoHostsActivateTheSameGrain_StaleOneGetsInconsistentStateExceptionThenReloads()
    {
        await using var one = await StartHostAsync();
        await using var two = await StartHostAsync();
        var onOne = one.Grains.GetGrain<ICounterGrain>("shared");
        var onTwo = two.Grains.GetGrain<ICounterGrain>("shared");
        Assert.Equal(1, await onOne.Increment("one"));
        Assert.Equal(1, await onTwo.Get());

        Assert.Equal(2, await onOne.Increment("one"));
        var thrown = await Assert.ThrowsAsync<InconsistentStateException>(() => onTwo.Increment("two"));

        Assert.Equal("1", thrown.CurrentEtag);
        Assert.Equal("2", thrown.StoredEtag);

        // As Orleans: the activation that lost the race is deactivated, so the next call reloads the state.
        await two.Probe.WaitForAsync("counter-deactivate:shared:ApplicationError");
        Assert.Equal(3, await onTwo.Increment("two"));
        Assert.Equal(1, two.Probe.Count("counter-activate:shared:2"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Collector_IdleStatefulGrain_DeactivatesAndReactivationReloadsState()
    {
        await using var host = await StartHostAsync(g => g.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(2)));
        var grain = host.Grains.GetGrain<ICounterGrain>("idle");
        Assert.Equal(1, await grain.Increment("grain"));

        host.Clock.Advance(TimeSpan.FromMinutes(3));
        await host.Probe.WaitForAsync("counter-deactivate:idle:ActivationIdle");

        // Change the stored state behind the grain's back: the next activation must read it, not remember the old one.
        var storage = Storage(host);
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", new GrainId("counter", "idle"), state);
        state.State.Value = 41;
        await storage.WriteStateAsync("counter", new GrainId("counter", "idle"), state);

        Assert.Equal(41, await grain.Get());
        Assert.Equal(42, await grain.Increment("grain"));
        Assert.Equal(1, host.Probe.Count("counter-activate:idle:41"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task RegisterOrUpdateReminder_ClockAdvances_TicksWithItsScheduleAndActivatesTheGrain()
    {
        await using var host = await StartHostAsync();
        var grain = host.Grains.GetGrain<IReminderGrain>("r");
        var start = host.Clock.GetUtcNow();
        await grain.Register("tick", TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        Assert.True(await grain.Has("tick"));
        await grain.DeactivateAndWait(host);

        host.Clock.Advance(TimeSpan.FromSeconds(30));
        await host.Probe.WaitForAsync("reminder:r:tick");
        Assert.Equal(2, host.Probe.Count("reminder-activate:r"));
        var second = start + TimeSpan.FromSeconds(90);
        await host.Clock.WaitForTimerAsync(second, Probe.Timeout);
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.Probe.WaitForAsync("reminder:r:tick", 2);

        var ticks = host.Probe.Items.OfType<(string Key, string Name, TickStatus Status)>().Where(t => t.Key == "r").ToArray();
        Assert.Equal(2, ticks.Length);
        Assert.All(ticks, t => Assert.Equal(start + TimeSpan.FromSeconds(30), t.Status.FirstTickTime));
        Assert.All(ticks, t => Assert.Equal(TimeSpan.FromMinutes(1), t.Status.Period));
        Assert.Equal([start + TimeSpan.FromSeconds(30), second], ticks.Select(t => t.Status.CurrentTickTime));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task Reminder_HostRestartedAfterATickWasMissed_NewHostFiresItOnceAndActivatesTheGrain()
    {
        var clock = new ManualTimeProvider();
        var start = clock.GetUtcNow();
        await using (var first = await StartHostAsync(clock: clock))
        {
            await first.Grains.GetGrain<IReminderGrain>("durable").Register("wake", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        }

        // Down for 25 s: the ticks at 10 s and 20 s were missed; the new host delivers the latest one at once.
        clock.Advance(TimeSpan.FromSeconds(25));
        await using var second = await StartHostAsync(clock: clock);
        await second.Probe.WaitForAsync($"reminder:durable:wake:{start + TimeSpan.FromSeconds(20):O}");
        Assert.Equal(1, second.Probe.Count("reminder-activate:durable"));

        await second.Clock.WaitForTimerAsync(start + TimeSpan.FromSeconds(30), Probe.Timeout);
        clock.Advance(TimeSpan.FromSeconds(5));
        await second.Probe.WaitForAsync($"reminder:durable:wake:{start + TimeSpan.FromSeconds(30):O}");
        Assert.Equal(2, second.Probe.Count("reminder:durable:wake"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task UnregisterReminder_AfterATick_NoMoreTicksAndNoStoredRow()
    {
        await using var host = await StartHostAsync();
        var grain = host.Grains.GetGrain<IReminderGrain>("quiet");
        await grain.Register("once", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        host.Clock.Advance(TimeSpan.FromSeconds(5));
        await host.Probe.WaitForAsync("reminder:quiet:once");

        await grain.Unregister("once");
        host.Clock.Advance(TimeSpan.FromMinutes(5));

        // A tick fired by Advance would be queued ahead of this call.
        await grain.Ping();
        Assert.Equal(1, host.Probe.Count("reminder:quiet:once"));
        Assert.False(await grain.Has("once"));
        Assert.Equal(0, host.Runtime.Reminders!.LocalCount);

        await using var restarted = await StartHostAsync(clock: new ManualTimeProvider(host.Clock.GetUtcNow() + TimeSpan.FromHours(1)));
        await restarted.Grains.GetGrain<IReminderGrain>("quiet").Ping();
        Assert.Equal(0, restarted.Probe.Count("reminder:quiet:once"));
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task RegisterOrUpdateReminder_PeriodBelowMinimum_ThrowsNamingTheOption()
    {
        await using var host = await StartHostAsync(g => g.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1)));
        var grain = host.Grains.GetGrain<IReminderGrain>("fast");

        var thrown = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => grain.Register("x", TimeSpan.Zero, TimeSpan.FromMilliseconds(999)));

        Assert.Contains("ReminderOptions.MinimumReminderPeriod", thrown.Message, StringComparison.Ordinal);
        Assert.False(await grain.Has("x"));
    }

    protected abstract void AddStorage(GrainsBuilder grains);

    protected abstract Task<string?> ReadRawPayloadAsync(GrainId grainId, string stateName);

    protected Task<GrainTestHost> StartHostAsync(Action<GrainsBuilder>? configure = null, ManualTimeProvider? clock = null)
        => GrainTestHost.StartAsync(
            grains =>
            {
                TestGrains.AddStateful(grains);
                AddStorage(grains);
                configure?.Invoke(grains);
            },
            clock);

    private static IGrainStorage Storage(GrainTestHost host) => host.Services.GetRequiredKeyedService<IGrainStorage>("Default");
}

internal static class ReminderGrainTestExtensions
{
    /// <summary>Deactivates the grain and waits until it is gone (so the next tick has to activate it).</summary>
    public static async Task DeactivateAndWait(this IReminderGrain grain, GrainTestHost host)
    {
        var id = grain.GetGrainId();
        var activation = host.Runtime.FindActivation(id) ?? throw new InvalidOperationException($"{id} is not active");
        activation.RequestDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test"));
        await activation.Deactivated.WaitAsync(Probe.Timeout);
    }
}
