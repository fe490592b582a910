using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace FedAgg.Storage;

public sealed partial class UpdateStore
{
    /// <summary>Loads every task and round, repairs what was never acknowledged, and reports what is damaged.</summary>
    private StoreRecoveryReport Recover(bool verifyHashes)
    {
        var started = _timeProvider.GetTimestamp();
        var findings = new RecoveryFindings();
        var toVerify = new List<(RoundState Round, int Index)>();
        foreach (var path in Directory.EnumerateFileSystemEntries(_tasksDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!Directory.Exists(path) || !IsLowerHex(name, 64))
            {
                Ignore(findings, path);
                continue;
            }

            if (RecoverTask(path, name, findings) is { } task)
            {
                _tasks.Add(task.TaskId, task);
                foreach (var round in task.Rounds.Values)
                {
                    for (var i = 0; i < round.Updates.Count; i++)
                    {
                        toVerify.Add((round, i));
                    }
                }
            }
        }

        VerifyPayloads(toVerify, verifyHashes, findings);

        // A crashed process (on a machine that kept running) can leave renames, records and directories in the page
        // cache only; they look durable now, and the indexes are about to promise them to clients.
        DurableIO.FlushFileSystem(RootDirectory);
        var rounds = _tasks.Values.Sum(static t => t.Rounds.Count);
        var updates = _tasks.Values.Sum(static t => t.Rounds.Values.Sum(static r => r.Updates.Count));
        var elapsedMs = (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;
        Log.UpdateStoreOpened(_logger, RootDirectory, DurabilityMode, _tasks.Count, rounds, updates, elapsedMs, findings.Corruption.Count);
        return new StoreRecoveryReport(
            _tasks.Count,
            rounds,
            updates,
            findings.RemovedTemporaryFiles,
            findings.RemovedUnjournaledPayloads,
            findings.RemovedIncompleteDirectories,
            findings.TruncatedJournals,
            findings.Corruption,
            findings.IgnoredEntries);
    }

    private TaskState? RecoverTask(string directory, string key, RecoveryFindings findings)
    {
        var taskFile = Path.Combine(directory, TaskFileName);
        var temporaryTaskFile = Path.Combine(directory, "." + TaskFileName + ".tmp");
        if (File.Exists(temporaryTaskFile))
        {
            File.Delete(temporaryTaskFile);
            findings.RemovedTemporaryFiles.Add(temporaryTaskFile);
            Log.TemporaryFileRemoved(_logger, temporaryTaskFile);
        }

        if (!File.Exists(taskFile))
        {
            RemoveIncompleteTask(directory, findings);
            return null;
        }

        var taskId = ReadTaskFile(taskFile, out var problem);
        if (taskId is not null && TaskState.KeyOf(taskId) != key)
        {
            problem = $"task.json names task '{taskId}', whose key {TaskState.KeyOf(taskId)} is not the directory name";
            taskId = null;
        }

        if (taskId is null)
        {
            Corrupt(findings, CorruptionKind.TaskDirectoryInvalid, taskFile, null, 0, default, problem + "; the task is not loaded");
            return null;
        }

        var task = new TaskState(taskId, directory);
        foreach (var path in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name is not (TaskFileName or RoundsDirectoryName))
            {
                Ignore(findings, path);
            }
        }

        var roundsDirectory = Path.Combine(directory, RoundsDirectoryName);
        if (!Directory.Exists(roundsDirectory))
        {
            return task;
        }

        foreach (var path in Directory.EnumerateFileSystemEntries(roundsDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!Directory.Exists(path)
                || !ulong.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var round)
                || round == 0
                || round.ToString(CultureInfo.InvariantCulture) != name)
            {
                Ignore(findings, path);
                continue;
            }

            task.Rounds.Add(round, RecoverRound(task, round, path, findings));
        }

