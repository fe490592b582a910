using FedAgg.Grains.Hosting;
using FedAgg.Grains.Reminders;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;

namespace FedAgg.Grains.Tests.TestSupport;

public static class TestGrains
{
    /// <summary>The grains without persistent state (usable in any host).</summary>
    public static void AddAll(GrainsBuilder grains)
    {
        grains.AddGrain<ITurnGrain, TurnGrain>();
        grains.AddGrain<ILifecycleGrain, LifecycleGrain>();
        grains.AddGrain<IChainGrain, ChainGrain>();
        grains.AddGrain<ITimerGrain, TimerGrain>();
        grains.AddGrain<IValueTaskGrain, ValueTaskGrain>();
        grains.AddGrain<IReentrantGrain, ReentrantGrain>();
    }

    /// <summary>The grains with state in storage "Default" and reminders (need a storage and a reminder table).</summary>
    public static void AddStateful(GrainsBuilder grains)
    {
        grains.AddGrain<ICounterGrain, CounterGrain>();
        grains.AddGrain<IReminderGrain, ReminderGrain>();
    }
}

public interface ITurnGrain : IGrainWithStringKey
{
    /// <summary>An exclusive call that yields a few times inside, counting overlapping entries.</summary>
    Task Enter(int value);

    [ReadOnly]
    Task<int> Overlaps();

    [ReadOnly]
    Task<IReadOnlyList<int>> Log();

    /// <summary>Read-only: records entry, then waits at barrier <paramref name="barrier"/> for <paramref name="participants"/> callers.</summary>
    [ReadOnly]
    Task ReadAtBarrier(string barrier, int participants);

    /// <summary>Read-only: records entry, then waits for gate <paramref name="gate"/>.</summary>
    [ReadOnly]
    Task ReadUntilGate(string gate);

    /// <summary>Exclusive: returns how many read-only calls were inside when it started.</summary>
    Task<int> Write();

    /// <summary>Exclusive: waits at a barrier (used to prove different grains run in parallel).</summary>
    Task WriteAtBarrier(string barrier, int participants);

    /// <summary>Exclusive: records entry, then waits for gate <paramref name="gate"/> (counts as being inside, like Enter).</summary>
    Task HoldUntilGate(string gate);

    [AlwaysInterleave]
    Task<string> Peek();
}

public sealed class TurnGrain(Probe probe) : Grain, ITurnGrain
{
    private readonly List<int> _log = [];
    private int _inside;
    private int _overlaps;
    private int _readers;

    public async Task Enter(int value)
    {
        if (Interlocked.Increment(ref _inside) > 1)
        {
            _overlaps++;
        }

        _log.Add(value);

        // Leave the grain's scheduler and come back twice: plenty of room for a wrongly admitted call to get in.
        await Task.Yield();
        await Task.Run(static () => { });
        await Task.Yield();
        Interlocked.Decrement(ref _inside);
    }

    public Task<int> Overlaps() => Task.FromResult(_overlaps);

    public Task<IReadOnlyList<int>> Log() => Task.FromResult<IReadOnlyList<int>>([.. _log]);

    public async Task ReadAtBarrier(string barrier, int participants)
    {
        Interlocked.Increment(ref _readers);
        probe.Record($"read-entered:{this.GetPrimaryKeyString()}");
        try
        {
            await probe.SignalAndWaitAsync(barrier, participants);
        }
        finally
        {
            Interlocked.Decrement(ref _readers);
        }
    }

    public async Task ReadUntilGate(string gate)
    {
        Interlocked.Increment(ref _readers);
        probe.Record($"read-entered:{this.GetPrimaryKeyString()}");
        try
        {
            await probe.WaitGateAsync(gate);
        }
        finally
        {
            Interlocked.Decrement(ref _readers);
        }
    }

    public Task<int> Write()
    {
        probe.Record($"write-entered:{this.GetPrimaryKeyString()}");
        return Task.FromResult(Volatile.Read(ref _readers));
    }

    public Task WriteAtBarrier(string barrier, int participants) => probe.SignalAndWaitAsync(barrier, participants);

