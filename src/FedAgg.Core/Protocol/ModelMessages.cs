using System.Diagnostics.CodeAnalysis;
using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Protocol;

/// <summary>The status of a <see cref="ModelResponse"/>. The codes follow <see cref="SubmitStatus"/> where they mean the same.</summary>
public enum ModelStatus : uint
{
    /// <summary>The model follows.</summary>
    Ok = 0,

    /// <summary>The request cannot be decoded.</summary>
    Malformed = 5,

    /// <summary>The server cannot serve it now; try later.</summary>
    Unavailable = 11,

    /// <summary>There is no such task.</summary>
    UnknownTask = 13,

    /// <summary>The task has no model with the requested hash.</summary>
    UnknownModel = 18,
}

/// <summary>
/// The request of <c>/fedagg/model/1.0.0</c>: <c>ModelRequest { string taskId = 1; bytes modelHash = 2 /* empty = current */ }</c>.
/// </summary>
/// <param name="TaskId">The task.</param>
/// <param name="ModelHash">The model wanted (32 bytes), or empty for the task's current model.</param>
public sealed record ModelRequest(string TaskId, ReadOnlyMemory<byte> ModelHash)
{
    /// <summary>An upper bound on the encoded request.</summary>
    public const int MaxEncodedLength = 2 * (1 + 2) + UpdatePreimage.MaxTaskIdBytes + 32;

    /// <summary>The protobuf encoding.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var taskId = Encoding.UTF8.GetBytes(TaskId);
        var bytes = new byte[ProtoWriter.SizeBytes(1, taskId.Length) + ProtoWriter.SizeBytes(2, ModelHash.Length)];
        var writer = new ProtoWriter(bytes);
        writer.WriteBytes(1, taskId);
        writer.WriteBytes(2, ModelHash.Span);
        return bytes;
    }

    /// <summary>Decodes a request; never throws (unknown fields are skipped; repeated, mistyped or oversized fields are errors).</summary>
    /// <param name="bytes">The encoded request.</param>
    /// <param name="request">The request when it decoded.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>Whether it decoded.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out ModelRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        var reader = new ProtoReader(bytes);
        ReadOnlySpan<byte> taskId = default, modelHash = default;
        bool hasTask = false, hasHash = false;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "the request is not a valid protobuf";
                return false;
            }

            var ok = (field, wireType) switch
            {
                (1, ProtoWireType.LengthDelimited) => !hasTask && (hasTask = reader.TryReadBytes(UpdatePreimage.MaxTaskIdBytes, out taskId)),
                (2, ProtoWireType.LengthDelimited) => !hasHash && (hasHash = reader.TryReadBytes(32, out modelHash)),
                (1 or 2, _) => false,
                _ => reader.TrySkip(wireType),
            };
            if (!ok)
            {
                error = field is 1 or 2 ? $"field {field} of the request is repeated, of the wrong type, truncated or too long" : "the request is not a valid protobuf";
                return false;
            }
        }

        if (taskId.IsEmpty)
        {
            error = "the request names no task";
            return false;
        }

        if (!modelHash.IsEmpty && modelHash.Length != 32)
        {
            error = $"a model hash is 32 bytes, not {modelHash.Length}";
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(taskId);
        }
        catch (DecoderFallbackException)
        {
            error = "the task id is not valid UTF-8";
            return false;
        }

        request = new ModelRequest(text, modelHash.ToArray());
        error = null;
        return true;
    }
}

/// <summary>
/// The answer of <c>/fedagg/model/1.0.0</c>, followed by the model's float32 little-endian payload when
/// <see cref="Status"/> is <see cref="ModelStatus.Ok"/>: <c>ModelResponse { uint32 status = 1; string reason = 2;
/// bytes modelHash = 3; uint64 round = 4; uint64 openRound = 5; uint64 openRoundDeadlineUnixMs = 6; uint32 codec = 7;
/// uint64 numElements = 8; string manifestJson = 9; uint64 chainId = 10; bytes ledger = 11 }</c>.
/// </summary>
public sealed record ModelResponse
{
    /// <summary>The longest manifest JSON sent or accepted (64 MiB).</summary>
    public const int MaxManifestJsonBytes = 64 << 20;

    /// <summary>The longest reason sent or accepted.</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>The outcome.</summary>
    public required ModelStatus Status { get; init; }

    /// <summary>Why, for people; empty when <see cref="ModelStatus.Ok"/>.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The model's hash (32 bytes).</summary>
    public ReadOnlyMemory<byte> ModelHash { get; init; }

    /// <summary>The round that produced the model (0 = the initial model).</summary>
    public ulong Round { get; init; }

    /// <summary>The task's open round (0 when none).</summary>
    public ulong OpenRound { get; init; }

    /// <summary>The open round's deadline (Unix ms; 0 when none).</summary>
    public ulong OpenRoundDeadlineUnixMs { get; init; }

    /// <summary>The codec updates use (the payload that follows is always float32).</summary>
    public PayloadCodec Codec { get; init; }

    /// <summary>The number of float32 values that follow.</summary>
    public ulong NumElements { get; init; }

    /// <summary>The model manifest's JSON (tensor names, shapes, dtype).</summary>
    public string ManifestJson { get; init; } = "";

