using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FedAgg.Storage;

/// <summary>The round journal's record format (described on <see cref="UpdateStore"/>).</summary>
internal static class JournalCodec
{
    public const byte Version = 1;
    public const int LengthPrefixBytes = 4;
    public const int ChecksumBytes = 8;

    // version, sequence, received, payload length, round, update id, payload hash, signature, three length fields.
    private const int FixedBodyBytes = 1 + 8 + 8 + 8 + 8 + UpdateLimits.HashBytes + UpdateLimits.HashBytes + UpdateLimits.SignatureBytes + 1 + 2 + 2;
    public const int MinBodyBytes = FixedBodyBytes + 3;
    public const int MaxBodyBytes = FixedBodyBytes + UpdateLimits.MaxTaskIdBytes + UpdateLimits.MaxSignerPublicKeyBytes + UpdateLimits.MaxPreimageBytes;
    public const int MaxRecordBytes = LengthPrefixBytes + MaxBodyBytes + ChecksumBytes;
    private const int MinRecordBytes = LengthPrefixBytes + MinBodyBytes + ChecksumBytes;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public enum Status
    {
        Valid,
        Incomplete,
        Invalid,
    }

    public static int GetRecordLength(JournalEntry entry) =>
        LengthPrefixBytes + FixedBodyBytes + StrictUtf8.GetByteCount(entry.TaskId) + entry.SignerPublicKey.Length + entry.Preimage.Length + ChecksumBytes;

