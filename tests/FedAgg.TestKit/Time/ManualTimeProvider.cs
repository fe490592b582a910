namespace FedAgg.TestKit.Time;

/// <summary>
/// A clock that moves only when a test says so (Microsoft.Extensions.TimeProvider.Testing cannot be restored here),
/// with timers that fire on it.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Advance"/> (and <see cref="SetUtcNow"/> forwards) fires every timer that falls due on the way,
/// synchronously on the calling thread, one at a time and outside the clock's lock, so whatever a callback queues is
/// queued when it returns. Timers fire in due-time order; timers due at the same instant fire in the order they were
/// last armed (<see cref="ITimer.Change"/> or creation). While a callback runs the clock reads that timer's due time
/// (or the current time, for a timer that was already past due).
/// A periodic timer is re-armed one period after its due time before its callback runs, so it fires as often as it
/// falls due; a timer created or changed inside a callback counts from the callback's time and fires in the same
/// <see cref="Advance"/> if it falls due by the target.
/// </para>
/// <para>
/// A timer armed with a zero (or negative) due time fires at once on the thread pool, like a real timer, unless it is
/// changed or disposed first. A disposed timer never fires again and <see cref="ITimer.Change"/> on it returns false.
/// All members are thread-safe; one thread at a time should move the clock.
/// </para>
/// </remarks>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>Where the parameterless constructor starts the clock: 2025-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const int MaxCallbacksPerAdvance = 100_000;

    /// <summary>How long (in real time) the count-based waits wait.</summary>
    private static readonly TimeSpan ArmedWaitTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly HashSet<ManualTimer> _armed = [];
    private readonly List<(DateTimeOffset DueAt, TaskCompletionSource Signal)> _armWaiters = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _now;
    private long _sequence;

    /// <summary>A clock at <see cref="DefaultStart"/>.</summary>
    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    /// <summary>A clock at <paramref name="start"/>.</summary>
    public ManualTimeProvider(DateTimeOffset start) => _now = start;

    /// <summary>UTC, so that local times do not depend on the machine.</summary>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>One tick of <see cref="GetTimestamp"/> is one <see cref="TimeSpan"/> tick.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>How many timers are armed (created or changed with a finite due time, and not yet fired, disarmed or disposed).</summary>
    public int ArmedTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _armed.Count;
            }
        }
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>A timer that fires when the clock is moved past its due time (see the class remarks).</summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        Change(timer, dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward by <paramref name="by"/>, firing on this thread every timer due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">More than 100,000 callbacks fell due (a timer re-arms itself with no delay).</exception>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + by;
        }

        RunUntil(target);
    }

    /// <summary>
    /// Sets the clock: forwards it fires the timers due on the way, as <see cref="Advance"/> does; backwards it only sets
    /// the time (armed timers keep their due times).
    /// </summary>
    public void SetUtcNow(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (now < _now)
            {
                _now = now;
                SignalChangedLocked();
                return;
            }
        }

        RunUntil(now);
    }

    /// <summary>Waits (up to 10 s of real time) until at least <paramref name="count"/> timers are armed.</summary>
    /// <exception cref="TimeoutException">Fewer were armed after 10 s.</exception>
    public Task WaitForArmedTimersAsync(int count, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(
            () => _armed.Count >= count,
            () => $"expected {count} armed timers within 10 s, have {ArmedTimerCount}",
            cancellationToken);

    /// <summary>
    /// Waits (up to 10 s of real time) until at least <paramref name="count"/> timers are armed to fire exactly
    /// <paramref name="dueIn"/> from the clock's current time.
    /// </summary>
    /// <exception cref="TimeoutException">Fewer were so armed after 10 s.</exception>
    public Task WaitForTimerAsync(TimeSpan dueIn, int count = 1, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(
            () => CountDueAtLocked(_now + dueIn) >= count,
            () => $"expected {count} timers due in {dueIn} within 10 s",
            cancellationToken);

    /// <summary>
    /// Waits until some timer is armed to fire exactly at <paramref name="dueAt"/>: one armed so now, or one armed so
    /// after this call (e.g. a timer re-armed after its callback), even if it has fired or changed since.
    /// </summary>
    /// <exception cref="TimeoutException">No timer was armed for <paramref name="dueAt"/> within <paramref name="timeout"/> of real time.</exception>
    public Task WaitForTimerAsync(DateTimeOffset dueAt, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        (DateTimeOffset DueAt, TaskCompletionSource Signal) waiter = (dueAt, new(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (CountDueAtLocked(dueAt) > 0)
            {
                return Task.CompletedTask;
            }

            _armWaiters.Add(waiter);
        }

        return WaitAsync();

        async Task WaitAsync()
        {
            try
            {
                await waiter.Signal.Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No timer was armed for {dueAt:O} within {timeout}.");
            }
            finally
            {
                lock (_lock)
                {
                    _armWaiters.Remove(waiter);
                }
            }
        }
    }

    private void RunUntil(DateTimeOffset target)
    {
        for (var fired = 0; ; fired++)
        {
            ManualTimer? next = null;
            lock (_lock)
            {
                foreach (var timer in _armed)
                {
                    var due = timer.DueAt!.Value;
                    if (due <= target && (next is null || due < next.DueAt || (due == next.DueAt && timer.Sequence < next.Sequence)))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    if (target > _now)
                    {
                        _now = target;
                    }

                    SignalChangedLocked();
                    return;
                }

                if (fired == MaxCallbacksPerAdvance)
                {
                    throw new InvalidOperationException($"More than {MaxCallbacksPerAdvance:N0} timer callbacks in one Advance: a timer re-arms itself with no delay.");
                }

                if (next.DueAt!.Value > _now)
                {
                    _now = next.DueAt.Value;
                }

                RearmOrDisarmLocked(next);
                SignalChangedLocked();
            }

            next.Invoke();
        }
    }

    private bool Change(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        long generation;
        lock (_lock)
        {
            if (timer.Disposed)
            {
                return false;
            }

            generation = ++timer.Generation;
            timer.Sequence = ++_sequence;
            timer.Period = period > TimeSpan.Zero ? period : null;
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                timer.DueAt = null;
                _armed.Remove(timer);
                SignalChangedLocked();
                return true;
            }

            timer.DueAt = _now + dueTime;
            _armed.Add(timer);
            NotifyArmedLocked(timer.DueAt.Value);
            SignalChangedLocked();
            if (dueTime > TimeSpan.Zero)
            {
                return true;
            }
        }

        // Due now: fire on the thread pool, as a real timer would, unless the timer changed (or fired) in between.
        ThreadPool.QueueUserWorkItem(_ =>
        {
            lock (_lock)
            {
                if (timer.Generation != generation || timer.Disposed || timer.DueAt is null)
                {
                    return;
                }

                RearmOrDisarmLocked(timer);
                SignalChangedLocked();
            }

            timer.Invoke();
        });
        return true;
    }

    private void Dispose(ManualTimer timer)
    {
        lock (_lock)
        {
            timer.Disposed = true;
            timer.DueAt = null;
            _armed.Remove(timer);
            SignalChangedLocked();
        }
    }

    /// <summary>Called as <paramref name="timer"/> fires: a periodic timer is due again one period later, any other is disarmed.</summary>
    private void RearmOrDisarmLocked(ManualTimer timer)
    {
        timer.Generation++;
        if (timer.Period is { } period)
        {
            timer.DueAt = timer.DueAt!.Value + period;
            NotifyArmedLocked(timer.DueAt.Value);
        }
        else
        {
            timer.DueAt = null;
            _armed.Remove(timer);
        }
    }

    private int CountDueAtLocked(DateTimeOffset dueAt)
    {
        var count = 0;
        foreach (var timer in _armed)
        {
            if (timer.DueAt == dueAt)
            {
                count++;
            }
        }

        return count;
    }

    private void NotifyArmedLocked(DateTimeOffset dueAt)
    {
        for (var i = _armWaiters.Count - 1; i >= 0; i--)
        {
            if (_armWaiters[i].DueAt == dueAt)
            {
                _armWaiters[i].Signal.TrySetResult();
                _armWaiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Wakes the count-based waits to look again: any timer or the clock changed.</summary>
    private void SignalChangedLocked()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private async Task WaitUntilAsync(Func<bool> conditionLocked, Func<string> describeTimeout, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ArmedWaitTimeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (conditionLocked())
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(describeTimeout());
            }
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        /// <summary>Bumped by every change and every firing, so a queued zero-due firing can tell it is stale.</summary>
        public long Generation { get; set; }

        /// <summary>When it was last armed, relative to the other timers: breaks ties between equal due times.</summary>
        public long Sequence { get; set; }

        public bool Disposed { get; set; }

        public void Invoke() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => owner.Change(this, dueTime, period);

        public void Dispose() => owner.Dispose(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
