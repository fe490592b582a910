using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FedAgg.Libp2p.Tests.Interop;

/// <summary>Keeps the C# host's last log lines (Debug and above) so an interop failure can show what the host saw.</summary>
public sealed class CollectingLoggerFactory : ILoggerFactory
{
    private const int MaxLines = 300;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<(int EventId, IReadOnlyDictionary<string, string?> Values)> _events = new();

    public string Recent => string.Join('\n', _lines);

    /// <summary>The structured values of every message logged with <paramref name="eventId"/>.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string?>> EventsWithId(int eventId) =>
        _events.Where(e => e.EventId == eventId).Select(static e => e.Values).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(string line, int eventId, object? state)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values && _events.Count < 10_000)
        {
            _events.Enqueue((eventId, values.ToDictionary(static v => v.Key, static v => v.Value?.ToString())));
        }

        _lines.Enqueue(line);
        while (_lines.Count > MaxLines && _lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(CollectingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(
                $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}[{eventId.Id}]: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}",
                eventId.Id,
                state);
    }
}