    /// <summary>Writes <paramref name="entry"/> as the record at <paramref name="fileOffset"/>; returns its length.</summary>
    public static int Write(JournalEntry entry, long fileOffset, Span<byte> destination)
    {
        var length = GetRecordLength(entry);
        var record = destination[..length];
        var body = record[LengthPrefixBytes..^ChecksumBytes];
        BinaryPrimitives.WriteUInt32BigEndian(record, (uint)body.Length);
        body[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(body[1..], entry.Sequence);
        BinaryPrimitives.WriteInt64BigEndian(body[9..], entry.ReceivedUnixMs);
        BinaryPrimitives.WriteInt64BigEndian(body[17..], entry.PayloadLength);
        BinaryPrimitives.WriteUInt64BigEndian(body[25..], entry.Round);
        var rest = body[33..];
        entry.UpdateId.Span.CopyTo(rest);
        entry.PayloadSha256.Span.CopyTo(rest[32..]);
        entry.Signature.Span.CopyTo(rest[64..]);
        rest = rest[128..];
        var taskIdBytes = StrictUtf8.GetBytes(entry.TaskId, rest[1..]);
        rest[0] = (byte)taskIdBytes;
        rest = rest[(1 + taskIdBytes)..];
        BinaryPrimitives.WriteUInt16BigEndian(rest, (ushort)entry.SignerPublicKey.Length);
        entry.SignerPublicKey.Span.CopyTo(rest[2..]);
        rest = rest[(2 + entry.SignerPublicKey.Length)..];
        BinaryPrimitives.WriteUInt16BigEndian(rest, (ushort)entry.Preimage.Length);
        entry.Preimage.Span.CopyTo(rest[2..]);
        Checksum(fileOffset, record[..^ChecksumBytes], record[^ChecksumBytes..]);
        return length;
    }

    /// <summary>Reads the record that starts at <paramref name="source"/>[0], which is at <paramref name="fileOffset"/> in the journal.</summary>
    public static Status TryRead(ReadOnlySpan<byte> source, long fileOffset, out JournalEntry? entry, out int recordLength, out string? problem)
    {
        entry = null;
        recordLength = 0;
        if (source.Length < LengthPrefixBytes)
        {
            problem = $"{source.Length} bytes, too few for a record length";
            return Status.Incomplete;
        }

        var bodyLength = BinaryPrimitives.ReadUInt32BigEndian(source);
        if (bodyLength is < MinBodyBytes or > MaxBodyBytes)
        {
            problem = $"record length {bodyLength} is outside {MinBodyBytes}..{MaxBodyBytes}";
            return Status.Invalid;
        }

        var length = LengthPrefixBytes + (int)bodyLength + ChecksumBytes;
        if (source.Length < length)
        {
            problem = $"the record needs {length} bytes but only {source.Length} remain";
            return Status.Incomplete;
        }

        var record = source[..length];
        Span<byte> checksum = stackalloc byte[ChecksumBytes];
        Checksum(fileOffset, record[..^ChecksumBytes], checksum);
        if (!checksum.SequenceEqual(record[^ChecksumBytes..]))
        {
            problem = "checksum mismatch";
            return Status.Invalid;
        }

        if (!TryDecodeBody(record[LengthPrefixBytes..^ChecksumBytes], out entry, out problem))
        {
            return Status.Invalid;
        }

        recordLength = length;
        return Status.Valid;
    }

    /// <summary>Splits a journal into valid records, damaged regions followed by valid records, and a torn tail.</summary>
    public static JournalScan Scan(ReadOnlySpan<byte> journal)
    {
        var records = new List<(long Offset, JournalEntry Entry)>();
        var damaged = new List<(long Offset, long Length, string Problem)>();
        var position = 0;
        while (position < journal.Length)
        {
            var status = TryRead(journal[position..], position, out var entry, out var length, out var problem);
            if (status == Status.Valid)
            {
                records.Add((position, entry!));
                position += length;
                continue;
            }

            var next = FindNextValid(journal, position + 1);
            if (next < 0)
            {
                return new JournalScan(records, damaged, position, problem!);
            }

            damaged.Add((position, next - position, problem!));
            position = next;
        }

        return new JournalScan(records, damaged, position, null);
    }

    private static int FindNextValid(ReadOnlySpan<byte> journal, int start)
    {
        for (var offset = start; offset <= journal.Length - MinRecordBytes; offset++)
        {
            // Cheap filters first: a plausible length, the version byte, the record fits.
            var bodyLength = BinaryPrimitives.ReadUInt32BigEndian(journal[offset..]);
            if (bodyLength is < MinBodyBytes or > MaxBodyBytes
                || journal[offset + LengthPrefixBytes] != Version
                || journal.Length - offset < LengthPrefixBytes + bodyLength + ChecksumBytes)
            {
                continue;
            }

            if (TryRead(journal[offset..], offset, out _, out _, out _) == Status.Valid)
            {
                return offset;
            }
        }

        return -1;
    }

    private static bool TryDecodeBody(ReadOnlySpan<byte> body, out JournalEntry? entry, out string? problem)
    {
        entry = null;
        if (body[0] != Version)
        {
            problem = $"unknown record version {body[0]}";
            return false;
        }

        var sequence = BinaryPrimitives.ReadUInt64BigEndian(body[1..]);
        var received = BinaryPrimitives.ReadInt64BigEndian(body[9..]);
        var payloadLength = BinaryPrimitives.ReadInt64BigEndian(body[17..]);
        var round = BinaryPrimitives.ReadUInt64BigEndian(body[25..]);
        var fixedFields = body[33..161];
        var rest = body[161..];
        if (sequence == 0 || round == 0 || payloadLength < 0)
        {
            problem = $"sequence {sequence}, round {round} or payload length {payloadLength} out of range";
            return false;
        }

        var taskIdLength = rest[0];
        if (taskIdLength is < 1 or > UpdateLimits.MaxTaskIdBytes || rest.Length < 1 + taskIdLength + 2)
        {
            problem = $"task id length {taskIdLength} out of range";
            return false;
        }

        string taskId;
        try
        {
            taskId = StrictUtf8.GetString(rest.Slice(1, taskIdLength));
        }
        catch (DecoderFallbackException)
        {
            problem = "the task id is not valid UTF-8";
            return false;
        }

        rest = rest[(1 + taskIdLength)..];
        var signerLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        if (signerLength is < 1 or > UpdateLimits.MaxSignerPublicKeyBytes || rest.Length < 2 + signerLength + 2)
        {
            problem = $"signer key length {signerLength} out of range";
            return false;
        }

        var signer = rest.Slice(2, signerLength);
        rest = rest[(2 + signerLength)..];
        var preimageLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        if (preimageLength is < 1 or > UpdateLimits.MaxPreimageBytes || rest.Length != 2 + preimageLength)
        {
            problem = $"preimage length {preimageLength} does not fill the record";
            return false;
        }

        entry = new JournalEntry(
            taskId,
            round,
            sequence,
            fixedFields[..32].ToArray(),
            fixedFields[32..64].ToArray(),
            payloadLength,
            signer.ToArray(),
            rest[2..].ToArray(),
            fixedFields[64..128].ToArray(),
            received);
        problem = null;
        return true;
    }

    private static void Checksum(long fileOffset, ReadOnlySpan<byte> lengthAndBody, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> offset = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(offset, fileOffset);
        hash.AppendData(offset);
        hash.AppendData(lengthAndBody);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        digest[..ChecksumBytes].CopyTo(destination);
    }
}

/// <summary>The result of <see cref="JournalCodec.Scan"/>.</summary>
/// <param name="Records">The valid records with their offsets, in file order.</param>
/// <param name="Damaged">Invalid regions that valid records follow: corruption, kept in the file.</param>
/// <param name="ValidLength">Where the last valid record ends (the file length when there is no torn tail).</param>
/// <param name="TailProblem">Why the bytes from <paramref name="ValidLength"/> on are not a record; null when there are none.</param>
internal sealed record JournalScan(
    IReadOnlyList<(long Offset, JournalEntry Entry)> Records,
    IReadOnlyList<(long Offset, long Length, string Problem)> Damaged,
    long ValidLength,
    string? TailProblem);
