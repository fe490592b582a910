using System.Security.Cryptography;
using FedAgg.Storage.Tests.TestSupport;
using FedAgg.TestKit.Logging;
using Microsoft.Extensions.Logging;

namespace FedAgg.Storage.Tests;

public sealed class UpdateStoreRecoveryTests : IDisposable
{
    private const string Task = "recovery";

    private readonly TempDirectory _directory = new();
    private readonly UpdateFactory _factory = new(11);
    private readonly ListLogger<UpdateStore> _logger = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_PartialLastRecord_TruncatesAndKeepsEarlierRecords()
    {
        var entries = await StoreAsync(3);
        var journal = JournalPath();
        var valid = new FileInfo(journal).Length;
        var record = File.ReadAllBytes(journal)[(int)RecordOffsets(journal)[1]..(int)RecordOffsets(journal)[2]];
        AppendBytes(journal, record.AsSpan(0, record.Length - 5));

        await using var store = Open();

        var truncation = Assert.Single(store.Recovery.TruncatedJournals);
        Assert.Equal(journal, truncation.JournalPath);
        Assert.Equal(valid, truncation.ValidLength);
        Assert.Equal(record.Length - 5L, truncation.RemovedBytes);
        Assert.Equal(valid, new FileInfo(journal).Length);
        Assert.Equal(entries, store.ReadRound(Task, 1).Select(static u => u.Entry));
        Assert.Empty(store.Recovery.Corruption);
        Assert.Contains(_logger.Entries, static e => e.Level == LogLevel.Warning && e.EventId == 3003);
    }

    [Fact]
    public async Task Open_ChecksumFailingLastRecord_TruncatesItAndRemovesItsPayload()
    {
        var entries = await StoreAsync(3);
        var journal = JournalPath();
        var offsets = RecordOffsets(journal);
        FlipByte(journal, offsets[2] + 40);
        var lastPayload = PayloadPath(entries[2]);

        await using var store = Open();

        var truncation = Assert.Single(store.Recovery.TruncatedJournals);
        Assert.Equal(offsets[2], truncation.ValidLength);
        Assert.Equal("checksum mismatch", truncation.Reason);
        Assert.Equal(entries[..2], store.ReadRound(Task, 1).Select(static u => u.Entry));
        Assert.Equal([lastPayload], store.Recovery.RemovedUnjournaledPayloads);
        Assert.False(File.Exists(lastPayload));
        Assert.Empty(store.Recovery.Corruption);

        var (next, _) = await _factory.StoreRandomAsync(store, Task, 1, 10);
        Assert.Equal(3UL, next.Sequence);
    }

    [Fact]
    public async Task Open_ZeroFilledTail_Truncated()
    {
        var entries = await StoreAsync(2);
        var journal = JournalPath();
        var valid = new FileInfo(journal).Length;
        AppendBytes(journal, new byte[4096]);

        await using var store = Open();

        Assert.Equal(valid, Assert.Single(store.Recovery.TruncatedJournals).ValidLength);
        Assert.Equal(entries, store.ReadRound(Task, 1).Select(static u => u.Entry));
    }

    [Fact]
    public async Task Open_CorruptMiddleRecord_ReportsLoudlyKeepsValidRecordsAndDoesNotTruncate()
    {
        var entries = await StoreAsync(3);
        var journal = JournalPath();
        var length = new FileInfo(journal).Length;
        var offsets = RecordOffsets(journal);
        FlipByte(journal, offsets[1] + 100);

        await using var store = Open();

        Assert.Empty(store.Recovery.TruncatedJournals);
        Assert.Equal(length, new FileInfo(journal).Length);
        Assert.Equal([entries[0], entries[2]], store.ReadRound(Task, 1).Select(static u => u.Entry));
        Assert.Equal(
            [CorruptionKind.JournalRecordInvalid, CorruptionKind.JournalSequenceGap, CorruptionKind.UnjournaledPayloadKept],
            store.Recovery.Corruption.Select(static c => c.Kind));
        Assert.Equal($"bytes [{offsets[1]}, {offsets[2]}) are not a valid record (checksum mismatch) but valid records follow; they are kept", store.Recovery.Corruption[0].Reason);
        Assert.Equal(PayloadPath(entries[1]), store.Recovery.Corruption[2].Path);
        Assert.True(File.Exists(PayloadPath(entries[1])));
        Assert.Equal(3, _logger.Entries.Count(static e => e.Level == LogLevel.Error && e.EventId == 3004));
    }

