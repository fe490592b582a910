using System.Diagnostics.CodeAnalysis;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Protocol;

/// <summary>
/// The status of a <see cref="RoundResponse"/>, <see cref="BindResponse"/> or <see cref="AdminResponse"/>
/// (docs/PROTOCOL.md). Codes shared with <see cref="SubmitStatus"/> mean the same.
/// </summary>
public enum ServiceStatus : uint
{
    /// <summary>Done; the result follows.</summary>
    Ok = 0,

    /// <summary>A signature does not verify.</summary>
    BadSignature = 2,

    /// <summary>The peer may not do this (admin: it is not a coordinator).</summary>
    NotAdmitted = 4,

    /// <summary>The request cannot be decoded, or is over its limit.</summary>
    Malformed = 5,

    /// <summary>The server cannot answer now; retry later.</summary>
    Unavailable = 11,

    /// <summary>There is no such task.</summary>
    UnknownTask = 13,

    /// <summary>The chain id or ledger is not the server's.</summary>
    WrongChain = 16,

    /// <summary>The round has no published manifest (not closed yet, or never opened).</summary>
    UnknownRound = 19,

    /// <summary>An admin command was understood but refused (bad arguments, or the task's state does not allow it); the reason says why.</summary>
    Refused = 20,

    /// <summary>No such admin command.</summary>
    UnknownCommand = 21,

    /// <summary>The artifact is not available (not in a published round, or not stored).</summary>
    NotFound = 22,
}

/// <summary>What an <see cref="ArtifactRequest"/> asks for.</summary>
public enum ArtifactKind : uint
{
    /// <summary>An update's payload, as received (id = updateId).</summary>
    UpdatePayload = 1,

    /// <summary>An outer optimizer state, the safetensors file as stored (id = optimizerStateHash).</summary>
    OptimizerState = 2,
}

/// <summary>
/// <c>ArtifactRequest { string taskId = 1; uint64 round = 2; uint32 kind = 3; bytes id = 4 }</c> of
/// <c>/fedagg/artifact/1.0.0</c>: the bytes a verifier needs besides the manifest and the models.
/// </summary>
/// <param name="TaskId">The task.</param>
/// <param name="Round">The published round the artifact belongs to.</param>
/// <param name="Kind">What is asked for.</param>
/// <param name="Id">The update id or state hash (32 bytes).</param>
public sealed record ArtifactRequest(string TaskId, ulong Round, ArtifactKind Kind, ReadOnlyMemory<byte> Id)
{
    /// <summary>The most bytes a request may have.</summary>
    public const int MaxEncodedLength = 256;

    private static readonly ProtoField[] Schema =
        [ProtoField.Bytes(1, "taskId", UpdatePreimage.MaxTaskIdBytes), ProtoField.Varint(2, "round"), ProtoField.Varint(3, "kind"), ProtoField.Bytes(4, "id", 32)];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().String(1, TaskId).Varint(2, Round).Varint(3, (uint)Kind).Bytes(4, Id.Span).ToArray();

    /// <summary>Decodes a request; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out ArtifactRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!ProtoFields.TryDecode(bytes, "ArtifactRequest", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(1, out var taskId) || taskId.Length == 0 || fields.Bytes(4).Length != 32
            || fields.Varint(3) is not ((ulong)ArtifactKind.UpdatePayload or (ulong)ArtifactKind.OptimizerState))
        {
            error = "taskId, a known kind (1 or 2) and a 32-byte id are required";
            return false;
        }

        request = new ArtifactRequest(taskId, fields.Varint(2), (ArtifactKind)fields.Varint(3), fields.Bytes(4));
        return true;
    }
}

/// <summary><c>ArtifactResponse { uint32 status = 1; string reason = 2; uint64 length = 3 }</c>, then (status 0) <c>length</c> raw bytes.</summary>
/// <param name="Status">The status.</param>
/// <param name="Reason">Why, when not ok.</param>
/// <param name="Length">The artifact's length.</param>
public sealed record ArtifactResponse(ServiceStatus Status, string Reason, ulong Length)
{
    /// <summary>The most bytes a response header may have.</summary>
    public const int MaxEncodedLength = 32 + SubmitReceipt.MaxReasonBytes;

    private static readonly ProtoField[] Schema =
        [ProtoField.Varint(1, "status"), ProtoField.Bytes(2, "reason", SubmitReceipt.MaxReasonBytes), ProtoField.Varint(3, "length")];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().Varint(1, (uint)Status).String(2, Reason).Varint(3, Length).ToArray();

    /// <summary>Decodes a response; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out ArtifactResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        if (!ProtoFields.TryDecode(bytes, "ArtifactResponse", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(2, out var reason) || fields.Varint(1) > uint.MaxValue)
        {
            error = "the ArtifactResponse has an invalid reason or status";
            return false;
        }

