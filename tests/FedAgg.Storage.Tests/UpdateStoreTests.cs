using System.Security.Cryptography;
using System.Text;
using FedAgg.Storage.Tests.TestSupport;
using FedAgg.TestKit.Logging;
using FedAgg.TestKit.Time;

namespace FedAgg.Storage.Tests;

public sealed class UpdateStoreTests : IDisposable
{
    private const string Task = "task-1";
    private static readonly DateTimeOffset Start = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private readonly ManualTimeProvider _clock = new(Start);
    private readonly UpdateFactory _factory = new(7);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task CommitAsync_ChunkedPayload_StoredExactlyAndJournalled()
    {
        await using var store = Open();
        var payload = _factory.Payload(10_000);
        var metadata = _factory.Metadata(payload);

        var entry = await UpdateFactory.StoreAsync(store, Task, 1, payload, metadata, chunk: 3000);

        Assert.Equal(Task, entry.TaskId);
        Assert.Equal(1UL, entry.Round);
        Assert.Equal(1UL, entry.Sequence);
        Assert.Equal(10_000L, entry.PayloadLength);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), entry.ReceivedUnixMs);
        Assert.Equal(metadata.UpdateId.ToArray(), entry.UpdateId.ToArray());
        Assert.Equal(SHA256.HashData(payload), entry.PayloadSha256.ToArray());
        Assert.Equal(metadata.SignerPublicKey.ToArray(), entry.SignerPublicKey.ToArray());
        Assert.Equal(metadata.Preimage.ToArray(), entry.Preimage.ToArray());
        Assert.Equal(metadata.Signature.ToArray(), entry.Signature.ToArray());
        var path = store.GetPayloadPath(Task, 1, entry.UpdateId.Span);
        Assert.Equal(payload, File.ReadAllBytes(path));
        Assert.Equal(
            _directory.Combine(
                "tasks", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Task))), "rounds", "1", "updates",
                Convert.ToHexStringLower(entry.UpdateId.Span) + ".bin"),
            path);
        var stored = Assert.Single(store.ReadRound(Task, 1));
        Assert.Equal(entry, stored.Entry);
        Assert.Equal(StoredUpdateState.Intact, stored.State);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, ".tmp-*"));
    }

    [Fact]
    public async Task ReleaseJournal_AfterCommits_ClosesTheHandleAndALaterCommitReopensIt()
    {
        await using var store = Open();
        var first = _factory.Payload(100);
        await UpdateFactory.StoreAsync(store, Task, 1, first, _factory.Metadata(first));
        var journal = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(store.GetPayloadPath(Task, 1, new byte[32]))!)!, "journal");
        Assert.Equal(1, OpenHandlesTo(journal));

        store.ReleaseJournal(Task, 1);
        var closed = OpenHandlesTo(journal);
        var second = _factory.Payload(100);
        var entry = await UpdateFactory.StoreAsync(store, Task, 1, second, _factory.Metadata(second));

        Assert.Equal(0, closed);
        Assert.Equal(2UL, entry.Sequence);
        Assert.Equal(2, store.ReadRound(Task, 1).Count);
        store.ReleaseJournal(Task, 99); // an unknown round is a no-op
    }

    private static int OpenHandlesTo(string path) =>
        Directory.EnumerateFiles("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == path;
            }
            catch (IOException)
            {
                return false;
            }
        });

    [Fact]
    public async Task CommitAsync_ReceivedTimeGiven_KeepsIt()
    {
        await using var store = Open();
        var payload = _factory.Payload(10);

        var entry = await UpdateFactory.StoreAsync(store, Task, 1, payload, _factory.Metadata(payload) with { ReceivedUnixMs = 123_456 });

        Assert.Equal(123_456L, entry.ReceivedUnixMs);
    }

    [Fact]
    public async Task CommitAsync_EmptyPayload_Stored()
    {
        await using var store = Open();

        var (entry, _) = await _factory.StoreRandomAsync(store, Task, 1, 0);

        Assert.Equal(0L, entry.PayloadLength);
        Assert.Equal(SHA256.HashData([]), entry.PayloadSha256.ToArray());
        Assert.Equal(0L, new FileInfo(store.GetPayloadPath(Task, 1, entry.UpdateId.Span)).Length);
    }

    [Fact]
    public async Task TaskDirectory_TaskJson_HoldsTaskId()
    {
        await using var store = Open();
        await _factory.StoreRandomAsync(store, "ünïcode/../task", 1, 10);

        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("ünïcode/../task")));

        Assert.Equal("{\"version\":1,\"taskId\":\"ünïcode/../task\"}", File.ReadAllText(_directory.Combine("tasks", key, "task.json")));
    }

    [Fact]
    public async Task CommitAsync_PayloadHashDiffers_ThrowsArgumentExceptionAndDisposeRemovesTemporaryFile()
    {
        await using var store = Open();
        var payload = _factory.Payload(100);
        var metadata = _factory.Metadata(_factory.Payload(100));
        var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CommitAsync(pending, metadata));
        await pending.DisposeAsync();

        Assert.Equal("metadata", error.ParamName);
        Assert.Empty(store.ReadRound(Task, 1));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(store.GetPayloadPath(Task, 1, metadata.UpdateId.Span))!));
    }

    [Fact]
    public async Task DisposeAsync_PendingWithoutCommit_RemovesTemporaryFile()
    {
        await using var store = Open();
        var pending = store.BeginUpdate(Task, 2);
        await pending.WriteAsync(new byte[100]);
        var updates = Path.GetDirectoryName(store.GetPayloadPath(Task, 2, new byte[32]))!;
        Assert.Single(Directory.GetFiles(updates, ".tmp-*"));

        await pending.DisposeAsync();

        Assert.Empty(Directory.GetFiles(updates));
        Assert.Empty(store.ReadRound(Task, 2));
    }

    [Fact]
    public async Task CommitAsync_SameUpdateIdAgain_ThrowsConflictNamingTheOriginal()
    {
        await using var store = Open();
        var payload = _factory.Payload(50);
        var metadata = _factory.Metadata(payload);
        var first = await UpdateFactory.StoreAsync(store, Task, 1, payload, metadata);

        var error = await Assert.ThrowsAsync<UpdateConflictException>(() => UpdateFactory.StoreAsync(store, Task, 1, payload, metadata));

        Assert.Equal(UpdateConflict.DuplicateUpdateId, error.Conflict);
        Assert.Equal(first, error.Existing);
        Assert.Single(store.ReadRound(Task, 1));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(store.GetPayloadPath(Task, 1, first.UpdateId.Span))!, ".tmp-*"));
    }

    [Fact]
    public async Task CommitAsync_SignerTwiceInRound_ThrowsSignerAlreadySubmitted()
    {
        await using var store = Open();
        var signer = _factory.Signer();
        var a = _factory.Payload(50);
        var b = _factory.Payload(50);
        var c = _factory.Payload(50);
        var first = await UpdateFactory.StoreAsync(store, Task, 1, a, _factory.Metadata(a, signer));

        var error = await Assert.ThrowsAsync<UpdateConflictException>(() => UpdateFactory.StoreAsync(store, Task, 1, b, _factory.Metadata(b, signer)));
        var nextRound = await UpdateFactory.StoreAsync(store, Task, 2, c, _factory.Metadata(c, signer));

        Assert.Equal(UpdateConflict.SignerAlreadySubmitted, error.Conflict);
        Assert.Equal(first, error.Existing);
        Assert.Equal(1UL, nextRound.Sequence);
    }

    [Fact]
    public async Task CommitAsync_PayloadOfAnotherSigner_ThrowsCopiedPayload()
    {
        await using var store = Open();
        var signer = _factory.Signer();
        var payload = _factory.Payload(50);
        var first = await UpdateFactory.StoreAsync(store, Task, 1, payload, _factory.Metadata(payload, signer));

        var copied = await Assert.ThrowsAsync<UpdateConflictException>(() => UpdateFactory.StoreAsync(store, Task, 2, payload, _factory.Metadata(payload)));
        var sameSignerLaterRound = await UpdateFactory.StoreAsync(store, Task, 2, payload, _factory.Metadata(payload, signer));
        var otherTask = await UpdateFactory.StoreAsync(store, "task-2", 1, payload, _factory.Metadata(payload));

        Assert.Equal(UpdateConflict.CopiedPayload, copied.Conflict);
        Assert.Equal(first, copied.Existing);
        Assert.Equal(2UL, sameSignerLaterRound.Round);
        Assert.Equal("task-2", otherTask.TaskId);
        Assert.True(store.TryGetByPayloadHash(Task, SHA256.HashData(payload), out var byHash));
        Assert.Equal(first, byHash);
    }

    [Fact]
    public async Task CommitAsync_UniquenessChecksOff_AcceptsSignerTwiceAndCopies()
    {
        await using var store = Open(o =>
        {
            o.EnforceOneUpdatePerSigner = false;
            o.RejectCopiedPayloads = false;
        });
        var signer = _factory.Signer();
        var payload = _factory.Payload(50);

        var first = await UpdateFactory.StoreAsync(store, Task, 1, payload, _factory.Metadata(payload, signer));
        var second = await UpdateFactory.StoreAsync(store, Task, 1, payload, _factory.Metadata(payload, signer));
        var third = await UpdateFactory.StoreAsync(store, Task, 1, payload, _factory.Metadata(payload));

        Assert.Equal([1UL, 2UL, 3UL], new[] { first.Sequence, second.Sequence, third.Sequence });
        Assert.True(store.TryGetBySigner(Task, 1, signer, out var bySigner));
        Assert.Equal(first, bySigner);
    }

    [Fact]
    public async Task CommitAsync_ConcurrentSameUpdateId_ExactlyOneWins()
    {
        await using var store = Open();
        var payload = _factory.Payload(5000);
        var metadata = _factory.Metadata(payload);

        var attempts = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await UpdateFactory.StoreAsync(store, Task, 1, payload, metadata, chunk: 1000);
                return true;
            }
            catch (UpdateConflictException e) when (e.Conflict == UpdateConflict.DuplicateUpdateId)
            {
                return false;
            }
        }));

        Assert.Equal(1, attempts.Count(static won => won));
        Assert.Single(store.ReadRound(Task, 1));
        Assert.Equal(payload, File.ReadAllBytes(store.GetPayloadPath(Task, 1, metadata.UpdateId.Span)));
    }

    [Fact]
    public async Task WriteAsync_BeyondMaxUpdateBytes_ThrowsAndWritesNothing()
    {
        await using var store = Open(o => o.MaxUpdateBytes = 1000);
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(new byte[600]);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await pending.WriteAsync(new byte[401]));
        await pending.WriteAsync(new byte[400]);

        Assert.Contains("MaxUpdateBytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000L, pending.Length);
    }

    [Fact]
    public async Task WriteAsync_AfterHashTaken_ThrowsInvalidOperation()
    {
        await using var store = Open();
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(new byte[] { 1, 2, 3 });

        var hash = pending.GetPayloadSha256();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pending.WriteAsync(new byte[] { 4 }));
        Assert.Equal(SHA256.HashData([1, 2, 3]), hash);
        Assert.Equal(hash, pending.GetPayloadSha256());
    }

    [Fact]
    public async Task CommitAsync_Twice_ThrowsInvalidOperation()
    {
        await using var store = Open();
        var payload = _factory.Payload(10);
        var metadata = _factory.Metadata(payload);
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);
        await store.CommitAsync(pending, metadata);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CommitAsync(pending, metadata));
        await pending.DisposeAsync();

        Assert.True(File.Exists(store.GetPayloadPath(Task, 1, metadata.UpdateId.Span)));
    }

    [Fact]
    public async Task CommitAsync_PendingOfAnotherStore_ThrowsArgumentException()
    {
        using var other = new TempDirectory();
        await using var store = Open();
        await using var otherStore = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = other.Path });
        var payload = _factory.Payload(10);
        await using var pending = otherStore.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CommitAsync(pending, _factory.Metadata(payload)));

        Assert.Equal("pending", error.ParamName);
    }

    public static TheoryData<string> InvalidTaskIds() => new()
    {
        string.Empty,
        new string('x', 129),
        new string('é', 65),
    };

    [Theory]
    [MemberData(nameof(InvalidTaskIds))]
    public async Task BeginUpdate_TaskIdOutOfBounds_ThrowsArgumentException(string taskId)
    {
        await using var store = Open();

        var error = Assert.ThrowsAny<ArgumentException>(() => store.BeginUpdate(taskId, 1));

        Assert.Equal("taskId", error.ParamName);
    }

    [Fact]
    public async Task BeginUpdate_TaskIdWithLoneSurrogate_ThrowsArgumentException()
    {
        // Built here: xunit's theory-data serialization would replace the lone surrogate.
        await using var store = Open();

        var error = Assert.Throws<ArgumentException>(() => store.BeginUpdate("bad" + (char)0xD800 + "surrogate", 1));

        Assert.Equal("taskId", error.ParamName);
    }

    [Fact]
    public async Task BeginUpdate_LongestTaskIdAndRoundZero_AcceptsOneRejectsOther()
    {
        await using var store = Open();
        var longest = new string('é', 64);

        var (entry, _) = await _factory.StoreRandomAsync(store, longest, ulong.MaxValue, 10);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => store.BeginUpdate(Task, 0));

        Assert.Equal(longest, entry.TaskId);
        Assert.Equal(ulong.MaxValue, entry.Round);
        Assert.Equal("round", error.ParamName);
    }

    public static TheoryData<string, int> InvalidMetadataFields() => new()
    {
        { "UpdateId", 31 },
        { "UpdateId", 33 },
        { "PayloadSha256", 0 },
        { "Signature", 63 },
        { "SignerPublicKey", 0 },
        { "SignerPublicKey", 129 },
        { "Preimage", 0 },
        { "Preimage", 1025 },
    };

    [Theory]
    [MemberData(nameof(InvalidMetadataFields))]
    public async Task CommitAsync_MetadataFieldOutOfBounds_ThrowsArgumentExceptionNamingIt(string field, int length)
    {
        await using var store = Open();
        var payload = _factory.Payload(10);
        var valid = _factory.Metadata(payload);
        var bytes = new byte[length];
        var metadata = field switch
        {
            "UpdateId" => valid with { UpdateId = bytes },
            "PayloadSha256" => valid with { PayloadSha256 = bytes },
            "Signature" => valid with { Signature = bytes },
            "SignerPublicKey" => valid with { SignerPublicKey = bytes },
            _ => valid with { Preimage = bytes },
        };
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CommitAsync(pending, metadata));
        var committed = await store.CommitAsync(pending, valid);

        Assert.Contains($"UpdateMetadata.{field}", error.Message, StringComparison.Ordinal);
        Assert.Equal(1UL, committed.Sequence);
    }

    [Fact]
    public async Task CommitAsync_LargestMetadata_RoundTripsThroughReopen()
    {
        var payload = _factory.Payload(10);
        var metadata = _factory.Metadata(payload, new byte[128], preimageLength: 1024);
        JournalEntry entry;
        await using (var store = Open())
        {
            entry = await UpdateFactory.StoreAsync(store, new string('t', 128), 1, payload, metadata);
        }

        await using var reopened = Open();

        Assert.Equal(entry, Assert.Single(reopened.ReadRound(new string('t', 128), 1)).Entry);
        Assert.False(reopened.Recovery.HasCorruption);
    }

    [Theory]
    [InlineData("RootDirectory")]
    [InlineData("MaxUpdateBytes")]
    [InlineData("DurabilityMode")]
    public void Open_InvalidOption_ThrowsNamingIt(string option)
    {
        var options = new UpdateStoreOptions { RootDirectory = _directory.Path };
        switch (option)
        {
            case "RootDirectory":
                options.RootDirectory = " ";
                break;
            case "MaxUpdateBytes":
                options.MaxUpdateBytes = 0;
                break;
            default:
                options.DurabilityMode = (DurabilityMode)7;
                break;
        }

        var error = Assert.Throws<ArgumentException>(() => UpdateStore.Open(options));

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"UpdateStoreOptions.{option} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_RootAlreadyOpen_ThrowsStorageException()
    {
        await using var store = Open();

        var error = Assert.Throws<StorageException>(() => Open());

        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task CommitAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var store = Open();
        var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(new byte[10]);
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.CommitAsync(pending, _factory.Metadata(new byte[10])));
        Assert.Throws<ObjectDisposedException>(() => store.BeginUpdate(Task, 1));
        await pending.DisposeAsync();
    }

    [Theory]
    [InlineData(DurabilityMode.FsyncPerUpdate)]
    [InlineData(DurabilityMode.GroupCommit)]
    public async Task CommitAsync_ManyConcurrentUploads_DenseSequencesAndIndexesSurviveReopen(DurabilityMode mode)
    {
        var uploads = new List<(string TaskId, ulong Round, byte[] Payload, UpdateMetadata Metadata)>();
        for (var i = 0; i < 96; i++)
        {
            var payload = _factory.Payload(1 + ((i * 7919) % 20_000));
            uploads.Add((i % 2 == 0 ? "a" : "b", (ulong)(1 + (i % 3)), payload, _factory.Metadata(payload)));
        }

        List<JournalEntry> entries;
        await using (var store = Open(o => o.DurabilityMode = mode))
        {
            entries = [.. await System.Threading.Tasks.Task.WhenAll(
                uploads.Select(u => UpdateFactory.StoreAsync(store, u.TaskId, u.Round, u.Payload, u.Metadata, chunk: 1024)))];
            AssertDenseAndIndexed(store, uploads.Select(u => (u.TaskId, u.Round)).Distinct(), entries);
        }

        await using var reopened = Open();

        Assert.False(reopened.Recovery.HasCorruption);
        Assert.Equal(96, reopened.Recovery.Updates);
        Assert.Equal(
            [("a", 1UL), ("a", 2UL), ("a", 3UL), ("b", 1UL), ("b", 2UL), ("b", 3UL)],
            reopened.EnumerateRounds());
        AssertDenseAndIndexed(reopened, uploads.Select(u => (u.TaskId, u.Round)).Distinct(), entries);
        foreach (var (taskId, round, payload, metadata) in uploads)
        {
            Assert.Equal(payload, File.ReadAllBytes(reopened.GetPayloadPath(taskId, round, metadata.UpdateId.Span)));
        }
    }

    [Fact]
    public async Task CommitAsync_AfterReopen_ContinuesSequence()
    {
        await using (var store = Open())
        {
            await _factory.StoreRandomAsync(store, Task, 1, 10);
            await _factory.StoreRandomAsync(store, Task, 1, 10);
        }

        await using var reopened = Open(o => o.DurabilityMode = DurabilityMode.FsyncPerUpdate);
        var (third, _) = await _factory.StoreRandomAsync(reopened, Task, 1, 10);

        Assert.Equal(3UL, third.Sequence);
        Assert.Equal([1UL, 2UL, 3UL], reopened.ReadRound(Task, 1).Select(static u => u.Entry.Sequence));
    }

    [Fact]
    public async Task Lookups_UnknownTaskRoundOrKey_ReturnNothing()
    {
        await using var store = Open();
        var (entry, _) = await _factory.StoreRandomAsync(store, Task, 1, 10);

        Assert.Empty(store.ReadRound("nobody", 1));
        Assert.Empty(store.ReadRound(Task, 2));
        Assert.False(store.TryGetByUpdateId("nobody", entry.UpdateId.Span, out _));
        Assert.False(store.TryGetByUpdateId(Task, new byte[32], out _));
        Assert.False(store.TryGetByPayloadHash(Task, entry.UpdateId.Span, out _));
        Assert.False(store.TryGetBySigner(Task, 2, entry.SignerPublicKey.Span, out _));
        Assert.True(store.TryGetBySigner(Task, 1, entry.SignerPublicKey.Span, out var bySigner));
        Assert.Equal(entry, bySigner);
    }

    [Fact]
    public async Task CommitAsync_GroupCommit_EveryCommitInExactlyOneBatch()
    {
        var logger = new ListLogger<UpdateStore>();
        var uploads = Enumerable.Range(0, 40).Select(i =>
        {
            var payload = _factory.Payload(100 + i);
            return (Payload: payload, Metadata: _factory.Metadata(payload));
        }).ToList();
        await using (var store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = _directory.Path }, logger))
        {
            await System.Threading.Tasks.Task.WhenAll(uploads.Select(u => UpdateFactory.StoreAsync(store, Task, 1, u.Payload, u.Metadata)));
        }

        var batches = logger.Entries.Where(static e => e.EventId == 3009).Select(static e => int.Parse(e.Message.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture)).ToList();

        Assert.Equal(40, batches.Sum());
        Assert.InRange(batches.Count, 1, 40);
    }

    [Fact]
    public async Task CommitAsync_CancelledBeforeRename_NothingStoredAndRetrySucceeds()
    {
        await using var store = Open();
        var payload = _factory.Payload(100);
        var metadata = _factory.Metadata(payload);
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.CommitAsync(pending, metadata, new CancellationToken(true)));
        Assert.Empty(store.ReadRound(Task, 1));
        var entry = await store.CommitAsync(pending, metadata);

        Assert.Equal(1UL, entry.Sequence);
    }

    [Fact]
    public async Task WriteAsync_Cancelled_UpdateCannotBeCommitted()
    {
        await using var store = Open();
        var payload = _factory.Payload(100);
        await using var pending = store.BeginUpdate(Task, 1);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.WriteAsync(payload, new CancellationToken(true)));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CommitAsync(pending, _factory.Metadata(payload)));
    }

    [Theory]
    [InlineData(DurabilityMode.FsyncPerUpdate)]
    [InlineData(DurabilityMode.GroupCommit)]
    public async Task CommitAsync_JournalUnwritable_FaultsStoreAndRefusesLaterWork(DurabilityMode mode)
    {
        await using var store = Open(o => o.DurabilityMode = mode);
        var payload = _factory.Payload(100);
        await using var pending = store.BeginUpdate(Task, 1);
        await pending.WriteAsync(payload);
        var journal = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(store.GetPayloadPath(Task, 1, new byte[32]))!)!, "journal");
        File.Delete(journal);
        Directory.CreateDirectory(journal);

        var error = await Assert.ThrowsAsync<StorageException>(async () => await store.CommitAsync(pending, _factory.Metadata(payload)));

        Assert.IsType<UnauthorizedAccessException>(error.InnerException);
        Assert.Empty(store.ReadRound(Task, 1));
        Assert.Throws<StorageException>(() => store.BeginUpdate(Task, 2));
    }

    private static void AssertDenseAndIndexed(UpdateStore store, IEnumerable<(string TaskId, ulong Round)> rounds, IReadOnlyList<JournalEntry> entries)
    {
        foreach (var (taskId, round) in rounds)
        {
            var stored = store.ReadRound(taskId, round);
            var expected = entries.Where(e => e.TaskId == taskId && e.Round == round).OrderBy(static e => e.Sequence).ToList();
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(static s => (ulong)s), stored.Select(static u => u.Entry.Sequence));
            Assert.Equal(expected, stored.Select(static u => u.Entry));
            Assert.All(stored, static u => Assert.Equal(StoredUpdateState.Intact, u.State));
        }

        foreach (var entry in entries)
        {
            Assert.True(store.TryGetByUpdateId(entry.TaskId, entry.UpdateId.Span, out var byId));
            Assert.Equal(entry, byId);
            Assert.True(store.TryGetByPayloadHash(entry.TaskId, entry.PayloadSha256.Span, out var byHash));
            Assert.Equal(entry, byHash);
            Assert.True(store.TryGetBySigner(entry.TaskId, entry.Round, entry.SignerPublicKey.Span, out var bySigner));
            Assert.Equal(entry, bySigner);
        }
    }

    private UpdateStore Open(Action<UpdateStoreOptions>? configure = null)
    {
        var options = new UpdateStoreOptions { RootDirectory = _directory.Path };
        configure?.Invoke(options);
        return UpdateStore.Open(options, timeProvider: _clock);
    }
}
