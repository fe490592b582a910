using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace FedAgg.Core.Updates;

/// <summary>
/// The bytes a participant signs for one update (docs/PROTOCOL.md, "Signed update preimage"): fixed-width big-endian
/// fields, the task ID with a u16 length. <c>updateId = SHA-256(preimage)</c>.
/// </summary>
public sealed record UpdatePreimage
{
    /// <summary>The 16 ASCII bytes every preimage starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "FEDAGG-UPDATE-V1"u8;

    /// <summary>The longest task ID in UTF-8 bytes.</summary>
    public const int MaxTaskIdBytes = 128;

    /// <summary>The size of everything but the task ID's bytes.</summary>
    public const int FixedLength = 16 + 8 + 20 + 2 + 8 + 32 + 1 + 8 + 32 + 8 + 16 + 8;

    /// <summary>The longest possible preimage.</summary>
    public const int MaxLength = FixedLength + MaxTaskIdBytes;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The chain ID (0 when the server runs without a chain).</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The ledger contract address (20 bytes; zeros without a chain).</summary>
    public required ReadOnlyMemory<byte> Ledger { get; init; }

    /// <summary>The task, 1 to 128 UTF-8 bytes.</summary>
    public required string TaskId { get; init; }

    /// <summary>The round, from 1.</summary>
    public required ulong Round { get; init; }

    /// <summary>The model hash the update was computed from (32 bytes).</summary>
    public required ReadOnlyMemory<byte> BaseModelHash { get; init; }

    /// <summary>The payload's element encoding.</summary>
    public required PayloadCodec Codec { get; init; }

    /// <summary>The number of elements in the payload.</summary>
    public required ulong NumElements { get; init; }

    /// <summary>SHA-256 of the payload bytes exactly as sent (32 bytes).</summary>
    public required ReadOnlyMemory<byte> PayloadSha256 { get; init; }

    /// <summary>Local samples trained on; informational (robust rules do not weight by it).</summary>
    public ulong NumSamples { get; init; }

    /// <summary>16 random bytes so two otherwise equal updates have different IDs.</summary>
    public required ReadOnlyMemory<byte> Nonce { get; init; }

    /// <summary>After this instant (Unix milliseconds) the server rejects the update as expired.</summary>
    public required ulong ExpiresUnixMs { get; init; }

    /// <summary>The payload's size in bytes, or <c>null</c> when it does not fit in a <see cref="long"/>.</summary>
    public long? PayloadLength =>
        NumElements <= (ulong)(long.MaxValue / Codec.ElementSize()) ? (long)NumElements * Codec.ElementSize() : null;

    /// <summary>The encoded length of this preimage.</summary>
    public int GetEncodedLength() => FixedLength + Encoding.UTF8.GetByteCount(TaskId);

