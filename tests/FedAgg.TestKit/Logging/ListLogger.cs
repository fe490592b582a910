using Microsoft.Extensions.Logging;

namespace FedAgg.TestKit.Logging;

/// <summary>Keeps every log entry for assertions, and lets a test wait for a given event id.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, int EventId, string Message)> _entries = [];
    private readonly List<(int EventId, TaskCompletionSource<string> Signal)> _waiters = [];

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        List<TaskCompletionSource<string>> fired = [];
        lock (_entries)
        {
            _entries.Add((logLevel, eventId.Id, message));
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].EventId == eventId.Id)
                {
                    fired.Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var signal in fired)
        {
            signal.TrySetResult(message);
        }
    }

    /// <summary>Returns the message of the first entry with <paramref name="eventId"/>, waiting up to <paramref name="timeout"/> for it.</summary>
    public async Task<string> WaitForEventAsync(int eventId, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_entries)
        {
            foreach (var entry in _entries)
            {
                if (entry.EventId == eventId)
                {
                    return entry.Message;
                }
            }

            _waiters.Add((eventId, signal));
        }

        try
        {
            return await signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No log entry with event id {eventId} within {timeout}. Entries so far:\n{string.Join('\n', Entries.Select(e => $"{e.EventId} {e.Level}: {e.Message}"))}");
        }
    }
}
