using FedAgg.Grains.Runtime;
using Microsoft.Extensions.Logging;

namespace FedAgg.Grains;

/// <summary>
/// Every log message of FedAgg.Grains (event ids 6000–6099: 6000–6029 runtime, 6030–6039 timers, 6040–6049 storage,
/// 6050–6059 reminders; 6060–6099 are left for the product grains).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information,
        Message = "Grain runtime started: {GrainClasses} grain classes, {Storages} storages, reminders {RemindersEnabled}, response timeout {ResponseTimeout}, collection age {CollectionAge}")]
    public static partial void RuntimeStarted(
        ILogger logger, int grainClasses, int storages, bool remindersEnabled, TimeSpan responseTimeout, TimeSpan collectionAge);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information,
        Message = "Grain runtime stopped: {Activations} activations deactivated in {ElapsedMs:F1} ms")]
    public static partial void RuntimeStopped(ILogger logger, int activations, double elapsedMs);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning,
        Message = "Grain runtime stop gave up waiting for {Remaining} activations to deactivate")]
    public static partial void StopAbandoned(ILogger logger, int remaining);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Activated {GrainId} in {ElapsedMs:F1} ms")]
    public static partial void Activated(ILogger logger, GrainId grainId, double elapsedMs);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Activation of {GrainId} failed; the activation was discarded")]
    public static partial void ActivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Debug, Message = "Deactivated {GrainId} ({Reason})")]
    public static partial void Deactivated(ILogger logger, GrainId grainId, DeactivationReason reason);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Warning, Message = "Deactivation of {GrainId} failed")]
    public static partial void DeactivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Debug, Message = "Idle collector deactivating {Count} activations")]
    public static partial void IdleCollected(ILogger logger, int count);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Deadlock refused on {GrainId}")]
    public static partial void DeadlockDetected(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "{Method} on {GrainId} got no response within {Timeout}")]
    public static partial void CallTimedOut(ILogger logger, GrainId grainId, string method, TimeSpan timeout);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Warning, Message = "A timer callback of {GrainId} failed")]
    public static partial void TimerCallbackFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 6040, Level = LogLevel.Information, Message = "Grain storage '{Name}' opened: {Provider} at {Location}")]
    public static partial void StorageOpened(ILogger logger, string name, string provider, string location);

    [LoggerMessage(EventId = 6041, Level = LogLevel.Debug,
        Message = "ETag conflict in storage '{Name}' on {GrainId} state '{StateName}': expected {Expected}, stored {Stored}")]
    public static partial void EtagConflict(ILogger logger, string name, GrainId grainId, string stateName, string? expected, string? stored);

    [LoggerMessage(EventId = 6050, Level = LogLevel.Information, Message = "Reminder service loaded {Count} reminders")]
    public static partial void RemindersLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 6051, Level = LogLevel.Debug, Message = "Reminder '{Name}' of {GrainId} registered: first tick {FirstTick:O}, period {Period}")]
    public static partial void ReminderRegistered(ILogger logger, GrainId grainId, string name, DateTimeOffset firstTick, TimeSpan period);

    [LoggerMessage(EventId = 6052, Level = LogLevel.Debug, Message = "Reminder '{Name}' of {GrainId} unregistered")]
    public static partial void ReminderUnregistered(ILogger logger, GrainId grainId, string name);

    [LoggerMessage(EventId = 6053, Level = LogLevel.Warning, Message = "Reminder '{Name}' of {GrainId} failed to tick")]
    public static partial void ReminderTickFailed(ILogger logger, GrainId grainId, string name, Exception exception);

    [LoggerMessage(EventId = 6054, Level = LogLevel.Warning,
        Message = "Reminder '{Name}' of {GrainId} skipped: no registered grain class of that type implements IRemindable")]
    public static partial void ReminderForUnknownGrain(ILogger logger, GrainId grainId, string name);
}
