using FedAgg.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FedAgg.Grains.Runtime;

/// <summary>
/// The one in-memory instance of a grain. Requests queue in arrival order; a request that is not read-only runs
/// alone, read-only requests run together, always-interleave requests (and every request of a reentrant grain) run
/// at once. All grain code runs on the activation's exclusive scheduler, so it never runs on two threads at once
/// (as Orleans' activation task scheduler), even when requests interleave at await points.
/// </summary>
#pragma warning disable CA1001 // _lifetime is cancelled at deactivation; timers may still hold its token, so it is left to the GC.
internal sealed class GrainActivation
#pragma warning restore CA1001
{
    [ThreadStatic]
    private static GrainActivation? t_constructing;

    private readonly Lock _lock = new();
    private readonly Queue<WorkItem> _queue = new();
    private readonly List<WorkItem> _interleavedWhileActivating = [];
    private readonly List<GrainTimer> _timers = [];
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new();
    private ActivationState _state = ActivationState.Creating;
    private bool _activationStarted;
    private int _runningExclusive;
    private int _runningReadOnly;
    private int _runningInterleaved;
    private DeactivationReason? _pendingDeactivation;
    private DateTimeOffset _lastActivity;
    private DateTimeOffset _keepAliveUntil = DateTimeOffset.MinValue;
    private AsyncServiceScope? _scope;

    public GrainActivation(GrainRuntime runtime, GrainId grainId, GrainClassInfo grainClass)
    {
        Runtime = runtime;
        GrainId = grainId;
        GrainClass = grainClass;
        Scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        _lastActivity = runtime.TimeProvider.GetUtcNow();
    }

    private enum ActivationState
    {
        Creating,
        Valid,
        Deactivating,
        Invalid,
    }

    /// <summary>The activation whose grain instance is being constructed on this thread (read by <see cref="Grain"/>'s constructor).</summary>
    public static GrainActivation? Constructing => t_constructing;

    public GrainRuntime Runtime { get; }

    public GrainId GrainId { get; }

    public GrainClassInfo GrainClass { get; }

    public TaskScheduler Scheduler { get; }

    public Grain? Instance { get; private set; }

    public IServiceProvider Services => _scope?.ServiceProvider ?? Runtime.Services;

    /// <summary>Completes when the activation has been deactivated (or failed to activate) and left the catalog.</summary>
    public Task Deactivated => _deactivated.Task;

    public CancellationToken Lifetime => _lifetime.Token;

    private int Running => _runningExclusive + _runningReadOnly + _runningInterleaved;

    /// <summary>Queues <paramref name="item"/>, or returns false if the activation is going away (the caller waits for <see cref="Deactivated"/> and retries).</summary>
    /// <exception cref="DeadlockException">The item could never start because its own call chain holds this activation.</exception>
    public bool TryEnqueue(WorkItem item)
    {
        List<WorkItem>? start = null;
        var activate = false;
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                return false;
            }

            var bypass = false;
            var holder = item.CallerChain?.Find(this);
            if (holder is not null && !holder.Item.Completed)
            {
                bypass = GrainClass.IsReentrant
                    || item.Kind == RequestKind.Interleave
                    || (item.Kind == RequestKind.ReadOnly && holder.Item.RunningAs == RequestKind.ReadOnly && _state == ActivationState.Valid);
                if (!bypass)
                {
                    throw Deadlock(item, holder);
                }
            }

            if (item.KeepsAlive)
            {
                _lastActivity = Runtime.TimeProvider.GetUtcNow();
            }

            var interleaves = GrainClass.IsReentrant || item.Kind == RequestKind.Interleave;
            if (_state == ActivationState.Creating)
            {
                if (interleaves)
                {
                    _interleavedWhileActivating.Add(item);
                }
                else
                {
                    _queue.Enqueue(item);
                }

                activate = !_activationStarted;
                _activationStarted = true;
            }
            else if (bypass)
            {
                StartLocked(item, item.Kind == RequestKind.ReadOnly && !interleaves ? RequestKind.ReadOnly : RequestKind.Interleave, ref start);
            }
            else if (interleaves && _pendingDeactivation is null)
            {
                StartLocked(item, RequestKind.Interleave, ref start);
            }
            else
            {
                _queue.Enqueue(item);
                DispatchLocked(ref start);
            }
        }

        Launch(start);
        if (activate)
        {
            _ = ActivateAsync();
        }

        return true;
    }

    /// <summary>Asks for deactivation once nothing is running; queued requests then move to a fresh activation.</summary>
    public void RequestDeactivation(DeactivationReason reason)
    {
        List<WorkItem>? reroute = null;
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                return;
            }

            _pendingDeactivation ??= reason;
            if (_state == ActivationState.Valid && Running == 0)
            {
                reroute = BeginDeactivationLocked();
            }
        }

        if (reroute is not null)
        {
            _ = DeactivateAsync(reason, reroute);
        }
    }

    public void DelayDeactivation(TimeSpan timeSpan)
    {
        lock (_lock)
        {
            _keepAliveUntil = timeSpan < TimeSpan.Zero ? DateTimeOffset.MinValue : Runtime.TimeProvider.GetUtcNow() + timeSpan;
        }
    }

    /// <summary>Whether the idle collector should deactivate this activation now.</summary>
    public bool IsIdle(DateTimeOffset now, TimeSpan collectionAge)
    {
        lock (_lock)
        {
            return _state == ActivationState.Valid && _pendingDeactivation is null && Running == 0 && _queue.Count == 0
                && now - _lastActivity >= collectionAge && now >= _keepAliveUntil;
        }
    }

    public IGrainTimer RegisterTimer(Func<object?, CancellationToken, Task> callback, object? state, GrainTimerCreationOptions options)
    {
        var timer = new GrainTimer(this, callback, state, options);
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                timer.Dispose();
                return timer;
            }

            _timers.Add(timer);
        }

        timer.Start();
        return timer;
    }

    public void RemoveTimer(GrainTimer timer)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the activation's scheduler (so grain code stays single-threaded).</summary>
    public Task RunOnSchedulerAsync(Func<Task> action)
        => Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();

    private static DeadlockException Deadlock(WorkItem item, CallChain holder)
    {
        var chain = item.CallerChain!.ToList();
        chain.Add(holder.Activation.GrainId);
        var text = string.Join(" → ", chain);
        return new DeadlockException(
            $"Deadlock: {item.Description} on {holder.Activation.GrainId} cannot start because the call chain {text} holds that activation " +
            $"(it is running {holder.Item.Description}, which waits for this call). Mark the method [AlwaysInterleave] (or both [ReadOnly]), " +
            "the grain class [Reentrant], or restructure the calls.",
            chain);
    }

    private void StartLocked(WorkItem item, RequestKind runningAs, ref List<WorkItem>? start)
    {
        item.RunningAs = runningAs;
        switch (runningAs)
        {
            case RequestKind.Exclusive:
                _runningExclusive++;
                break;
            case RequestKind.ReadOnly:
                _runningReadOnly++;
                break;
            default:
                _runningInterleaved++;
                break;
        }

        (start ??= []).Add(item);
    }

    private void DispatchLocked(ref List<WorkItem>? start)
    {
        if (_state != ActivationState.Valid || _pendingDeactivation is not null)
        {
            return;
        }

        while (_queue.TryPeek(out var head))
        {
            if (GrainClass.IsReentrant || head.Kind == RequestKind.Interleave)
            {
                StartLocked(_queue.Dequeue(), RequestKind.Interleave, ref start);
            }
            else if (head.Kind == RequestKind.Exclusive && Running == 0)
            {
                StartLocked(_queue.Dequeue(), RequestKind.Exclusive, ref start);
            }
            else if (head.Kind == RequestKind.ReadOnly && Running == _runningReadOnly)
            {
                StartLocked(_queue.Dequeue(), RequestKind.ReadOnly, ref start);
            }
            else
            {
                break;
            }
        }
    }

    private void Launch(List<WorkItem>? items)
    {
        if (items is null)
        {
            return;
        }

        foreach (var item in items)
        {
            _ = RunAsync(item);
        }
    }

    private async Task RunAsync(WorkItem item)
    {
        try
        {
            await RunOnSchedulerAsync(() => item.ExecuteAsync(this)).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            item.Fail(exception);
        }
        finally
        {
            OnCompleted(item);
        }
    }

    private void OnCompleted(WorkItem item)
    {
        item.Completed = true;
        List<WorkItem>? start = null;
        List<WorkItem>? reroute = null;
        DeactivationReason reason = default;
        lock (_lock)
        {
            switch (item.RunningAs)
            {
                case RequestKind.Exclusive:
                    _runningExclusive--;
                    break;
                case RequestKind.ReadOnly:
                    _runningReadOnly--;
                    break;
                default:
                    _runningInterleaved--;
                    break;
            }

            if (item.KeepsAlive)
            {
                _lastActivity = Runtime.TimeProvider.GetUtcNow();
            }

            if (_pendingDeactivation is { } pending && _state == ActivationState.Valid)
            {
                if (Running == 0)
                {
                    reason = pending;
                    reroute = BeginDeactivationLocked();
                }
            }
            else
            {
                DispatchLocked(ref start);
            }
        }

        Launch(start);
        if (reroute is not null)
        {
            _ = DeactivateAsync(reason, reroute);
        }
    }

    private List<WorkItem> BeginDeactivationLocked()
    {
        _state = ActivationState.Deactivating;
        var reroute = new List<WorkItem>(_queue);
        _queue.Clear();
        return reroute;
    }

    private async Task ActivateAsync()
    {
        var marker = new LifecycleMarker("OnActivateAsync") { RunningAs = RequestKind.Exclusive };
        var started = Runtime.TimeProvider.GetTimestamp();
        try
        {
            await RunOnSchedulerAsync(async () =>
            {
                CallChain.Current = new CallChain(this, marker, null);
                _scope = Runtime.Services.CreateAsyncScope();
                var states = new object[GrainClass.States.Count];
                for (var i = 0; i < states.Length; i++)
                {
                    var descriptor = GrainClass.States[i];
                    var state = PersistentStateFactory.Create(descriptor, GrainId, Runtime.GetStorage(descriptor.StorageName));
                    await state.ReadStateAsync(Runtime.Stopping).ConfigureAwait(true);
                    states[i] = state;
                }

                t_constructing = this;
                try
                {
                    Instance = (Grain)GrainClass.Factory(_scope.Value.ServiceProvider, states);
                }
                finally
                {
                    t_constructing = null;
                }

                await Instance.OnActivateAsync(Runtime.Stopping).ConfigureAwait(true);
            }).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            marker.Completed = true;
            List<WorkItem> failed;
            lock (_lock)
            {
                _state = ActivationState.Invalid;
                failed = [.. _queue, .. _interleavedWhileActivating];
                _queue.Clear();
                _interleavedWhileActivating.Clear();
            }

            Log.ActivationFailed(Runtime.Logger, GrainId, exception);
            await DisposeScopeAsync().ConfigureAwait(false);
            Runtime.RemoveActivation(this);
            _deactivated.TrySetResult();
            foreach (var item in failed)
            {
                item.Fail(exception);
            }

            return;
        }

        marker.Completed = true;
        var elapsed = Runtime.TimeProvider.GetElapsedTime(started);
        Log.Activated(Runtime.Logger, GrainId, elapsed.TotalMilliseconds);
        List<WorkItem>? start = null;
        List<WorkItem>? reroute = null;
        DeactivationReason reason = default;
        lock (_lock)
        {
            _state = ActivationState.Valid;
            _lastActivity = Runtime.TimeProvider.GetUtcNow();
            foreach (var item in _interleavedWhileActivating)
            {
                StartLocked(item, RequestKind.Interleave, ref start);
            }

            _interleavedWhileActivating.Clear();
            if (_pendingDeactivation is { } pending && Running == 0)
            {
                reason = pending;
                reroute = BeginDeactivationLocked();
            }
            else
            {
                DispatchLocked(ref start);
            }
        }

        Launch(start);
        if (reroute is not null)
        {
            _ = DeactivateAsync(reason, reroute);
        }
    }

    private async Task DeactivateAsync(DeactivationReason reason, List<WorkItem> reroute)
    {
        GrainTimer[] timers;
        lock (_lock)
        {
            timers = [.. _timers];
            _timers.Clear();
        }

        foreach (var timer in timers)
        {
            timer.Dispose();
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (Instance is { } instance)
        {
            var marker = new LifecycleMarker("OnDeactivateAsync") { RunningAs = RequestKind.Exclusive };
            using var timeout = new CancellationTokenSource(Runtime.CollectionOptions.DeactivationTimeout, Runtime.TimeProvider);
            try
            {
                await RunOnSchedulerAsync(() =>
                {
                    CallChain.Current = new CallChain(this, marker, null);
                    return instance.OnDeactivateAsync(reason, timeout.Token);
                }).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.DeactivationFailed(Runtime.Logger, GrainId, exception);
            }
            finally
            {
                marker.Completed = true;
            }
        }

        lock (_lock)
        {
            _state = ActivationState.Invalid;
        }

        await DisposeScopeAsync().ConfigureAwait(false);
        Runtime.RemoveActivation(this);
        Log.Deactivated(Runtime.Logger, GrainId, reason);
        _deactivated.TrySetResult();
        foreach (var item in reroute)
        {
            if (item.Reroutable)
            {
                _ = Runtime.SubmitAsync(GrainId, GrainClass, item);
            }
            else
            {
                item.Fail(new InvalidOperationException($"The activation of {GrainId} was deactivated."));
            }
        }
    }

    private async Task DisposeScopeAsync()
    {
        if (_scope is { } scope)
        {
            try
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.DeactivationFailed(Runtime.Logger, GrainId, exception);
            }
        }
    }
}
