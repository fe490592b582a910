using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FedAgg.Storage;

/// <summary>One task's directory and indexes. Guarded by the store's gate.</summary>
internal sealed class TaskState(string taskId, string directory)
{
    public string TaskId { get; } = taskId;

    public string Directory { get; } = directory;

    public SortedDictionary<ulong, RoundState> Rounds { get; } = [];

    public Dictionary<byte[], JournalEntry> ByUpdateId { get; } = new(ByteArrayComparer.Instance);

    public Dictionary<byte[], JournalEntry> ByPayloadHash { get; } = new(ByteArrayComparer.Instance);

    public HashSet<byte[]> ReservedUpdateIds { get; } = new(ByteArrayComparer.Instance);

    // payload hash → the signer committing it and how many of its commits (in different rounds) are in flight.
    public Dictionary<byte[], (byte[] Signer, int Count)> ReservedPayloads { get; } = new(ByteArrayComparer.Instance);

    /// <summary>The task directory name: lowercase hex SHA-256 of the UTF-8 task id (fixed length, any task id is a safe file name).</summary>
    public static string KeyOf(string taskId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(taskId)));
}

/// <summary>One round's directory, journal and entries.</summary>
internal sealed class RoundState(TaskState task, ulong round, string directory)
{
    public TaskState Task { get; } = task;

    public ulong Round { get; } = round;

    public string Directory { get; } = directory;

    public string UpdatesDirectory { get; } = Path.Combine(directory, UpdateStore.UpdatesDirectoryName);

    public string JournalPath { get; } = Path.Combine(directory, UpdateStore.JournalFileName);

    /// <summary>Whether the round's directories and journal exist durably. Guarded by the store's gate.</summary>
    public bool Prepared { get; set; }

    /// <summary>The updates in sequence order. Guarded by the store's gate.</summary>
    public List<StoredUpdate> Updates { get; } = [];

    public Dictionary<byte[], JournalEntry> BySigner { get; } = new(ByteArrayComparer.Instance);

    public HashSet<byte[]> ReservedSigners { get; } = new(ByteArrayComparer.Instance);

    /// <summary>Serialises journal appends; taken before the store's gate, never after.</summary>
    public object JournalLock { get; } = new();

    /// <summary>The open journal (guarded by <see cref="JournalLock"/>); opened at the first append.</summary>
    public SafeFileHandle? Journal { get; set; }

    /// <summary>The journal's length, where the next record goes. Guarded by <see cref="JournalLock"/>.</summary>
    public long JournalLength { get; set; }

    /// <summary>The sequence the next record gets. Guarded by <see cref="JournalLock"/>.</summary>
    public ulong NextSequence { get; set; } = 1;

    public string PayloadPath(ReadOnlySpan<byte> updateId) =>
        Path.Combine(UpdatesDirectory, Convert.ToHexStringLower(updateId) + UpdateStore.PayloadExtension);
}
