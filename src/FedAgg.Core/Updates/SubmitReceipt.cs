using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Core.Updates;

/// <summary>
/// The server's answer on <c>/fedagg/submit/1.0.0</c>: <c>SubmitReceipt { uint32 status = 1; string reason = 2;
/// bytes updateId = 3; uint64 sequence = 4; uint64 receivedUnixMs = 5; bytes serverSignature = 6; bytes serverPublicKey = 7; }</c>.
/// Accepted and duplicate receipts carry the server's signature over <see cref="CreateSignedBytes"/>.
/// </summary>
public sealed record SubmitReceipt
{
    /// <summary>The 17 ASCII bytes that start the signed receipt bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "FEDAGG-RECEIPT-V1"u8;

    /// <summary>The longest reason kept (longer reasons are cut when encoding and refused when decoding).</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>An upper bound on an encoded receipt.</summary>
    public const int MaxEncodedLength = 512 + MaxReasonBytes + LibP2pKeyEncoding.MaxEncodedKeyLength;

    /// <summary>The outcome.</summary>
    public required SubmitStatus Status { get; init; }

    /// <summary>Why, for people; empty on acceptance.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The update's ID (32 bytes) when the request could be parsed; empty otherwise.</summary>
    public ReadOnlyMemory<byte> UpdateId { get; init; }

    /// <summary>The update's position in its round's journal (from 1); 0 when not accepted.</summary>
    public ulong Sequence { get; init; }

    /// <summary>When the server accepted the update (Unix milliseconds); 0 when not accepted.</summary>
    public ulong ReceivedUnixMs { get; init; }

    /// <summary>Ed25519 by the server's identity key over <see cref="CreateSignedBytes"/>; empty when not accepted.</summary>
    public ReadOnlyMemory<byte> ServerSignature { get; init; }

    /// <summary>The server's libp2p <c>PublicKey</c> protobuf; empty when not accepted.</summary>
    public ReadOnlyMemory<byte> ServerPublicKey { get; init; }

    /// <summary>Whether the receipt promises the update is stored (accepted now or before).</summary>
    public bool IsStored => Status is SubmitStatus.Accepted or SubmitStatus.Duplicate;

