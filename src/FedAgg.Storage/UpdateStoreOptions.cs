namespace FedAgg.Storage;

/// <summary>How <see cref="UpdateStore.CommitAsync"/> makes an update durable. Both modes return only after the payload, its directory entry and its journal record are on disk.</summary>
public enum DurabilityMode
{
    /// <summary>
    /// Every commit flushes its payload, the payload directory and the round's journal itself; commits to the same
    /// round wait for each other's journal fsync. The simple baseline.
    /// </summary>
    FsyncPerUpdate,

    /// <summary>
    /// Every commit flushes its own payload; one committer thread then takes every commit queued while its previous
    /// flush ran and makes them durable together with one fsync per payload directory and one per round journal. No
    /// timer adds latency: a lone commit is flushed at once.
    /// </summary>
    GroupCommit,
}

/// <summary>Settings of an <see cref="UpdateStore"/>, checked by <see cref="Validate"/> when the store opens.</summary>
public sealed class UpdateStoreOptions
{
    /// <summary>The default <see cref="MaxUpdateBytes"/>: 1 GiB.</summary>
    public const long DefaultMaxUpdateBytes = 1L << 30;

    /// <summary>The largest allowed <see cref="MaxUpdateBytes"/>: 1 TiB.</summary>
    public const long MaxAllowedUpdateBytes = 1L << 40;

    /// <summary>The directory that holds <c>tasks/</c>; created if missing. Required.</summary>
    public string RootDirectory { get; set; } = string.Empty;

    /// <summary>How commits are made durable. Default <see cref="DurabilityMode.GroupCommit"/>.</summary>
    public DurabilityMode DurabilityMode { get; set; } = DurabilityMode.GroupCommit;

    /// <summary>
    /// The largest payload one update may have, in bytes: a write past it throws. Default
    /// <see cref="DefaultMaxUpdateBytes"/> (1 GiB); allowed 1 to <see cref="MaxAllowedUpdateBytes"/>.
    /// </summary>
    public long MaxUpdateBytes { get; set; } = DefaultMaxUpdateBytes;

    /// <summary>
    /// Whether opening the store recomputes the SHA-256 of every journalled payload (true, the default) or only checks
    /// that each exists with the journalled length (false, for stores too large to hash at every start).
    /// </summary>
    public bool VerifyPayloadHashesOnOpen { get; set; } = true;

    /// <summary>
    /// Whether a commit is refused (<see cref="UpdateConflict.SignerAlreadySubmitted"/>) when the same signer already
    /// has an update in the round, committed or being committed. Checked atomically with the commit. Default true.
    /// </summary>
    public bool EnforceOneUpdatePerSigner { get; set; } = true;

    /// <summary>
    /// Whether a commit is refused (<see cref="UpdateConflict.CopiedPayload"/>) when a different signer already has an
    /// update with the same payload hash anywhere in the task. Checked atomically with the commit. Default true.
    /// </summary>
    public bool RejectCopiedPayloads { get; set; } = true;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and the allowed range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RootDirectory))
        {
            throw new ArgumentException($"{nameof(UpdateStoreOptions)}.{nameof(RootDirectory)} is required: a directory path.", nameof(RootDirectory));
        }

        if (!Enum.IsDefined(DurabilityMode))
        {
            throw new ArgumentException(
                $"{nameof(UpdateStoreOptions)}.{nameof(DurabilityMode)} must be {nameof(DurabilityMode.FsyncPerUpdate)} or {nameof(DurabilityMode.GroupCommit)}; it is {(int)DurabilityMode}.",
                nameof(DurabilityMode));
        }

        if (MaxUpdateBytes is < 1 or > MaxAllowedUpdateBytes)
        {
            throw new ArgumentException(
                $"{nameof(UpdateStoreOptions)}.{nameof(MaxUpdateBytes)} must be between 1 and {MaxAllowedUpdateBytes} bytes; it is {MaxUpdateBytes}.",
                nameof(MaxUpdateBytes));
        }
    }
}