    /// <summary>The chain updates must name.</summary>
    public ulong ChainId { get; init; }

    /// <summary>The ledger updates must name (20 bytes).</summary>
    public ReadOnlyMemory<byte> Ledger { get; init; }

    /// <summary>The protobuf encoding.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var reason = Encoding.UTF8.GetBytes(Reason);
        if (reason.Length > MaxReasonBytes)
        {
            var cut = MaxReasonBytes;
            while (cut > 0 && (reason[cut] & 0xC0) == 0x80)
            {
                cut--;
            }

            reason = reason[..cut];
        }

        var manifest = Encoding.UTF8.GetBytes(ManifestJson);
        var size = ProtoWriter.SizeVarint(1, (ulong)Status) + ProtoWriter.SizeBytes(2, reason.Length) + ProtoWriter.SizeBytes(3, ModelHash.Length)
            + ProtoWriter.SizeVarint(4, Round) + ProtoWriter.SizeVarint(5, OpenRound) + ProtoWriter.SizeVarint(6, OpenRoundDeadlineUnixMs)
            + ProtoWriter.SizeVarint(7, (ulong)Codec) + ProtoWriter.SizeVarint(8, NumElements) + ProtoWriter.SizeBytes(9, manifest.Length)
            + ProtoWriter.SizeVarint(10, ChainId) + ProtoWriter.SizeBytes(11, Ledger.Length);
        var bytes = new byte[size];
        var writer = new ProtoWriter(bytes);
        writer.WriteVarint(1, (ulong)Status);
        writer.WriteBytes(2, reason);
        writer.WriteBytes(3, ModelHash.Span);
        writer.WriteVarint(4, Round);
        writer.WriteVarint(5, OpenRound);
        writer.WriteVarint(6, OpenRoundDeadlineUnixMs);
        writer.WriteVarint(7, (ulong)Codec);
        writer.WriteVarint(8, NumElements);
        writer.WriteBytes(9, manifest);
        writer.WriteVarint(10, ChainId);
        writer.WriteBytes(11, Ledger.Span);
        return bytes;
    }

    /// <summary>Decodes a response; never throws (unknown fields are skipped; repeated, mistyped or oversized fields are errors).</summary>
    /// <param name="bytes">The encoded response.</param>
    /// <param name="response">The response when it decoded.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>Whether it decoded.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out ModelResponse? response, [NotNullWhen(false)] out string? error)
    {
        response = null;
        var reader = new ProtoReader(bytes);
        var seen = 0;
        ulong status = 0, round = 0, openRound = 0, deadline = 0, codec = 0, numElements = 0, chainId = 0;
        ReadOnlySpan<byte> reason = default, modelHash = default, manifest = default, ledger = default;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "the response is not a valid protobuf";
                return false;
            }

            if (field is >= 1 and <= 11 && (seen & (1 << field)) != 0)
            {
                error = $"field {field} of the response is repeated";
                return false;
            }

            var ok = (field, wireType) switch
            {
                (1, ProtoWireType.Varint) => reader.TryReadVarint(out status) && status <= uint.MaxValue,
                (2, ProtoWireType.LengthDelimited) => reader.TryReadBytes(MaxReasonBytes, out reason),
                (3, ProtoWireType.LengthDelimited) => reader.TryReadBytes(32, out modelHash),
                (4, ProtoWireType.Varint) => reader.TryReadVarint(out round),
                (5, ProtoWireType.Varint) => reader.TryReadVarint(out openRound),
                (6, ProtoWireType.Varint) => reader.TryReadVarint(out deadline),
                (7, ProtoWireType.Varint) => reader.TryReadVarint(out codec) && codec <= byte.MaxValue,
                (8, ProtoWireType.Varint) => reader.TryReadVarint(out numElements),
                (9, ProtoWireType.LengthDelimited) => reader.TryReadBytes(MaxManifestJsonBytes, out manifest),
                (10, ProtoWireType.Varint) => reader.TryReadVarint(out chainId),
                (11, ProtoWireType.LengthDelimited) => reader.TryReadBytes(20, out ledger),
                ( >= 1 and <= 11, _) => false,
                _ => reader.TrySkip(wireType),
            };
            if (!ok)
            {
                error = $"field {field} of the response is of the wrong type, truncated or too long";
                return false;
            }

            if (field is >= 1 and <= 11)
            {
                seen |= 1 << field;
            }
        }

        string reasonText, manifestText;
        try
        {
            var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
            reasonText = strict.GetString(reason);
            manifestText = strict.GetString(manifest);
        }
        catch (DecoderFallbackException)
        {
            error = "a string field of the response is not valid UTF-8";
            return false;
        }

        response = new ModelResponse
        {
            Status = (ModelStatus)(uint)status,
            Reason = reasonText,
            ModelHash = modelHash.ToArray(),
            Round = round,
            OpenRound = openRound,
            OpenRoundDeadlineUnixMs = deadline,
            Codec = (PayloadCodec)(byte)codec,
            NumElements = numElements,
            ManifestJson = manifestText,
            ChainId = chainId,
            Ledger = ledger.ToArray(),
        };
        error = null;
        return true;
    }
}