        return task;
    }

    private RoundState RecoverRound(TaskState task, ulong round, string directory, RecoveryFindings findings)
    {
        var state = new RoundState(task, round, directory);
        var damaged = false;
        var journalExists = File.Exists(state.JournalPath);
        if (journalExists)
        {
            damaged = RecoverJournal(state, findings);
        }

        foreach (var path in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name is not (JournalFileName or UpdatesDirectoryName))
            {
                Ignore(findings, path);
            }
        }

        var updatesExist = Directory.Exists(state.UpdatesDirectory);
        if (updatesExist)
        {
            RecoverPayloadDirectory(state, damaged, findings);
        }

        state.Prepared = journalExists && updatesExist;
        return state;
    }

    /// <summary>Loads the journal, cuts off a torn tail, reports damage. Returns whether records may have been lost.</summary>
    private bool RecoverJournal(RoundState state, RecoveryFindings findings)
    {
        var task = state.Task;
        var length = new FileInfo(state.JournalPath).Length;
        if (length > MaxJournalBytes)
        {
            throw new StorageException(
                $"The journal {state.JournalPath} is {length} bytes, over the {MaxJournalBytes}-byte limit this store writes: it cannot be recovered automatically.");
        }

        var scan = JournalCodec.Scan(File.ReadAllBytes(state.JournalPath));
        var damaged = false;
        foreach (var (offset, size, problem) in scan.Damaged)
        {
            damaged = true;
            Corrupt(
                findings, CorruptionKind.JournalRecordInvalid, state.JournalPath, task.TaskId, state.Round, default,
                $"bytes [{offset}, {offset + size}) are not a valid record ({problem}) but valid records follow; they are kept");
        }

        if (scan.TailProblem is { } tailProblem)
        {
            using (var handle = File.OpenHandle(state.JournalPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                RandomAccess.SetLength(handle, scan.ValidLength);
                RandomAccess.FlushToDisk(handle);
            }

            findings.TruncatedJournals.Add(new JournalTruncation(state.JournalPath, scan.ValidLength, length - scan.ValidLength, tailProblem));
            Log.JournalTailTruncated(_logger, state.JournalPath, scan.ValidLength, length - scan.ValidLength, tailProblem);
        }

        state.JournalLength = scan.ValidLength;
        ulong expected = 1, last = 0;
        foreach (var (offset, entry) in scan.Records)
        {
            if (entry.TaskId != task.TaskId || entry.Round != state.Round)
            {
                damaged = true;
                Corrupt(
                    findings, CorruptionKind.JournalRecordMisplaced, state.JournalPath, task.TaskId, state.Round, entry.UpdateId,
                    $"the record at byte {offset} belongs to task '{entry.TaskId}' round {entry.Round}; it is not loaded");
                continue;
            }

            if (entry.Sequence != expected)
            {
                damaged = true;
                Corrupt(
                    findings, CorruptionKind.JournalSequenceGap, state.JournalPath, task.TaskId, state.Round, entry.UpdateId,
                    $"the record at byte {offset} has sequence {entry.Sequence} where {expected} was expected; records may be lost");
            }

            expected = entry.Sequence + 1;
            last = Math.Max(last, entry.Sequence);
            if (!task.ByUpdateId.TryAdd(entry.UpdateId.ToArray(), entry))
            {
                Corrupt(
                    findings, CorruptionKind.DuplicateUpdateId, state.JournalPath, task.TaskId, state.Round, entry.UpdateId,
                    $"the record at byte {offset} repeats an update id already journalled in the task; the repeat is not loaded");
                continue;
            }

            task.ByPayloadHash.TryAdd(entry.PayloadSha256.ToArray(), entry);
            state.BySigner.TryAdd(entry.SignerPublicKey.ToArray(), entry);
            state.Updates.Add(new StoredUpdate(entry, StoredUpdateState.Intact, null));
        }

        state.NextSequence = last + 1;
        return damaged;
    }

    private void RecoverPayloadDirectory(RoundState state, bool journalDamaged, RecoveryFindings findings)
    {
        var journalled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var update in state.Updates)
        {
            journalled.Add(Convert.ToHexStringLower(update.Entry.UpdateId.Span) + PayloadExtension);
        }

        var removed = false;
        foreach (var path in Directory.EnumerateFileSystemEntries(state.UpdatesDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            var isFile = File.Exists(path);
            if (isFile && name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
            {
                File.Delete(path);
                removed = true;
                findings.RemovedTemporaryFiles.Add(path);
                Log.TemporaryFileRemoved(_logger, path);
            }
            else if (isFile && IsPayloadFileName(name))
            {
                if (journalled.Contains(name))
                {
                    continue;
                }

                if (journalDamaged)
                {
                    Corrupt(
                        findings, CorruptionKind.UnjournaledPayloadKept, path, state.Task.TaskId, state.Round,
                        Convert.FromHexString(name.AsSpan(0, 64)),
                        "the payload has no journal record, but the journal is damaged, so it may be an acknowledged update; it is kept");
                    continue;
                }

                File.Delete(path);
                removed = true;
                findings.RemovedUnjournaledPayloads.Add(path);
                Log.UnjournaledPayloadRemoved(_logger, path);
            }
            else
            {
                Ignore(findings, path);
            }
        }

        if (removed)
        {
            DurableIO.FlushDirectory(state.UpdatesDirectory);
        }
    }

    private void VerifyPayloads(List<(RoundState Round, int Index)> updates, bool verifyHashes, RecoveryFindings findings)
    {
        var results = new (StoredUpdateState State, CorruptionKind Kind, string? Problem)[updates.Count];
        Parallel.For(0, updates.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (round, index) = updates[i];
            results[i] = CheckPayload(round.PayloadPath(round.Updates[index].Entry.UpdateId.Span), round.Updates[index].Entry, verifyHashes);
        });

        for (var i = 0; i < updates.Count; i++)
        {
            if (results[i].Problem is not { } problem)
            {
                continue;
            }

            var (round, index) = updates[i];
            var entry = round.Updates[index].Entry;
            round.Updates[index] = new StoredUpdate(entry, results[i].State, problem);
            Corrupt(
                findings, results[i].Kind, round.PayloadPath(entry.UpdateId.Span), entry.TaskId, entry.Round, entry.UpdateId,
                $"acknowledged update (sequence {entry.Sequence}): {problem}; the journal record is kept");
        }
    }

    private static (StoredUpdateState State, CorruptionKind Kind, string? Problem) CheckPayload(string path, JournalEntry entry, bool verifyHash)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return (StoredUpdateState.PayloadMissing, CorruptionKind.PayloadMissing, "the payload file is missing");
        }

        if (info.Length != entry.PayloadLength)
        {
            return (StoredUpdateState.PayloadCorrupt, CorruptionKind.PayloadLengthMismatch,
                $"the payload file has {info.Length} bytes but the journal says {entry.PayloadLength}");
        }

        if (verifyHash)
        {
            var actual = HashFile(path);
            if (!actual.AsSpan().SequenceEqual(entry.PayloadSha256.Span))
            {
                return (StoredUpdateState.PayloadCorrupt, CorruptionKind.PayloadHashMismatch,
                    $"the payload's SHA-256 is 0x{Convert.ToHexStringLower(actual)} but the journal says 0x{Convert.ToHexStringLower(entry.PayloadSha256.Span)}");
            }
        }

        return (StoredUpdateState.Intact, default, null);
    }

    internal static byte[] HashFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(handle, buffer, offset)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return hash.GetHashAndReset();
    }

    private void RemoveIncompleteTask(string directory, RecoveryFindings findings)
    {
        // task.json is written (durably) before any round directory, so a task without it never acknowledged anything;
        // journal records there mean something else went wrong, and nothing is removed.
        var rounds = Path.Combine(directory, RoundsDirectoryName);
        if (Directory.Exists(rounds)
            && Directory.EnumerateFiles(rounds, JournalFileName, SearchOption.AllDirectories).Any(static j => new FileInfo(j).Length > 0))
        {
            Corrupt(findings, CorruptionKind.TaskDirectoryInvalid, directory, null, 0, default,
                "task.json is missing but journals hold records; the task is not loaded");
            return;
        }

        Directory.Delete(directory, recursive: true);
        DurableIO.FlushDirectory(_tasksDirectory);
        findings.RemovedIncompleteDirectories.Add(directory);
        Log.IncompleteTaskRemoved(_logger, directory);
    }

    private static string? ReadTaskFile(string path, out string? problem)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxTaskFileBytes)
        {
            problem = $"task.json is {length} bytes, over {MaxTaskFileBytes}";
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 2 });
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var v) && v == 1
                && root.TryGetProperty("taskId", out var taskId) && taskId.ValueKind == JsonValueKind.String
                && taskId.GetString() is { Length: > 0 } id)
            {
                problem = null;
                return id;
            }

            problem = "task.json is not {\"version\":1,\"taskId\":\"…\"}";
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            problem = $"task.json is not valid JSON ({e.Message})";
            return null;
        }
    }

    private void Corrupt(
        RecoveryFindings findings, CorruptionKind kind, string path, string? taskId, ulong round, ReadOnlyMemory<byte> updateId, string reason)
    {
        findings.Corruption.Add(new StoreCorruption(kind, path, taskId, round, updateId, reason));
        Log.Corruption(_logger, kind, path, reason);
    }

    private void Ignore(RecoveryFindings findings, string path)
    {
        findings.IgnoredEntries.Add(path);
        Log.UnexpectedEntryIgnored(_logger, path);
    }

    private static bool IsPayloadFileName(string name) =>
        name.Length == 64 + PayloadExtension.Length && name.EndsWith(PayloadExtension, StringComparison.Ordinal) && IsLowerHex(name.AsSpan(0, 64), 64);

    private static bool IsLowerHex(ReadOnlySpan<char> text, int length)
    {
        if (text.Length != length)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class RecoveryFindings
    {
        public List<string> RemovedTemporaryFiles { get; } = [];

        public List<string> RemovedUnjournaledPayloads { get; } = [];

        public List<string> RemovedIncompleteDirectories { get; } = [];

        public List<JournalTruncation> TruncatedJournals { get; } = [];

        public List<StoreCorruption> Corruption { get; } = [];

        public List<string> IgnoredEntries { get; } = [];
    }
}