    /// <summary>Encodes the preimage.</summary>
    /// <exception cref="ArgumentException">A field is out of range (task ID length, hash or address sizes, codec, round 0).</exception>
    public byte[] Encode()
    {
        var bytes = new byte[GetEncodedLength()];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Encodes the preimage into <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">A field is out of range, or <paramref name="destination"/> is too short.</exception>
    public int Encode(Span<byte> destination)
    {
        var taskIdLength = Encoding.UTF8.GetByteCount(TaskId);
        if (taskIdLength is 0 or > MaxTaskIdBytes)
        {
            throw new ArgumentException($"The task ID must be 1 to {MaxTaskIdBytes} UTF-8 bytes, not {taskIdLength}.");
        }

        RequireLength(Ledger, 20, nameof(Ledger));
        RequireLength(BaseModelHash, 32, nameof(BaseModelHash));
        RequireLength(PayloadSha256, 32, nameof(PayloadSha256));
        RequireLength(Nonce, 16, nameof(Nonce));
        if (!Codec.IsDefined())
        {
            throw new ArgumentException($"Unknown payload codec {(byte)Codec}.");
        }

        if (Round == 0)
        {
            throw new ArgumentException("Rounds count from 1.");
        }

        var length = FixedLength + taskIdLength;
        if (destination.Length < length)
        {
            throw new ArgumentException("The destination is too short for the preimage.", nameof(destination));
        }

        var span = destination;
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt64BigEndian(span[16..], ChainId);
        Ledger.Span.CopyTo(span[24..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[44..], (ushort)taskIdLength);
        Encoding.UTF8.GetBytes(TaskId, span[46..]);
        var at = 46 + taskIdLength;
        BinaryPrimitives.WriteUInt64BigEndian(span[at..], Round);
        BaseModelHash.Span.CopyTo(span[(at + 8)..]);
        span[at + 40] = (byte)Codec;
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 41)..], NumElements);
        PayloadSha256.Span.CopyTo(span[(at + 49)..]);
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 81)..], NumSamples);
        Nonce.Span.CopyTo(span[(at + 89)..]);
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 105)..], ExpiresUnixMs);
        return length;
    }

    /// <summary>
    /// Parses a preimage. Never throws: any deviation (wrong magic, bad task ID length or UTF-8, unknown codec, round 0,
    /// truncation, trailing bytes) returns <c>false</c> with a reason fit for a rejection message.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out UpdatePreimage? preimage, [NotNullWhen(false)] out string? error)
    {
        preimage = null;
        if (bytes.Length < FixedLength + 1)
        {
            error = $"the preimage is {bytes.Length} bytes, shorter than the smallest possible ({FixedLength + 1})";
            return false;
        }

        if (bytes.Length > MaxLength)
        {
            error = $"the preimage is {bytes.Length} bytes, longer than the largest possible ({MaxLength})";
            return false;
        }

        if (!bytes[..16].SequenceEqual(Magic))
        {
            error = "the preimage does not start with FEDAGG-UPDATE-V1";
            return false;
        }

        int taskIdLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[44..]);
        if (taskIdLength is 0 or > MaxTaskIdBytes)
        {
            error = $"the task ID length {taskIdLength} is outside 1..{MaxTaskIdBytes}";
            return false;
        }

        if (bytes.Length != FixedLength + taskIdLength)
        {
            error = $"the preimage is {bytes.Length} bytes but its task ID length says {FixedLength + taskIdLength}";
            return false;
        }

        string taskId;
        try
        {
            taskId = StrictUtf8.GetString(bytes.Slice(46, taskIdLength));
        }
        catch (DecoderFallbackException)
        {
            error = "the task ID is not valid UTF-8";
            return false;
        }

        var at = 46 + taskIdLength;
        var round = BinaryPrimitives.ReadUInt64BigEndian(bytes[at..]);
        var codec = (PayloadCodec)bytes[at + 40];
        if (round == 0)
        {
            error = "round 0 does not exist (rounds count from 1)";
            return false;
        }

        if (!codec.IsDefined())
        {
            error = $"unknown payload codec {bytes[at + 40]}";
            return false;
        }

        preimage = new UpdatePreimage
        {
            ChainId = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            Ledger = bytes.Slice(24, 20).ToArray(),
            TaskId = taskId,
            Round = round,
            BaseModelHash = bytes.Slice(at + 8, 32).ToArray(),
            Codec = codec,
            NumElements = BinaryPrimitives.ReadUInt64BigEndian(bytes[(at + 41)..]),
            PayloadSha256 = bytes.Slice(at + 49, 32).ToArray(),
            NumSamples = BinaryPrimitives.ReadUInt64BigEndian(bytes[(at + 81)..]),
            Nonce = bytes.Slice(at + 89, 16).ToArray(),
            ExpiresUnixMs = BinaryPrimitives.ReadUInt64BigEndian(bytes[(at + 105)..]),
        };
        error = null;
        return true;
    }

    /// <summary><c>SHA-256(preimage)</c> of encoded preimage bytes.</summary>
    public static byte[] ComputeUpdateId(ReadOnlySpan<byte> encodedPreimage) => SHA256.HashData(encodedPreimage);

    /// <summary>Two preimages are equal when they encode to the same bytes.</summary>
    public bool Equals(UpdatePreimage? other) =>
        other is not null && (ReferenceEquals(this, other) || Encode().AsSpan().SequenceEqual(other.Encode()));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Encode());
        return hash.ToHashCode();
    }

    private static void RequireLength(ReadOnlyMemory<byte> value, int length, string name)
    {
        if (value.Length != length)
        {
            throw new ArgumentException($"{name} must be {length} bytes, not {value.Length}.");
        }
    }
}
