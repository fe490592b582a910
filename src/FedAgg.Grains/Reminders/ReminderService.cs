using System.Collections.Concurrent;
using FedAgg.Grains.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Grains.Reminders;

/// <summary>
/// Keeps one local timer per stored reminder: on start it loads every reminder from the table (so reminders survive
/// a restart), fires any whose tick was missed once at once, and delivers each tick as a grain call, activating the
/// grain. The next tick is armed after the previous one is delivered. One runtime per reminder table: there is no
/// partitioning between processes. Orleans: <c>LocalReminderService</c>.
/// </summary>
internal sealed class ReminderService
{
    private readonly ConcurrentDictionary<(GrainId GrainId, string Name), LocalReminder> _local = new();
    private readonly IReminderTable _table;
    private readonly TimeProvider _timeProvider;
    private readonly IOptions<ReminderOptions> _options;
    private readonly ILogger _logger;
    private GrainRuntime? _runtime;
    private volatile bool _stopped;

    public ReminderService(IReminderTable table, TimeProvider timeProvider, IOptions<ReminderOptions> options, ILoggerFactory loggerFactory)
    {
        _table = table;
        _timeProvider = timeProvider;
        _options = options;
        _logger = loggerFactory.CreateLogger("FedAgg.Grains.Reminders");
    }

    public int LocalCount => _local.Count;

    public async Task StartAsync(GrainRuntime runtime, CancellationToken cancellationToken)
    {
        _ = _options.Value;
        _runtime = runtime;
        await _table.InitAsync(cancellationToken).ConfigureAwait(false);
        var entries = await _table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var entry in entries)
        {
            Schedule(entry);
        }

        Log.RemindersLoaded(_logger, entries.Count);
    }

    public async Task StopAsync()
    {
        _stopped = true;
        foreach (var key in _local.Keys)
        {
            if (_local.TryRemove(key, out var reminder))
            {
                await reminder.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async Task<IGrainReminder> RegisterOrUpdateAsync(GrainId grainId, string reminderName, TimeSpan dueTime, TimeSpan period, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        if (dueTime < TimeSpan.Zero || dueTime == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "A reminder's due time must be zero or more.");
        }

        var minimum = _options.Value.MinimumReminderPeriod;
        if (period < minimum || period == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(period), period, $"A reminder's period must be at least ReminderOptions.MinimumReminderPeriod ({minimum}).");
        }

        ThrowIfStopped();
        var entry = new ReminderEntry
        {
            GrainId = grainId,
            ReminderName = reminderName,
            StartAt = _timeProvider.GetUtcNow() + dueTime,
            Period = period,
        };
        var etag = await _table.UpsertRowAsync(entry, cancellationToken).ConfigureAwait(false);
        Schedule(new ReminderEntry { GrainId = grainId, ReminderName = reminderName, StartAt = entry.StartAt, Period = period, ETag = etag });
        Log.ReminderRegistered(_logger, grainId, reminderName, entry.StartAt, period);
        return new GrainReminder(grainId, reminderName, etag);
    }

    public async Task UnregisterAsync(GrainId grainId, IGrainReminder reminder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reminder);
        if (reminder is not GrainReminder stored || stored.GrainId != grainId)
        {
            throw new ArgumentException($"The reminder '{reminder.ReminderName}' was not issued for {grainId}.", nameof(reminder));
        }

        if (!await _table.RemoveRowAsync(grainId, stored.ReminderName, stored.ETag, cancellationToken).ConfigureAwait(false))
        {
            throw new ReminderException(
                $"The reminder '{stored.ReminderName}' of {grainId} was changed or removed since ETag {stored.ETag} was issued; get it again with GetReminder.");
        }

        if (_local.TryRemove((grainId, stored.ReminderName), out var local))
        {
            await local.DisposeAsync().ConfigureAwait(false);
        }

        Log.ReminderUnregistered(_logger, grainId, stored.ReminderName);
    }

    public async Task<IGrainReminder?> GetReminderAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var entry = await _table.ReadRowAsync(grainId, reminderName, cancellationToken).ConfigureAwait(false);
        return entry is null ? null : new GrainReminder(grainId, entry.ReminderName, entry.ETag!);
    }

    public async Task<IReadOnlyList<IGrainReminder>> GetRemindersAsync(GrainId grainId, CancellationToken cancellationToken)
    {
        var entries = await _table.ReadRowsAsync(grainId, cancellationToken).ConfigureAwait(false);
        return [.. entries.Select(e => (IGrainReminder)new GrainReminder(grainId, e.ReminderName, e.ETag!))];
    }

    private void ThrowIfStopped()
    {
        if (_stopped)
        {
            throw new InvalidOperationException("The reminder service is stopped.");
        }
    }

    private void Schedule(ReminderEntry entry)
    {
        var reminder = new LocalReminder(this, entry);
        var key = (entry.GrainId, entry.ReminderName);
        LocalReminder? replaced = null;
        _local.AddOrUpdate(key, reminder, (_, old) =>
        {
            replaced = old;
            return reminder;
        });
        replaced?.Dispose();
        reminder.Start();
    }

    /// <summary>The local timer of one reminder.</summary>
    private sealed class LocalReminder : IAsyncDisposable, IDisposable
    {
        private readonly Lock _lock = new();
        private readonly ReminderService _service;
        private readonly ReminderEntry _entry;
        private readonly ITimer _timer;
        private DateTimeOffset _nextTick;
        private bool _disposed;

        public LocalReminder(ReminderService service, ReminderEntry entry)
        {
            _service = service;
            _entry = entry;
            _timer = service._timeProvider.CreateTimer(static s => ((LocalReminder)s!).OnFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public void Start()
        {
            var now = _service._timeProvider.GetUtcNow();
            Arm(_entry.StartAt >= now ? _entry.StartAt : LatestSlotAtOrBefore(now), now);
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
            }

            _timer.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private DateTimeOffset LatestSlotAtOrBefore(DateTimeOffset now)
        {
            var periods = (now - _entry.StartAt).Ticks / _entry.Period.Ticks;
            return _entry.StartAt + TimeSpan.FromTicks(periods * _entry.Period.Ticks);
        }

        private void Arm(DateTimeOffset tick, DateTimeOffset now)
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _nextTick = tick;
                var due = tick - now;
                _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
        }

        private void OnFired()
        {
            DateTimeOffset tick;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                tick = _nextTick;
            }

            _ = DeliverAsync(tick);
        }

        private async Task DeliverAsync(DateTimeOffset tick)
        {
            var status = new TickStatus(_entry.StartAt, _entry.Period, tick);
            try
            {
                await _service._runtime!.DeliverReminderAsync(_entry.GrainId, _entry.ReminderName, status).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.ReminderTickFailed(_service._logger, _entry.GrainId, _entry.ReminderName, exception);
            }

            // The next slot after this tick; if the delivery took so long that a whole period passed, skip to the latest slot.
            var now = _service._timeProvider.GetUtcNow();
            var next = tick + _entry.Period;
            if (next + _entry.Period <= now)
            {
                next = LatestSlotAtOrBefore(now);
            }

            Arm(next, now);
        }
    }
}