        response = new ArtifactResponse((ServiceStatus)fields.Varint(1), reason, fields.Varint(3));
        return true;
    }
}

/// <summary><c>RoundRequest { string taskId = 1; uint64 round = 2 /* 0 = the latest published */ }</c> of <c>/fedagg/round/1.0.0</c>.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Round">The round, or 0 for the latest published one.</param>
public sealed record RoundRequest(string TaskId, ulong Round)
{
    /// <summary>The most bytes a request may have.</summary>
    public const int MaxEncodedLength = 256;

    private static readonly ProtoField[] Schema = [ProtoField.Bytes(1, "taskId", UpdatePreimage.MaxTaskIdBytes), ProtoField.Varint(2, "round")];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().String(1, TaskId).Varint(2, Round).ToArray();

    /// <summary>Decodes a request; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out RoundRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!ProtoFields.TryDecode(bytes, "RoundRequest", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(1, out var taskId) || taskId.Length == 0)
        {
            error = "taskId is missing or not UTF-8";
            return false;
        }

        request = new RoundRequest(taskId, fields.Varint(2));
        return true;
    }
}

/// <summary>
/// <c>RoundResponse { uint32 status = 1; string reason = 2; uint64 round = 3; uint64 latestPublishedRound = 4; uint64 openRound = 5; uint64 manifestLength = 6 }</c>,
/// followed (status 0 only) by <see cref="ManifestLength"/> bytes of the round's manifest JSON.
/// </summary>
public sealed record RoundResponse
{
    /// <summary>The most bytes a response header may have.</summary>
    public const int MaxEncodedLength = 64 + SubmitReceipt.MaxReasonBytes;

    /// <summary>The largest manifest a reader accepts (docs/PROTOCOL.md, "Round manifest").</summary>
    public const long MaxManifestLength = 256L << 20;

    private static readonly ProtoField[] Schema =
    [
        ProtoField.Varint(1, "status"), ProtoField.Bytes(2, "reason", SubmitReceipt.MaxReasonBytes), ProtoField.Varint(3, "round"),
        ProtoField.Varint(4, "latestPublishedRound"), ProtoField.Varint(5, "openRound"), ProtoField.Varint(6, "manifestLength"),
    ];

    /// <summary>The status.</summary>
    public required ServiceStatus Status { get; init; }

    /// <summary>Why, when not <see cref="ServiceStatus.Ok"/>.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The round the manifest is of.</summary>
    public ulong Round { get; init; }

    /// <summary>The task's latest published round (0: none yet).</summary>
    public ulong LatestPublishedRound { get; init; }

    /// <summary>The task's open round (0: none).</summary>
    public ulong OpenRound { get; init; }

    /// <summary>The manifest's length in bytes (status 0).</summary>
    public ulong ManifestLength { get; init; }

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder()
        .Varint(1, (uint)Status).String(2, Reason).Varint(3, Round).Varint(4, LatestPublishedRound).Varint(5, OpenRound).Varint(6, ManifestLength).ToArray();

    /// <summary>Decodes a response; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out RoundResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        if (!ProtoFields.TryDecode(bytes, "RoundResponse", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(2, out var reason) || fields.Varint(1) > uint.MaxValue || fields.Varint(6) > MaxManifestLength)
        {
            error = "the RoundResponse has an invalid reason, status or manifest length";
            return false;
        }

        response = new RoundResponse
        {
            Status = (ServiceStatus)fields.Varint(1),
            Reason = reason,
            Round = fields.Varint(3),
            LatestPublishedRound = fields.Varint(4),
            OpenRound = fields.Varint(5),
            ManifestLength = fields.Varint(6),
        };
        return true;
    }
}

/// <summary>
/// <c>BindRequest { uint64 chainId = 1; bytes ledger = 2; bytes address = 3; bytes signature = 4 }</c> of
/// <c>/fedagg/bind/1.0.0</c>: the connection's peer binds an Ethereum address for its credits (see <see cref="AddressBinding"/>).
/// </summary>
/// <param name="ChainId">The chain.</param>
/// <param name="Ledger">The ledger (20 bytes).</param>
/// <param name="Address">The address (20 bytes).</param>
/// <param name="Signature">The peer's Ed25519 signature over the 62 binding bytes (64 bytes).</param>
public sealed record BindRequest(ulong ChainId, ReadOnlyMemory<byte> Ledger, ReadOnlyMemory<byte> Address, ReadOnlyMemory<byte> Signature)
{
    /// <summary>The most bytes a request may have.</summary>
    public const int MaxEncodedLength = 128;

