using System.Buffers.Binary;

namespace FedAgg.Storage.Tests;

public sealed class JournalCodecTests
{
    private static readonly JournalEntry Entry = new(
        "täsk",
        7,
        3,
        Bytes(32, 1),
        Bytes(32, 2),
        123_456_789_012,
        Bytes(36, 3),
        Bytes(300, 4),
        Bytes(64, 5),
        1_700_000_000_123);

    [Fact]
    public void Write_ThenTryRead_RoundTripsEveryField()
    {
        var buffer = new byte[JournalCodec.MaxRecordBytes];

        var length = JournalCodec.Write(Entry, 4096, buffer);
        var status = JournalCodec.TryRead(buffer.AsSpan(0, length), 4096, out var read, out var consumed, out var problem);

        Assert.Equal(JournalCodec.Status.Valid, status);
        Assert.Null(problem);
        Assert.Equal(length, consumed);
        Assert.Equal(JournalCodec.GetRecordLength(Entry), length);
        Assert.Equal(4 + 1 + 8 + 8 + 8 + 8 + 32 + 32 + 64 + 1 + 5 + 2 + 36 + 2 + 300 + 8, length);
        Assert.Equal(Entry, read);
        Assert.Equal((uint)(length - 12), BinaryPrimitives.ReadUInt32BigEndian(buffer));
        Assert.Equal(JournalCodec.Version, buffer[4]);
    }

    [Fact]
    public void TryRead_EveryProperPrefix_Incomplete()
    {
        var record = Record(Entry, 0);

        for (var n = 0; n < record.Length; n++)
        {
            Assert.Equal(JournalCodec.Status.Incomplete, JournalCodec.TryRead(record.AsSpan(0, n), 0, out _, out _, out _));
        }
    }

    [Fact]
    public void TryRead_EverySingleByteFlip_NotValid()
    {
        var record = Record(Entry, 0);

        for (var i = 0; i < record.Length; i++)
        {
            record[i] ^= 0x5A;
            Assert.NotEqual(JournalCodec.Status.Valid, JournalCodec.TryRead(record, 0, out _, out _, out _));
            record[i] ^= 0x5A;
        }
    }

    [Fact]
    public void TryRead_OtherOffset_ChecksumMismatch()
    {
        var record = Record(Entry, 100);

        var status = JournalCodec.TryRead(record, 101, out _, out _, out var problem);

        Assert.Equal(JournalCodec.Status.Invalid, status);
        Assert.Equal("checksum mismatch", problem);
    }

    [Fact]
    public void TryRead_LengthOutOfBounds_InvalidBeforeReadingFurther()
    {
        var tooLong = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(tooLong, JournalCodec.MaxBodyBytes + 1);

        var status = JournalCodec.TryRead(tooLong, 0, out _, out _, out var problem);

        Assert.Equal(JournalCodec.Status.Invalid, status);
        Assert.Equal($"record length {JournalCodec.MaxBodyBytes + 1} is outside {JournalCodec.MinBodyBytes}..{JournalCodec.MaxBodyBytes}", problem);
    }

    [Fact]
    public void Scan_DamagedMiddleAndTornTail_SeparatesThem()
    {
        var first = Entry with { Sequence = 1 };
        var second = Entry with { Sequence = 2 };
        var third = Entry with { Sequence = 3 };
        var a = Record(first, 0);
        var b = Record(second, a.Length);
        var c = Record(third, 2 * a.Length);
        var journal = new byte[(3 * a.Length) + 10];
        a.CopyTo(journal, 0);
        b.CopyTo(journal, a.Length);
        c.CopyTo(journal, 2 * a.Length);
        c.AsSpan(0, 10).CopyTo(journal.AsSpan(3 * a.Length));
        journal[a.Length + 50] ^= 1;

        var scan = JournalCodec.Scan(journal);

        Assert.Equal([(0L, first), ((long)(2 * a.Length), third)], scan.Records);
        Assert.Equal([((long)a.Length, (long)a.Length, "checksum mismatch")], scan.Damaged);
        Assert.Equal(3L * a.Length, scan.ValidLength);
        Assert.Equal($"the record needs {a.Length} bytes but only 10 remain", scan.TailProblem);
    }

    [Fact]
    public void Scan_Empty_NoRecordsNoTail()
    {
        var scan = JournalCodec.Scan([]);

        Assert.Empty(scan.Records);
        Assert.Empty(scan.Damaged);
        Assert.Equal(0L, scan.ValidLength);
        Assert.Null(scan.TailProblem);
    }

    private static byte[] Record(JournalEntry entry, long offset)
    {
        var buffer = new byte[JournalCodec.GetRecordLength(entry)];
        JournalCodec.Write(entry, offset, buffer);
        return buffer;
    }

    private static byte[] Bytes(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + (i * 31));
        }

        return bytes;
    }
}