/// <summary>Durable reminders. Orleans: <c>GrainReminderExtensions</c>.</summary>
public static class GrainReminderExtensions
{
    /// <summary>
    /// Registers (or replaces) a durable reminder: it first ticks after <paramref name="dueTime"/>, then every
    /// <paramref name="period"/>, across deactivations and restarts, until unregistered. Ticks arrive at
    /// <see cref="IRemindable.ReceiveReminder"/>.
    /// </summary>
    /// <param name="grain">The grain (<c>this</c>); it must implement <see cref="IRemindable"/>.</param>
    /// <param name="reminderName">The reminder's name (unique per grain).</param>
    /// <param name="dueTime">The delay before the first tick.</param>
    /// <param name="period">The time between ticks; at least <see cref="ReminderOptions.MinimumReminderPeriod"/>.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The reminder's handle.</returns>
    public static Task<IGrainReminder> RegisterOrUpdateReminder(
        this Grain grain, string reminderName, TimeSpan dueTime, TimeSpan period, CancellationToken cancellationToken = default)
        => Service(grain, requireRemindable: true).RegisterOrUpdateAsync(grain.GrainId, reminderName, dueTime, period, cancellationToken);

    /// <summary>Removes a reminder; no tick follows once this completes.</summary>
    /// <param name="grain">The grain (<c>this</c>).</param>
    /// <param name="reminder">The handle from <see cref="RegisterOrUpdateReminder"/> or <see cref="GetReminder"/>.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes when the reminder is gone.</returns>
    /// <exception cref="ReminderException">The reminder changed or was removed since the handle was issued.</exception>
    public static Task UnregisterReminder(this Grain grain, IGrainReminder reminder, CancellationToken cancellationToken = default)
        => Service(grain, requireRemindable: false).UnregisterAsync(grain.GrainId, reminder, cancellationToken);

    /// <summary>The grain's reminder with <paramref name="reminderName"/>, or null.</summary>
    /// <param name="grain">The grain (<c>this</c>).</param>
    /// <param name="reminderName">The reminder's name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The handle, or null.</returns>
    public static Task<IGrainReminder?> GetReminder(this Grain grain, string reminderName, CancellationToken cancellationToken = default)
        => Service(grain, requireRemindable: false).GetReminderAsync(grain.GrainId, reminderName, cancellationToken);

    /// <summary>All of the grain's reminders.</summary>
    /// <param name="grain">The grain (<c>this</c>).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The handles.</returns>
    public static Task<IReadOnlyList<IGrainReminder>> GetReminders(this Grain grain, CancellationToken cancellationToken = default)
        => Service(grain, requireRemindable: false).GetRemindersAsync(grain.GrainId, cancellationToken);

    private static ReminderService Service(Grain grain, bool requireRemindable)
    {
        ArgumentNullException.ThrowIfNull(grain);
        if (requireRemindable && grain is not IRemindable)
        {
            throw new InvalidOperationException($"{grain.GetType().Name} must implement IRemindable to register reminders.");
        }

        return grain.Activation.Runtime.Reminders
            ?? throw new InvalidOperationException(
                "No reminder service is configured; add one with grains.UseSqliteReminders(...) or grains.UsePostgresReminders(...).");
    }
}
