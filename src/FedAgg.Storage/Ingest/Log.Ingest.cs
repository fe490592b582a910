using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using Microsoft.Extensions.Logging;

namespace FedAgg.Storage;

// The ingest pipeline's part of the project's one Log class (event ids 3100–3149).
internal static partial class Log
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information,
        Message = "Accepted update {UpdateId} from {PeerId}: task {TaskId} round {Round}, sequence {Sequence}, {Bytes} bytes")]
    public static partial void UpdateAccepted(ILogger logger, string updateId, PeerId peerId, string taskId, ulong round, ulong sequence, long bytes);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information,
        Message = "Rejected update {UpdateId} from {PeerId}: status {Code} ({Status}): {Reason}")]
    public static partial void UpdateRejected(ILogger logger, string updateId, PeerId peerId, uint code, SubmitStatus status, string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error,
        Message = "Could not store update {UpdateId}; the peer is told to try later")]
    public static partial void IngestStorageFailed(ILogger logger, string updateId, Exception exception);
}
