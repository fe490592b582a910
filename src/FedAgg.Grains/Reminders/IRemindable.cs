using FedAgg.Grains.Runtime;

namespace FedAgg.Grains.Reminders;

/// <summary>Implemented by grains that register reminders; ticks arrive as calls to <see cref="ReceiveReminder"/>. Orleans: <c>IRemindable</c>.</summary>
public interface IRemindable : IGrain
{
    /// <summary>Handles a reminder tick (a turn of the grain like any call; the grain is activated if needed).</summary>
    /// <param name="reminderName">The reminder's name.</param>
    /// <param name="status">The reminder's schedule and this tick's time.</param>
    /// <returns>A task that completes when the tick is handled.</returns>
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>A reminder tick's schedule. Orleans: <c>TickStatus</c>.</summary>
/// <param name="FirstTickTime">When the reminder first ticks (registration time plus due time).</param>
/// <param name="Period">The time between ticks.</param>
/// <param name="CurrentTickTime">The scheduled time of this tick (a tick missed while the process was down is delivered once, late, with its scheduled time).</param>
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);

/// <summary>A handle to a registered reminder. Orleans: <c>IGrainReminder</c>.</summary>
public interface IGrainReminder
{
    /// <summary>The reminder's name.</summary>
    string ReminderName { get; }
}

/// <summary>A durable reminder as the reminder table stores it. Orleans: <c>ReminderEntry</c>.</summary>
public sealed class ReminderEntry
{
    /// <summary>The grain the reminder ticks.</summary>
    public required GrainId GrainId { get; init; }

    /// <summary>The reminder's name (unique per grain).</summary>
    public required string ReminderName { get; init; }

    /// <summary>The first tick's time.</summary>
    public required DateTimeOffset StartAt { get; init; }

    /// <summary>The time between ticks.</summary>
    public required TimeSpan Period { get; init; }

    /// <summary>The row's version; null before it is stored.</summary>
    public string? ETag { get; init; }
}

/// <summary>Durable storage of reminders. Orleans: <c>IReminderTable</c>.</summary>
public interface IReminderTable
{
    /// <summary>Creates the schema if needed.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A task that completes when the table is usable.</returns>
    Task InitAsync(CancellationToken cancellationToken);

    /// <summary>Every stored reminder.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The reminders.</returns>
    Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>The reminders of one grain.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The reminders.</returns>
    Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken);

    /// <summary>One reminder, or null.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="reminderName">The reminder's name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The reminder, or null.</returns>
    Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a reminder; durable before it returns.</summary>
    /// <param name="entry">The reminder.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The new ETag.</returns>
    Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken);

    /// <summary>Removes a reminder if its ETag still matches.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="reminderName">The reminder's name.</param>
    /// <param name="eTag">The ETag it was read or written with.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether a row was removed.</returns>
    Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken);
}

/// <summary>Reminder settings. Orleans: <c>ReminderOptions</c>.</summary>
public sealed class ReminderOptions
{
    /// <summary>The shortest period a reminder may have. Default 1 second; must be positive (tests may lower it).</summary>
    public TimeSpan MinimumReminderPeriod { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>A reminder could not be registered or removed. Orleans: <c>ReminderException</c>.</summary>
public sealed class ReminderException : GrainRuntimeException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ReminderException()
        : this("The reminder operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public ReminderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public ReminderException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The handle returned for a stored reminder.</summary>
internal sealed record GrainReminder(GrainId GrainId, string ReminderName, string ETag) : IGrainReminder;