    private static readonly ProtoField[] Schema =
        [ProtoField.Varint(1, "chainId"), ProtoField.Bytes(2, "ledger", 20), ProtoField.Bytes(3, "address", 20), ProtoField.Bytes(4, "signature", 64)];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().Varint(1, ChainId).Bytes(2, Ledger.Span).Bytes(3, Address.Span).Bytes(4, Signature.Span).ToArray();

    /// <summary>Decodes a request; never throws. Ledger and address must be 20 bytes, the signature 64.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out BindRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!ProtoFields.TryDecode(bytes, "BindRequest", Schema, out var fields, out error))
        {
            return false;
        }

        if (fields.Bytes(2).Length != 20 || fields.Bytes(3).Length != 20 || fields.Bytes(4).Length != 64)
        {
            error = "ledger and address must be 20 bytes and the signature 64";
            return false;
        }

        request = new BindRequest(fields.Varint(1), fields.Bytes(2), fields.Bytes(3), fields.Bytes(4));
        return true;
    }
}

/// <summary><c>BindResponse { uint32 status = 1; string reason = 2 }</c>, or <c>AdminResponse</c> without its result.</summary>
public sealed record BindResponse(ServiceStatus Status, string Reason)
{
    /// <summary>The most bytes a response may have.</summary>
    public const int MaxEncodedLength = 16 + SubmitReceipt.MaxReasonBytes;

    private static readonly ProtoField[] Schema = [ProtoField.Varint(1, "status"), ProtoField.Bytes(2, "reason", SubmitReceipt.MaxReasonBytes)];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().Varint(1, (uint)Status).String(2, Reason).ToArray();

    /// <summary>Decodes a response; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out BindResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        if (!ProtoFields.TryDecode(bytes, "BindResponse", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(2, out var reason) || fields.Varint(1) > uint.MaxValue)
        {
            error = "the BindResponse has an invalid reason or status";
            return false;
        }

        response = new BindResponse((ServiceStatus)fields.Varint(1), reason);
        return true;
    }
}

/// <summary><c>AdminRequest { string command = 1; string argumentsJson = 2 }</c> of <c>/fedagg/admin/1.0.0</c>.</summary>
/// <param name="Command">The command, e.g. <c>round.close</c>.</param>
/// <param name="ArgumentsJson">Its arguments as a JSON object.</param>
public sealed record AdminRequest(string Command, string ArgumentsJson)
{
    /// <summary>The most bytes a request may have (a task's settings fit).</summary>
    public const int MaxEncodedLength = 1 << 20;

    private static readonly ProtoField[] Schema = [ProtoField.Bytes(1, "command", 64), ProtoField.Bytes(2, "argumentsJson", MaxEncodedLength)];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().String(1, Command).String(2, ArgumentsJson).ToArray();

    /// <summary>Decodes a request; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out AdminRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!ProtoFields.TryDecode(bytes, "AdminRequest", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(1, out var command) || command.Length == 0 || !fields.TryString(2, out var arguments))
        {
            error = "command is missing, or a field is not UTF-8";
            return false;
        }

        request = new AdminRequest(command, arguments.Length == 0 ? "{}" : arguments);
        return true;
    }
}

/// <summary><c>AdminResponse { uint32 status = 1; string reason = 2; string resultJson = 3 }</c>.</summary>
/// <param name="Status">The status.</param>
/// <param name="Reason">Why, when not ok.</param>
/// <param name="ResultJson">The result as JSON (status 0).</param>
public sealed record AdminResponse(ServiceStatus Status, string Reason, string ResultJson)
{
    /// <summary>The most bytes a response may have.</summary>
    public const int MaxEncodedLength = 16 << 20;

    private static readonly ProtoField[] Schema =
        [ProtoField.Varint(1, "status"), ProtoField.Bytes(2, "reason", SubmitReceipt.MaxReasonBytes), ProtoField.Bytes(3, "resultJson", MaxEncodedLength)];

    /// <summary>The protobuf encoding.</summary>
    public byte[] Encode() => new ProtoBuilder().Varint(1, (uint)Status).String(2, Reason).String(3, ResultJson).ToArray();

    /// <summary>Decodes a response; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out AdminResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        if (!ProtoFields.TryDecode(bytes, "AdminResponse", Schema, out var fields, out error))
        {
            return false;
        }

        if (!fields.TryString(2, out var reason) || !fields.TryString(3, out var result) || fields.Varint(1) > uint.MaxValue)
        {
            error = "the AdminResponse has an invalid status, or a field is not UTF-8";
            return false;
        }

        response = new AdminResponse((ServiceStatus)fields.Varint(1), reason, result);
        return true;
    }
}