    public async Task HoldUntilGate(string gate)
    {
        if (Interlocked.Increment(ref _inside) > 1)
        {
            _overlaps++;
        }

        probe.Record($"hold-entered:{this.GetPrimaryKeyString()}");
        await probe.WaitGateAsync(gate);
        Interlocked.Decrement(ref _inside);
    }

    public Task<string> Peek() => Task.FromResult("peek");
}

public interface ILifecycleGrain : IGrainWithStringKey
{
    Task<Guid> InstanceId();

    Task Fail(string message);

    Task FailAfterAwait(string message);

    Task DeactivateSelf();

    Task KeepAliveFor(TimeSpan timeSpan);

    Task<string> Key();
}

/// <summary>Records activation and deactivation; keys starting "fail-once" fail their first activation, "fail-always" every one.</summary>
public sealed class LifecycleGrain(Probe probe) : Grain, ILifecycleGrain
{
    private readonly Guid _instance = Guid.NewGuid();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        probe.Record($"activate:{key}");
        if (key.StartsWith("fail-always", StringComparison.Ordinal) || (key.StartsWith("fail-once", StringComparison.Ordinal) && probe.Count($"activate:{key}") == 1))
        {
            throw new InvalidOperationException($"activation of {key} failed on purpose");
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Record($"deactivate:{this.GetPrimaryKeyString()}:{reason.ReasonCode}");
        return Task.CompletedTask;
    }

    public Task<Guid> InstanceId() => Task.FromResult(_instance);

    public Task Fail(string message)
    {
        var exception = new ArgumentException(message);
        probe.LastThrown = exception;
        throw exception;
    }

    public async Task FailAfterAwait(string message)
    {
        await Task.Yield();
        var exception = new FormatException(message);
        probe.LastThrown = exception;
        throw exception;
    }

    public Task DeactivateSelf()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task KeepAliveFor(TimeSpan timeSpan)
    {
        DelayDeactivation(timeSpan);
        return Task.CompletedTask;
    }

    public Task<string> Key() => Task.FromResult(this.GetPrimaryKeyString());
}

public interface IChainGrain : IGrainWithStringKey
{
    /// <summary>Calls <paramref name="other"/>.CallBack(this key, interleaved).</summary>
    Task<string> CallThrough(string other, bool interleaved);

    Task<string> CallBack(string caller, bool interleaved);

    Task<string> CallSelf();

    Task<string> Hello();

    [AlwaysInterleave]
    Task<string> HelloInterleaved();

    [ReadOnly]
    Task<string> ReadThrough(string other);

    [ReadOnly]
    Task<string> ReadBack(string caller);

    [ReadOnly]
    Task<string> ReadHello();
}

public sealed class ChainGrain : Grain, IChainGrain
{
    public Task<string> CallThrough(string other, bool interleaved)
        => GrainFactory.GetGrain<IChainGrain>(other).CallBack(this.GetPrimaryKeyString(), interleaved);

    public Task<string> CallBack(string caller, bool interleaved)
    {
        var back = GrainFactory.GetGrain<IChainGrain>(caller);
        return interleaved ? back.HelloInterleaved() : back.Hello();
    }

    public Task<string> CallSelf() => GrainFactory.GetGrain<IChainGrain>(this.GetPrimaryKeyString()).Hello();

    public Task<string> Hello() => Task.FromResult($"hello from {this.GetPrimaryKeyString()}");

    public Task<string> HelloInterleaved() => Task.FromResult($"interleaved hello from {this.GetPrimaryKeyString()}");

    public Task<string> ReadThrough(string other) => GrainFactory.GetGrain<IChainGrain>(other).ReadBack(this.GetPrimaryKeyString());

    public Task<string> ReadBack(string caller) => GrainFactory.GetGrain<IChainGrain>(caller).ReadHello();

    public Task<string> ReadHello() => Task.FromResult($"read hello from {this.GetPrimaryKeyString()}");
}

public interface ITimerGrain : IGrainWithStringKey
{
    Task StartTimer(TimeSpan dueTime, TimeSpan period);

    Task StopTimer();

    Task HoldUntilGate(string gate);

    [ReadOnly]
    Task<int> Ticks();

    [ReadOnly]
    Task<int> TicksDuringCalls();

    Task Deactivate();
}

