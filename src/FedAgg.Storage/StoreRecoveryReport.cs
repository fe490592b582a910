namespace FedAgg.Storage;

/// <summary>What a finding of recovery is about.</summary>
public enum CorruptionKind
{
    /// <summary>A journalled update's payload file is missing.</summary>
    PayloadMissing,

    /// <summary>A journalled update's payload file has a different length than journalled.</summary>
    PayloadLengthMismatch,

    /// <summary>A journalled update's payload file has a different SHA-256 than journalled.</summary>
    PayloadHashMismatch,

    /// <summary>Bytes in the middle of a journal (valid records follow them) are not a valid record; they are kept.</summary>
    JournalRecordInvalid,

    /// <summary>A valid journal record names another task or round than the journal it is in; it is not loaded.</summary>
    JournalRecordMisplaced,

    /// <summary>A journal's sequence numbers skip or repeat, so records may be lost.</summary>
    JournalSequenceGap,

    /// <summary>A journal record repeats an update id already journalled in the task; the repeat is not loaded.</summary>
    DuplicateUpdateId,

    /// <summary>A payload without a journal record is kept because its round's journal is damaged (it may be an acknowledged update whose record was lost).</summary>
    UnjournaledPayloadKept,

    /// <summary>A task directory has an unreadable task.json, or a task.json that does not match the directory name; the task is not loaded.</summary>
    TaskDirectoryInvalid,
}

/// <summary>A corruption recovery found and left in place (never deleted, never silently dropped).</summary>
/// <param name="Kind">What is corrupt.</param>
/// <param name="Path">The file or directory.</param>
/// <param name="TaskId">The task, when known.</param>
/// <param name="Round">The round, when known; 0 otherwise.</param>
/// <param name="UpdateId">The update, when known; empty otherwise.</param>
/// <param name="Reason">What was found, for an operator.</param>
public sealed record StoreCorruption(CorruptionKind Kind, string Path, string? TaskId, ulong Round, ReadOnlyMemory<byte> UpdateId, string Reason);

/// <summary>A journal whose torn tail (a partial or checksum-failing last record, never acknowledged) recovery cut off.</summary>
/// <param name="JournalPath">The journal.</param>
/// <param name="ValidLength">The length it was truncated to.</param>
/// <param name="RemovedBytes">How many bytes were removed.</param>
/// <param name="Reason">Why the tail is invalid.</param>
public sealed record JournalTruncation(string JournalPath, long ValidLength, long RemovedBytes, string Reason);

/// <summary>What <see cref="UpdateStore.Open"/> found and did. Everything here is also logged.</summary>
public sealed class StoreRecoveryReport
{
    internal StoreRecoveryReport(
        int tasks,
        int rounds,
        int updates,
        IReadOnlyList<string> removedTemporaryFiles,
        IReadOnlyList<string> removedUnjournaledPayloads,
        IReadOnlyList<string> removedIncompleteDirectories,
        IReadOnlyList<JournalTruncation> truncatedJournals,
        IReadOnlyList<StoreCorruption> corruption,
        IReadOnlyList<string> ignoredEntries)
    {
        Tasks = tasks;
        Rounds = rounds;
        Updates = updates;
        RemovedTemporaryFiles = removedTemporaryFiles;
        RemovedUnjournaledPayloads = removedUnjournaledPayloads;
        RemovedIncompleteDirectories = removedIncompleteDirectories;
        TruncatedJournals = truncatedJournals;
        Corruption = corruption;
        IgnoredEntries = ignoredEntries;
    }

    /// <summary>How many tasks were loaded.</summary>
    public int Tasks { get; }

    /// <summary>How many rounds were loaded.</summary>
    public int Rounds { get; }

    /// <summary>How many journalled updates were loaded (corrupt ones included).</summary>
    public int Updates { get; }

    /// <summary>Temporary files of uploads that never committed, removed.</summary>
    public IReadOnlyList<string> RemovedTemporaryFiles { get; }

    /// <summary>Payload files without a journal record (renamed, but the process died before the record was durable), removed.</summary>
    public IReadOnlyList<string> RemovedUnjournaledPayloads { get; }

    /// <summary>Task directories that never got their task.json (and hold no journal records), removed.</summary>
    public IReadOnlyList<string> RemovedIncompleteDirectories { get; }

    /// <summary>Journals whose torn tail was cut off.</summary>
    public IReadOnlyList<JournalTruncation> TruncatedJournals { get; }

    /// <summary>Every corruption found: missing or damaged payloads of journalled updates, damaged journals, invalid task directories.</summary>
    public IReadOnlyList<StoreCorruption> Corruption { get; }

    /// <summary>Files and directories the store does not know, left alone.</summary>
    public IReadOnlyList<string> IgnoredEntries { get; }

    /// <summary>Whether any corruption was found.</summary>
    public bool HasCorruption => Corruption.Count > 0;
}
