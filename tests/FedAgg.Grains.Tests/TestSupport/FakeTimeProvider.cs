namespace FedAgg.Grains.Tests.TestSupport;

/// <summary>
/// A clock that moves only when the test says so, with timers that fire on it: <see cref="Advance"/> fires every timer
/// that falls due, in due-time order, synchronously on the calling thread (so whatever a callback queues is queued when
/// Advance returns). A timer armed with a zero due time fires at once on the thread pool, like a real timer.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly HashSet<FakeTimer> _timers = [];
    private readonly List<(DateTimeOffset DueAt, TaskCompletionSource Signal)> _waiters = [];
    private DateTimeOffset _now;
    private long _sequence;

    public FakeTimeProvider(DateTimeOffset start) => _now = start;

    public FakeTimeProvider()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        Change(timer, dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward, firing every timer due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + by;
        }

        for (var fired = 0; ; fired++)
        {
            if (fired > 100_000)
            {
                throw new InvalidOperationException("More than 100,000 timer callbacks in one Advance: a timer re-arms itself with no delay.");
            }

            FakeTimer? next = null;
            lock (_lock)
            {
                foreach (var timer in _timers)
                {
                    if (timer.DueAt is { } due && due <= target && (next is null || due < next.DueAt || (due == next.DueAt && timer.Sequence < next.Sequence)))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    _now = target;
                    return;
                }

                if (next.DueAt!.Value > _now)
                {
                    _now = next.DueAt.Value;
                }

                Reschedule(next);
            }

            next.Invoke();
        }
    }

    /// <summary>Waits until some timer is armed to fire exactly at <paramref name="dueAt"/> (e.g. a timer re-armed after its callback).</summary>
    public Task WaitForTimerAsync(DateTimeOffset dueAt, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_timers.Any(t => t.DueAt == dueAt))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((dueAt, signal));
        }

        return WaitAsync();

        async Task WaitAsync()
        {
            try
            {
                await signal.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No timer was armed for {dueAt:O} within {timeout}.");
            }
        }
    }

    /// <summary>How many timers are armed.</summary>
    public int ArmedTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count(t => t.DueAt is not null);
            }
        }
    }

    private void Reschedule(FakeTimer timer)
    {
        timer.Generation++;
        if (timer.Period is { } period && period > TimeSpan.Zero)
        {
            timer.DueAt = timer.DueAt!.Value + period;
            NotifyLocked(timer.DueAt.Value);
        }
        else
        {
            timer.DueAt = null;
        }
    }

    private void NotifyLocked(DateTimeOffset dueAt)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].DueAt == dueAt)
            {
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private bool Change(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        long generation;
        lock (_lock)
        {
            if (timer.Disposed)
            {
                return false;
            }

            timer.Generation++;
            generation = timer.Generation;
            timer.Sequence = ++_sequence;
            timer.Period = period == Timeout.InfiniteTimeSpan ? null : period;
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                timer.DueAt = null;
                _timers.Remove(timer);
                return true;
            }

            timer.DueAt = _now + dueTime;
            _timers.Add(timer);
            NotifyLocked(timer.DueAt.Value);
            if (dueTime > TimeSpan.Zero)
            {
                return true;
            }
        }

        // Due now: fire on the thread pool, as a real timer would, unless the timer changed in between.
        ThreadPool.QueueUserWorkItem(_ =>
        {
            lock (_lock)
            {
                if (timer.Generation != generation || timer.Disposed || timer.DueAt is null)
                {
                    return;
                }

                Reschedule(timer);
            }

            timer.Invoke();
        });
        return true;
    }

    private void Remove(FakeTimer timer)
    {
        lock (_lock)
        {
            timer.Disposed = true;
            timer.DueAt = null;
            _timers.Remove(timer);
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public long Generation { get; set; }

        public long Sequence { get; set; }

        public bool Disposed { get; set; }

        public void Invoke() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => owner.Change(this, dueTime, period);

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