    [Fact]
    public async Task Open_RecordCopiedToAnotherOffset_NotAccepted()
    {
        // The checksum covers the record's offset, so valid-looking bytes elsewhere (a preimage can hold any bytes) are not a record.
        var entries = await StoreAsync(1);
        var journal = JournalPath();
        var record = File.ReadAllBytes(journal);
        AppendBytes(journal, record);

        await using var store = Open();

        Assert.Equal(record.Length, Assert.Single(store.Recovery.TruncatedJournals).ValidLength);
        Assert.Equal(entries, store.ReadRound(Task, 1).Select(static u => u.Entry));
        Assert.Empty(store.Recovery.Corruption);
    }

    [Fact]
    public async Task Open_TemporaryAndUnjournaledFiles_RemovedAndReported()
    {
        var entries = await StoreAsync(1);
        var updates = Path.GetDirectoryName(PayloadPath(entries[0]))!;
        var temporary = Path.Combine(updates, ".tmp-00000000000000ff");
        var orphan = Path.Combine(updates, Convert.ToHexStringLower(SHA256.HashData([1])) + ".bin");
        var unknown = Path.Combine(updates, "notes.txt");
        File.WriteAllBytes(temporary, [1, 2, 3]);
        File.WriteAllBytes(orphan, [4, 5, 6]);
        File.WriteAllBytes(unknown, [7]);

        await using var store = Open();

        Assert.Equal([temporary], store.Recovery.RemovedTemporaryFiles);
        Assert.Equal([orphan], store.Recovery.RemovedUnjournaledPayloads);
        Assert.Equal([unknown], store.Recovery.IgnoredEntries);
        Assert.False(File.Exists(temporary));
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(unknown));
        Assert.True(File.Exists(PayloadPath(entries[0])));
        Assert.Empty(store.Recovery.Corruption);
        Assert.Contains(_logger.Entries, static e => e.Level == LogLevel.Information && e.EventId == 3001);
        Assert.Contains(_logger.Entries, static e => e.Level == LogLevel.Warning && e.EventId == 3002);
    }

    [Fact]
    public async Task Open_CorruptedPayload_ReportedLoudlyAndKept()
    {
        var entries = await StoreAsync(2);
        var path = PayloadPath(entries[1]);
        var bytes = File.ReadAllBytes(path);
        FlipByte(path, 17);

        await using var store = Open();

        var corruption = Assert.Single(store.Recovery.Corruption);
        Assert.Equal(CorruptionKind.PayloadHashMismatch, corruption.Kind);
        Assert.Equal(path, corruption.Path);
        Assert.Equal(Task, corruption.TaskId);
        Assert.Equal(1UL, corruption.Round);
        Assert.Equal(entries[1].UpdateId.ToArray(), corruption.UpdateId.ToArray());
        bytes[17] ^= 0xFF;
        Assert.Equal(
            $"acknowledged update (sequence 2): the payload's SHA-256 is 0x{Convert.ToHexStringLower(SHA256.HashData(bytes))} but the journal says 0x{Convert.ToHexStringLower(entries[1].PayloadSha256.Span)}; the journal record is kept",
            corruption.Reason);
        var round = store.ReadRound(Task, 1);
        Assert.Equal(entries, round.Select(static u => u.Entry));
        Assert.Equal([StoredUpdateState.Intact, StoredUpdateState.PayloadCorrupt], round.Select(static u => u.State));
        Assert.True(round[1].IsCorrupt);
        Assert.True(File.Exists(path));
        Assert.True(store.TryGetByUpdateId(Task, entries[1].UpdateId.Span, out _));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Error && e.EventId == 3004 && e.Message.Contains(path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Open_MissingAndTruncatedPayloads_ReportedWithTheirStates()
    {
        var entries = await StoreAsync(3);
        File.Delete(PayloadPath(entries[0]));
        using (var handle = File.OpenHandle(PayloadPath(entries[2]), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(handle, 5);
        }

        await using var store = Open();

        Assert.Equal([CorruptionKind.PayloadMissing, CorruptionKind.PayloadLengthMismatch], store.Recovery.Corruption.Select(static c => c.Kind));
        Assert.Equal(
            [StoredUpdateState.PayloadMissing, StoredUpdateState.Intact, StoredUpdateState.PayloadCorrupt],
            store.ReadRound(Task, 1).Select(static u => u.State));
        Assert.Equal("the payload file has 5 bytes but the journal says 1500", store.ReadRound(Task, 1)[2].Problem);
    }

    [Fact]
    public async Task Open_HashVerificationOff_ChecksLengthOnly()
    {
        var entries = await StoreAsync(1);
        FlipByte(PayloadPath(entries[0]), 3);

        await using var store = Open(verifyHashes: false);

        Assert.Empty(store.Recovery.Corruption);
    }

    [Fact]
    public async Task Open_TaskDirectoryWithoutTaskJson_Removed()
    {
        var incomplete = _directory.Combine("tasks", new string('a', 64));
        Directory.CreateDirectory(Path.Combine(incomplete, "rounds", "1", "updates"));
        File.WriteAllBytes(Path.Combine(incomplete, "rounds", "1", "journal"), []);

        await using var store = Open();

        Assert.Equal([incomplete], store.Recovery.RemovedIncompleteDirectories);
        Assert.False(Directory.Exists(incomplete));
        Assert.Empty(store.Recovery.Corruption);
    }

    [Fact]
    public async Task Open_TaskJsonNamingAnotherTask_ReportedAndNotLoaded()
    {
        var entries = await StoreAsync(1);
        var taskFile = Directory.GetFiles(_directory.Combine("tasks"), "task.json", SearchOption.AllDirectories).Single();
        File.WriteAllText(taskFile, "{\"version\":1,\"taskId\":\"impostor\"}");

        await using var store = Open();

        var corruption = Assert.Single(store.Recovery.Corruption);
        Assert.Equal(CorruptionKind.TaskDirectoryInvalid, corruption.Kind);
        Assert.StartsWith("task.json names task 'impostor'", corruption.Reason, StringComparison.Ordinal);
        Assert.Empty(store.ReadRound(Task, 1));
        Assert.True(File.Exists(PayloadPath(entries[0])));
    }

    [Fact]
    public async Task Open_AfterCleanClose_ReportsNothing()
    {
        await StoreAsync(2);

        await using var store = Open();

        Assert.Equal(1, store.Recovery.Tasks);
        Assert.Equal(1, store.Recovery.Rounds);
        Assert.Equal(2, store.Recovery.Updates);
        Assert.Empty(store.Recovery.RemovedTemporaryFiles);
        Assert.Empty(store.Recovery.RemovedUnjournaledPayloads);
        Assert.Empty(store.Recovery.TruncatedJournals);
        Assert.Empty(store.Recovery.IgnoredEntries);
        Assert.False(store.Recovery.HasCorruption);
        Assert.Contains(_logger.Entries, static e => e.Level == LogLevel.Information && e.EventId == 3000);
    }

    private async Task<JournalEntry[]> StoreAsync(int count)
    {
        await using var store = Open();
        var entries = new JournalEntry[count];
        for (var i = 0; i < count; i++)
        {
            (entries[i], _) = await _factory.StoreRandomAsync(store, Task, 1, 1500);
        }

        return entries;
    }

    private UpdateStore Open(bool verifyHashes = true) =>
        UpdateStore.Open(new UpdateStoreOptions { RootDirectory = _directory.Path, VerifyPayloadHashesOnOpen = verifyHashes }, _logger);

    private string JournalPath() => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(PayloadPath(new byte[32]))!)!, "journal");

    private string PayloadPath(JournalEntry entry) => PayloadPath(entry.UpdateId.ToArray());

    private string PayloadPath(byte[] updateId) =>
        _directory.Combine("tasks", Convert.ToHexStringLower(SHA256.HashData("recovery"u8)), "rounds", "1", "updates", Convert.ToHexStringLower(updateId) + ".bin");

    private static long[] RecordOffsets(string journal) => [.. JournalCodec.Scan(File.ReadAllBytes(journal)).Records.Select(static r => r.Offset)];

    private static void AppendBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.Append);
        stream.Write(bytes);
    }

    private static void FlipByte(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0xFF));
    }
}