public sealed class TimerGrain(Probe probe) : Grain, ITimerGrain
{
    private IGrainTimer? _timer;
    private int _ticks;
    private int _ticksDuringCalls;
    private bool _inCall;

    public Task StartTimer(TimeSpan dueTime, TimeSpan period)
    {
        _timer = this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions { DueTime = dueTime, Period = period });
        return Task.CompletedTask;
    }

    public Task StopTimer()
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public async Task HoldUntilGate(string gate)
    {
        _inCall = true;
        probe.Record($"hold-entered:{this.GetPrimaryKeyString()}");
        await probe.WaitGateAsync(gate);
        _inCall = false;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task<int> TicksDuringCalls() => Task.FromResult(_ticksDuringCalls);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Record($"timer-deactivated:{this.GetPrimaryKeyString()}");
        return Task.CompletedTask;
    }

    private Task OnTick(CancellationToken cancellationToken)
    {
        if (_inCall)
        {
            _ticksDuringCalls++;
        }

        _ticks++;
        probe.Record($"tick:{this.GetPrimaryKeyString()}");
        return Task.CompletedTask;
    }
}

public interface IValueTaskGrain : IGrainWithStringKey
{
    ValueTask Nothing();

    ValueTask<int> Twice(int value);

    Task<T> Echo<T>(T value);
}

public sealed class ValueTaskGrain : Grain, IValueTaskGrain
{
    public ValueTask Nothing() => ValueTask.CompletedTask;

    public async ValueTask<int> Twice(int value)
    {
        await Task.Yield();
        return value * 2;
    }

    public Task<T> Echo<T>(T value) => Task.FromResult(value);
}

public sealed class CounterState
{
    public int Value { get; set; }

    public string? LastWriter { get; set; }
}

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment(string writer);

    [ReadOnly]
    Task<int> Get();

    [ReadOnly]
    Task<string?> Etag();

    Task Clear();

    Task DeactivateSelf();
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> state, Probe probe) : Grain, ICounterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        probe.Record($"counter-activate:{this.GetPrimaryKeyString()}:{state.State.Value}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Record($"counter-deactivate:{this.GetPrimaryKeyString()}:{reason.ReasonCode}");
        return Task.CompletedTask;
    }

    public async Task<int> Increment(string writer)
    {
        state.State.Value++;
        state.State.LastWriter = writer;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);

    public Task<string?> Etag() => Task.FromResult(state.Etag);

    public Task Clear() => state.ClearStateAsync();

    public Task DeactivateSelf()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface IReminderGrain : IGrainWithStringKey
{
    Task Register(string name, TimeSpan dueTime, TimeSpan period);

    Task Unregister(string name);

    Task<bool> Has(string name);

    Task Ping();
}

public sealed class ReminderGrain(Probe probe) : Grain, IReminderGrain, IRemindable
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        probe.Record($"reminder-activate:{this.GetPrimaryKeyString()}");
        return Task.CompletedTask;
    }

    public Task Register(string name, TimeSpan dueTime, TimeSpan period) => this.RegisterOrUpdateReminder(name, dueTime, period);

    public async Task Unregister(string name)
    {
        var reminder = await this.GetReminder(name) ?? throw new InvalidOperationException($"no reminder {name}");
        await this.UnregisterReminder(reminder);
    }

    public async Task<bool> Has(string name) => await this.GetReminder(name) is not null;

    public Task Ping() => Task.CompletedTask;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var key = this.GetPrimaryKeyString();
        probe.Items.Enqueue((key, reminderName, status));
        probe.Record($"reminder:{key}:{reminderName}");
        probe.Record($"reminder:{key}:{reminderName}:{status.CurrentTickTime:O}");
        return Task.CompletedTask;
    }
}

public interface IReentrantGrain : IGrainWithStringKey
{
    Task<string> CallSelf();

    Task<string> Hello();
}

[Reentrant]
public sealed class ReentrantGrain : Grain, IReentrantGrain
{
    public Task<string> CallSelf() => GrainFactory.GetGrain<IReentrantGrain>(this.GetPrimaryKeyString()).Hello();

    public Task<string> Hello() => Task.FromResult("reentrant hello");
}
