namespace FedAgg.Grains.Tests.TestSupport;

/// <summary>
/// What test grains report to the test (a DI singleton): an event log to wait on, async barriers that only open when
/// enough callers are inside at once, and gates the test opens.
/// </summary>
public sealed class Probe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly List<string> _events = [];
    private readonly List<(string Event, int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly Dictionary<string, (int Arrived, TaskCompletionSource Open)> _barriers = [];
    private readonly Dictionary<string, TaskCompletionSource> _gates = [];

    /// <summary>The exception a grain threw last (to check the caller gets the same instance).</summary>
    public Exception? LastThrown { get; set; }

    /// <summary>Values grains hand to the test.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<object> Items { get; } = new();

    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public void Record(string name)
    {
        lock (_lock)
        {
            _events.Add(name);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Event == name && CountLocked(name) >= _waiters[i].Count)
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public int Count(string name)
    {
        lock (_lock)
        {
            return CountLocked(name);
        }
    }

    /// <summary>Waits until <paramref name="name"/> has been recorded <paramref name="count"/> times.</summary>
    public async Task WaitForAsync(string name, int count = 1)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (CountLocked(name) >= count)
            {
                return;
            }

            _waiters.Add((name, count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"Expected '{name}' {count} time(s) within {Timeout}; saw it {Count(name)} time(s). Events: {string.Join(", ", Events.TakeLast(30))}");
        }
    }

    /// <summary>Arrives at barrier <paramref name="name"/> and waits until <paramref name="participants"/> callers are there at once.</summary>
    public async Task SignalAndWaitAsync(string name, int participants)
    {
        TaskCompletionSource open;
        lock (_lock)
        {
            if (!_barriers.TryGetValue(name, out var barrier))
            {
                barrier = (0, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            barrier.Arrived++;
            _barriers[name] = barrier;
            open = barrier.Open;
            if (barrier.Arrived >= participants)
            {
                open.TrySetResult();
            }
        }

        try
        {
            await open.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Barrier '{name}' needed {participants} callers inside at once; they never were within {Timeout}.");
        }
    }

    /// <summary>Waits until the test opens gate <paramref name="name"/>.</summary>
    public Task WaitGateAsync(string name) => Gate(name).Task.WaitAsync(Timeout);

    public void OpenGate(string name) => Gate(name).TrySetResult();

    private TaskCompletionSource Gate(string name)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(name, out var gate))
            {
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gates[name] = gate;
            }

            return gate;
        }
    }

    private int CountLocked(string name)
    {
        var count = 0;
        foreach (var e in _events)
        {
            if (e == name)
            {
                count++;
            }
        }

        return count;
    }
}