    /// <summary><c>"FEDAGG-RECEIPT-V1" ‖ updateId ‖ u64 sequence ‖ u64 receivedUnixMs</c>, what the server signs.</summary>
    public static byte[] CreateSignedBytes(ReadOnlySpan<byte> updateId, ulong sequence, ulong receivedUnixMs)
    {
        if (updateId.Length != 32)
        {
            throw new ArgumentException("An update ID is 32 bytes.", nameof(updateId));
        }

        var bytes = new byte[17 + 32 + 8 + 8];
        Magic.CopyTo(bytes);
        updateId.CopyTo(bytes.AsSpan(17));
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(49), sequence);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(57), receivedUnixMs);
        return bytes;
    }

    /// <summary>A receipt for a stored update, signed by <paramref name="serverKey"/>.</summary>
    public static SubmitReceipt CreateSigned(
        SubmitStatus status, ReadOnlySpan<byte> updateId, ulong sequence, ulong receivedUnixMs, Ed25519PrivateKey serverKey, string reason = "")
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        if (status is not (SubmitStatus.Accepted or SubmitStatus.Duplicate))
        {
            throw new ArgumentException("Only accepted and duplicate receipts are signed.", nameof(status));
        }

        return new SubmitReceipt
        {
            Status = status,
            Reason = reason,
            UpdateId = updateId.ToArray(),
            Sequence = sequence,
            ReceivedUnixMs = receivedUnixMs,
            ServerSignature = serverKey.Sign(CreateSignedBytes(updateId, sequence, receivedUnixMs)),
            ServerPublicKey = serverKey.PublicKey.ToProtobuf(),
        };
    }

    /// <summary>A rejection (unsigned: it promises nothing).</summary>
    public static SubmitReceipt Reject(SubmitStatus status, string reason, ReadOnlyMemory<byte> updateId = default) =>
        status is SubmitStatus.Accepted or SubmitStatus.Duplicate
            ? throw new ArgumentException("A rejection cannot have an accepting status.", nameof(status))
            : new SubmitReceipt { Status = status, Reason = reason, UpdateId = updateId };

    /// <summary>
    /// Checks the server's signature. With <paramref name="expectedServer"/>, the signing key must also be that peer's.
    /// Returns <c>false</c> for unsigned (rejection) receipts.
    /// </summary>
    public bool VerifyServerSignature(PeerId? expectedServer = null)
    {
        if (!IsStored || UpdateId.Length != 32 || !Ed25519PublicKey.TryFromProtobuf(ServerPublicKey.Span, out var key, out _))
        {
            return false;
        }

        if (expectedServer is not null && !key.PeerId.Equals(expectedServer))
        {
            return false;
        }

        return key.Verify(CreateSignedBytes(UpdateId.Span, Sequence, ReceivedUnixMs), ServerSignature.Span);
    }

    /// <summary>The protobuf encoding (a reason longer than <see cref="MaxReasonBytes"/> is cut at a character boundary).</summary>
    public byte[] Encode()
    {
        var reason = TruncateUtf8(Reason, MaxReasonBytes);
        var size = ProtoWriter.SizeVarint(1, (ulong)Status) + ProtoWriter.SizeBytes(2, reason.Length) + ProtoWriter.SizeBytes(3, UpdateId.Length)
            + ProtoWriter.SizeVarint(4, Sequence) + ProtoWriter.SizeVarint(5, ReceivedUnixMs)
            + ProtoWriter.SizeBytes(6, ServerSignature.Length) + ProtoWriter.SizeBytes(7, ServerPublicKey.Length);
        var bytes = new byte[size];
        var writer = new ProtoWriter(bytes);
        writer.WriteVarint(1, (ulong)Status);
        writer.WriteBytes(2, reason);
        writer.WriteBytes(3, UpdateId.Span);
        writer.WriteVarint(4, Sequence);
        writer.WriteVarint(5, ReceivedUnixMs);
        writer.WriteBytes(6, ServerSignature.Span);
        writer.WriteBytes(7, ServerPublicKey.Span);
        return bytes;
    }

    /// <summary>Decodes a receipt; never throws (unknown fields are skipped, everything else is bounded).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out SubmitReceipt? receipt, [NotNullWhen(false)] out string? error)
    {
        receipt = null;
        if (bytes.Length > MaxEncodedLength)
        {
            error = $"the receipt is {bytes.Length} bytes, more than {MaxEncodedLength}";
            return false;
        }

        var reader = new ProtoReader(bytes);
        ulong status = 0, sequence = 0, received = 0;
        ReadOnlySpan<byte> reason = default, updateId = default, signature = default, publicKey = default;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "the receipt is not a valid protobuf";
                return false;
            }

            var ok = (field, wireType) switch
            {
                (1, ProtoWireType.Varint) => reader.TryReadVarint(out status) && status <= uint.MaxValue,
                (2, ProtoWireType.LengthDelimited) => reader.TryReadBytes(MaxReasonBytes, out reason),
                (3, ProtoWireType.LengthDelimited) => reader.TryReadBytes(32, out updateId),
                (4, ProtoWireType.Varint) => reader.TryReadVarint(out sequence),
                (5, ProtoWireType.Varint) => reader.TryReadVarint(out received),
                (6, ProtoWireType.LengthDelimited) => reader.TryReadBytes(SubmitRequest.MaxSignatureLength, out signature),
                (7, ProtoWireType.LengthDelimited) => reader.TryReadBytes(LibP2pKeyEncoding.MaxEncodedKeyLength, out publicKey),
                ( >= 1 and <= 7, _) => false,
                _ => reader.TrySkip(wireType),
            };
            if (!ok)
            {
                error = $"field {field} of the receipt is of the wrong type, truncated or too long";
                return false;
            }
        }

        string reasonText;
        try
        {
            reasonText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(reason);
        }
        catch (DecoderFallbackException)
        {
            error = "the receipt's reason is not valid UTF-8";
            return false;
        }

        receipt = new SubmitReceipt
        {
            Status = (SubmitStatus)(uint)status,
            Reason = reasonText,
            UpdateId = updateId.ToArray(),
            Sequence = sequence,
            ReceivedUnixMs = received,
            ServerSignature = signature.ToArray(),
            ServerPublicKey = publicKey.ToArray(),
        };
        error = null;
        return true;
    }

    /// <summary>Equal when the encodings are equal.</summary>
    public bool Equals(SubmitReceipt? other) =>
        other is not null && (ReferenceEquals(this, other) || Encode().AsSpan().SequenceEqual(other.Encode()));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Encode());
        return hash.ToHashCode();
    }

    private static byte[] TruncateUtf8(string text, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= maxBytes)
        {
            return bytes;
        }

        var cut = maxBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return bytes[..cut];
    }
}
