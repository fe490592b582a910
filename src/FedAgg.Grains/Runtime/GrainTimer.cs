namespace FedAgg.Grains.Runtime;

/// <summary>
/// A grain timer: a one-shot <see cref="ITimer"/> re-armed after each tick's callback completes, so ticks never
/// overlap; each tick is queued on the activation like a request.
/// </summary>
internal sealed class GrainTimer : IGrainTimer
{
    private readonly Lock _lock = new();
    private readonly GrainActivation _activation;
    private readonly Func<object?, CancellationToken, Task> _callback;
    private readonly object? _state;
    private readonly bool _interleave;
    private readonly CancellationTokenSource _disposed = new();
    private readonly ITimer _timer;
    private TimeSpan _dueTime;
    private TimeSpan _period;
    private bool _tickInFlight;
    private bool _changedDuringTick;

    public GrainTimer(GrainActivation activation, Func<object?, CancellationToken, Task> callback, object? state, GrainTimerCreationOptions options)
    {
        Validate(options.DueTime, options.Period);
        _activation = activation;
        _callback = callback;
        _state = state;
        _interleave = options.Interleave;
        KeepAlive = options.KeepAlive;
        _dueTime = options.DueTime;
        _period = options.Period;
        _timer = activation.Runtime.TimeProvider.CreateTimer(
            static s => ((GrainTimer)s!).OnTimerFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public bool KeepAlive { get; }

    public void Start()
    {
        lock (_lock)
        {
            if (!_disposed.IsCancellationRequested)
            {
                _timer.Change(_dueTime, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        Validate(dueTime, period);
        lock (_lock)
        {
            _dueTime = dueTime;
            _period = period;
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            if (_tickInFlight)
            {
                _changedDuringTick = true;
            }
            else
            {
                _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
        }

        _timer.Dispose();
        _activation.RemoveTimer(this);
    }

    public async Task RunTickAsync()
    {
        try
        {
            if (!_disposed.IsCancellationRequested)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token, _activation.Lifetime);
                await _callback(_state, linked.Token).ConfigureAwait(true);
            }
        }
        catch (Exception exception)
        {
            Log.TimerCallbackFailed(_activation.Runtime.Logger, _activation.GrainId, exception);
        }
        finally
        {
            TickAbandoned();
        }
    }

    /// <summary>Re-arms the timer after a tick ended (or could not be queued).</summary>
    public void TickAbandoned()
    {
        lock (_lock)
        {
            _tickInFlight = false;
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            var next = _changedDuringTick ? _dueTime : _period;
            _changedDuringTick = false;
            if (next != Timeout.InfiniteTimeSpan)
            {
                _timer.Change(next, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private static void Validate(TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "The due time must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        if (period <= TimeSpan.Zero && period != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "The period must be positive, or Timeout.InfiniteTimeSpan.");
        }
    }

    private void OnTimerFired()
    {
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested || _tickInFlight)
            {
                return;
            }

            _tickInFlight = true;
        }

        var queued = false;
        try
        {
            queued = _activation.TryEnqueue(new TimerTick(this, _interleave));
        }
        catch (Exception exception)
        {
            Log.TimerCallbackFailed(_activation.Runtime.Logger, _activation.GrainId, exception);
        }

        if (!queued)
        {
            TickAbandoned();
        }
    }
}
