using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server;

/// <summary>
/// Every log message of FedAgg.Server (event ids 7000–7199: 7000–7049 host, 7050–7099 grains, 7100–7149 submit
/// protocol, 7150–7199 model protocol).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "FedAgg server {PeerId} listening on {Addresses}; data in {DataDirectory}")]
    public static partial void ServerStarted(ILogger logger, PeerId peerId, IReadOnlyList<Libp2p.Multiaddress> addresses, string dataDirectory);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "FedAgg server {PeerId} stopped")]
    public static partial void ServerStopped(ILogger logger, PeerId peerId);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Created the server identity key {Path} ({PeerId})")]
    public static partial void IdentityCreated(ILogger logger, string path, PeerId peerId);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Identity key file {Path}: {Warning}")]
    public static partial void IdentityWarning(ILogger logger, string path, string warning);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Checked {Rounds} rounds against the update store's journals (rounds that lacked receipted updates logged event 7055)")]
    public static partial void Reconciled(ILogger logger, int rounds);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "The update store reported corruption at start: {Finding}")]
    public static partial void StoreCorruption(ILogger logger, string finding);

    [LoggerMessage(EventId = 7050, Level = LogLevel.Information, Message = "Task {TaskId} created: settings {SettingsHash}, initial model {ModelHash}, admission {Admission}")]
    public static partial void TaskCreated(ILogger logger, string taskId, string settingsHash, string modelHash, Core.Rounds.AdmissionPolicy admission);

    [LoggerMessage(EventId = 7051, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} opened from model {BaseModelHash}; deadline {DeadlineUnixMs}, at most {MaxParticipants} participants")]
    public static partial void RoundOpened(ILogger logger, string taskId, ulong round, string baseModelHash, long deadlineUnixMs, int maxParticipants);

    [LoggerMessage(EventId = 7052, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} is closing ({Reason}); {Pending} uploads still in flight")]
    public static partial void RoundClosing(ILogger logger, string taskId, ulong round, string reason, int pending);

    [LoggerMessage(EventId = 7053, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} closed ({Reason}) with {Accepted} accepted updates")]
    public static partial void RoundClosed(ILogger logger, string taskId, ulong round, string reason, int accepted);

    [LoggerMessage(EventId = 7054, Level = LogLevel.Warning, Message = "Round {Round} of task {TaskId} recorded update {UpdateId} of {PeerId} while {Phase}: it was receipted, so it stays in the round")]
    public static partial void LateUpdateRecorded(ILogger logger, string taskId, ulong round, string updateId, string peerId, RoundPhase phase);

    [LoggerMessage(EventId = 7055, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId}: {Count} receipted updates read from the store's journal")]
    public static partial void RoundReconciled(ILogger logger, string taskId, ulong round, int count);

    [LoggerMessage(EventId = 7057, Level = LogLevel.Information, Message = "Participant {Participant} banned from task {TaskId} (* = every task): {Reason}")]
    public static partial void ParticipantBanned(ILogger logger, FedAgg.Grains.Runtime.GrainId participant, string taskId, string reason);

    [LoggerMessage(EventId = 7058, Level = LogLevel.Information, Message = "Participant {PeerId} bound address {Address} on chain {ChainId}")]
    public static partial void AddressBound(ILogger logger, PeerId peerId, string address, ulong chainId);

    [LoggerMessage(EventId = 7059, Level = LogLevel.Error, Message = "The close handler of round {Round} of task {TaskId} failed; it runs again when the round activates")]
    public static partial void CloseHandlerFailed(ILogger logger, string taskId, ulong round, Exception exception);

    [LoggerMessage(EventId = 7060, Level = LogLevel.Information, Message = "Task {TaskId}: model {ModelHash} of round {Round} is now current")]
    public static partial void ModelRecorded(ILogger logger, string taskId, string modelHash, ulong round);

    [LoggerMessage(EventId = 7100, Level = LogLevel.Debug, Message = "Submit stream from {PeerId} ended before a request: {Reason}")]
    public static partial void SubmitNoRequest(ILogger logger, PeerId peerId, string reason);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Submit stream from {PeerId}: status {Code} ({Status}) for update {UpdateId}")]
    public static partial void SubmitAnswered(ILogger logger, PeerId peerId, uint code, SubmitStatus status, string updateId);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Error, Message = "Update {UpdateId} is durable but could not be recorded in round {Round} of task {TaskId}; it will be reconciled from the store's journal")]
    public static partial void RecordFailed(ILogger logger, string updateId, string taskId, ulong round, Exception exception);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "Submit stream from {PeerId} failed: {Reason}")]
    public static partial void SubmitStreamFailed(ILogger logger, PeerId peerId, string reason);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Information, Message = "The receipt for {PeerId} could not be sent: {Reason}")]
    public static partial void ReceiptNotSent(ILogger logger, PeerId peerId, string reason);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Error, Message = "Submission of update {UpdateId} from {PeerId} failed inside the server")]
    public static partial void SubmitFailed(ILogger logger, string updateId, PeerId peerId, Exception exception);

    [LoggerMessage(EventId = 7150, Level = LogLevel.Information, Message = "Model stream from {PeerId}: status {Status} for task {TaskId}, {Bytes} payload bytes sent")]
    public static partial void ModelServed(ILogger logger, PeerId peerId, ModelStatus status, string taskId, long bytes);

    [LoggerMessage(EventId = 7151, Level = LogLevel.Information, Message = "Model stream from {PeerId} failed: {Reason}")]
    public static partial void ModelStreamFailed(ILogger logger, PeerId peerId, string reason);

    [LoggerMessage(EventId = 7160, Level = LogLevel.Information, Message = "Task {TaskId} registered on the ledger in {TransactionHash}")]
    public static partial void TaskRegistered(ILogger logger, string taskId, Core.Merkle.Bytes32 transactionHash);

    [LoggerMessage(EventId = 7161, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} anchored in {TransactionHash} ({Gas} gas)")]
    public static partial void RoundAnchored(ILogger logger, string taskId, ulong round, Core.Merkle.Bytes32 transactionHash, ulong gas);

    [LoggerMessage(EventId = 7162, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} was already anchored in {TransactionHash}; nothing sent")]
    public static partial void RoundAlreadyAnchored(ILogger logger, string taskId, ulong round, Core.Merkle.Bytes32 transactionHash);

    [LoggerMessage(EventId = 7170, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId}: aggregated {Accepted} updates with {Rule} in {Seconds:F3} s; model {ModelHash}")]
    public static partial void RoundAggregated(ILogger logger, string taskId, ulong round, int accepted, string rule, double seconds, Core.Merkle.Bytes32 modelHash);

    [LoggerMessage(EventId = 7171, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} published: manifest {Path}")]
    public static partial void RoundPublished(ILogger logger, string taskId, ulong round, string path);

    [LoggerMessage(EventId = 7172, Level = LogLevel.Error, Message = "Round {Round} of task {TaskId} could not be finalized (attempt {Attempt}); retrying in {Delay}")]
    public static partial void FinalizeFailed(ILogger logger, string taskId, ulong round, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 7173, Level = LogLevel.Critical, Message = "Crash point {Point} reached: the process kills itself (FEDAGG_TEST_CRASH_AT, tests only)")]
    public static partial void CrashPoint(ILogger logger, string point);

    [LoggerMessage(EventId = 7174, Level = LogLevel.Information, Message = "Round {Round} of task {TaskId} queued for finalization ({Why})")]
    public static partial void FinalizeQueued(ILogger logger, string taskId, ulong round, string why);

    [LoggerMessage(EventId = 7180, Level = LogLevel.Information, Message = "Admin {Command} from coordinator {PeerId}: status {Status}")]
    public static partial void AdminCommand(ILogger logger, string command, PeerId peerId, uint status);

    [LoggerMessage(EventId = 7181, Level = LogLevel.Warning, Message = "Admin {Command} refused: {PeerId} is not a coordinator")]
    public static partial void AdminRefused(ILogger logger, string command, PeerId peerId);

    [LoggerMessage(EventId = 7182, Level = LogLevel.Information, Message = "Round stream from {PeerId}: status {Status} for round {Round} of task {TaskId}")]
    public static partial void RoundServed(ILogger logger, PeerId peerId, uint status, ulong round, string taskId);

    [LoggerMessage(EventId = 7183, Level = LogLevel.Information, Message = "Bind from {PeerId}: status {Status} for address {Address}")]
    public static partial void BindAnswered(ILogger logger, PeerId peerId, uint status, string address);

    [LoggerMessage(EventId = 7061, Level = LogLevel.Warning, Message = "Round {Round} of task {TaskId} reached its deadline with {Accepted} of at least {Minimum} updates; the deadline moves to {DeadlineUnixMs}")]
    public static partial void DeadlineExtended(ILogger logger, string taskId, ulong round, int accepted, int minimum, long deadlineUnixMs);
}
