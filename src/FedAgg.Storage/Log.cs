using Microsoft.Extensions.Logging;

namespace FedAgg.Storage;

/// <summary>Every log message of FedAgg.Storage (event ids 3000–3149: 3000–3049 update store, 3050–3099 model store, 3100–3149 ingest).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "Update store opened at {Root} ({Mode}): {Tasks} tasks, {Rounds} rounds, {Updates} journalled updates; recovery took {ElapsedMs} ms, {Corruptions} corruption findings")]
    public static partial void UpdateStoreOpened(
        ILogger logger, string root, DurabilityMode mode, int tasks, int rounds, int updates, long elapsedMs, int corruptions);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Recovery removed the temporary file {Path}: an upload that never committed")]
    public static partial void TemporaryFileRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "Recovery removed the payload {Path}: it has no journal record, so it was never acknowledged")]
    public static partial void UnjournaledPayloadRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Recovery truncated the torn tail of {Path} at byte {ValidLength} ({RemovedBytes} bytes removed: {Reason}); the record was never acknowledged")]
    public static partial void JournalTailTruncated(ILogger logger, string path, long validLength, long removedBytes, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error,
        Message = "STORE CORRUPTION ({Kind}) at {Path}: {Reason}")]
    public static partial void Corruption(ILogger logger, CorruptionKind kind, string path, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning,
        Message = "Recovery removed the incomplete task directory {Path}: it has no task.json and no journal records")]
    public static partial void IncompleteTaskRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Recovery ignored the unexpected entry {Path}")]
    public static partial void UnexpectedEntryIgnored(ILogger logger, string path);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Critical,
        Message = "The update store at {Root} stopped accepting commits after an I/O failure; reopen it to recover")]
    public static partial void StoreFaulted(ILogger logger, string root, Exception exception);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug,
        Message = "Committed update {UpdateId} of task {TaskId} round {Round} as sequence {Sequence} ({Bytes} bytes)")]
    public static partial void UpdateCommitted(ILogger logger, string updateId, string taskId, ulong round, ulong sequence, long bytes);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug,
        Message = "Group commit made {Count} updates in {Rounds} rounds durable in {ElapsedMs:F2} ms")]
    public static partial void GroupCommitted(ILogger logger, int count, int rounds, double elapsedMs);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information,
        Message = "Created the storage of task {TaskId} round {Round} at {Path}")]
    public static partial void RoundCreated(ILogger logger, string taskId, ulong round, string path);

    [LoggerMessage(EventId = 3050, Level = LogLevel.Information,
        Message = "Model store opened at {Root}: {Models} models")]
    public static partial void ModelStoreOpened(ILogger logger, string root, int models);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Information,
        Message = "Stored model 0x{ModelHash} ({Bytes} payload bytes, {Tensors} tensors)")]
    public static partial void ModelStored(ILogger logger, string modelHash, long bytes, int tensors);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Debug,
        Message = "Model 0x{ModelHash} is already stored; the new copy was discarded")]
    public static partial void ModelAlreadyStored(ILogger logger, string modelHash);

    [LoggerMessage(EventId = 3053, Level = LogLevel.Information,
        Message = "Removed the temporary model file {Path}: a write that never completed")]
    public static partial void ModelTemporaryFileRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 3054, Level = LogLevel.Error,
        Message = "MODEL CORRUPTION at {Path}: {Reason}")]
    public static partial void ModelCorrupt(ILogger logger, string path, string reason);
}
