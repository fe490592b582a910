using FedAgg.Core.Updates;
using Microsoft.Extensions.Logging;

namespace FedAgg.Node;

/// <summary>Every log message of FedAgg.Node (event ids 9000–9049: 9000–9019 submission, 9020–9049 checks and claims).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "Update {UpdateId} for round {Round} of '{TaskId}': {Status} (sequence {Sequence}, attempt {Attempt})")]
    public static partial void Submitted(ILogger logger, FedAgg.Core.Merkle.Bytes32 updateId, ulong round, string taskId, SubmitStatus status, ulong sequence, int attempt);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Submitting update {UpdateId} (attempt {Attempt} of {Attempts}) failed; retrying the same signed request in {DelayMs} ms: {Reason}")]
    public static partial void SubmitRetry(ILogger logger, FedAgg.Core.Merkle.Bytes32 updateId, int attempt, int attempts, double delayMs, string reason);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Reconnecting to the server {Server}: {Reason}")]
    public static partial void Reconnecting(ILogger logger, FedAgg.Libp2p.Multiaddress server, string reason);

    [LoggerMessage(EventId = 9020, Level = LogLevel.Information, Message = "Round {Round} of '{TaskId}': own update {UpdateId} included={Included}, anchored={Anchored}")]
    public static partial void InclusionChecked(ILogger logger, ulong round, string taskId, FedAgg.Core.Merkle.Bytes32 updateId, bool included, bool? anchored);

    [LoggerMessage(EventId = 9021, Level = LogLevel.Information, Message = "Claimed {Paid} credits of task '{TaskId}' for {Account} (cumulative {Cumulative}) in {Transaction}")]
    public static partial void Claimed(ILogger logger, string taskId, string account, System.Numerics.BigInteger paid, System.Numerics.BigInteger cumulative, string transaction);
}
