namespace FedAgg.LoadTests.Reports;

/// <summary>
/// What the server keeps in memory per round on purpose, computed from its data structures on 64-bit CoreCLR (an
/// object is a 16-byte header and method table plus its fields, padded to 8; an array 24 bytes plus its elements,
/// padded to 8; a string 22 bytes plus 2 per character, padded to 8). A leak check subtracts it from the measured
/// growth of the retained heap; what remains is retention nobody meant.
/// </summary>
/// <remarks>
/// <para>Per accepted update:</para>
/// <list type="bullet">
/// <item>the update store's journal index (src/FedAgg.Storage, every round kept for recovery and duplicate detection):
/// the <c>JournalEntry</c> (136) and its five arrays (update id 32, payload hash 32, signer key, preimage, signature 64
/// bytes), the <c>StoredUpdate</c> (40) and its list slot (8), and entries in <c>ByUpdateId</c>, <c>ByPayloadHash</c>
/// (task-wide) and <c>BySigner</c> (per round), 24 bytes each plus a 4-byte bucket;</item>
/// </list>
/// <para>A participant's credit history (<c>ParticipantGrain</c>: a <c>CreditRecord</c> of 72 bytes, its update id as
/// 0x-hex, its credit as a decimal string and a list slot, per round it took part in) stops growing at
/// <c>ParticipantState.MaxCreditHistory</c> (32) records, inside the check's warm-up, so it is not in the per-round allowance.</para>
/// <para>Per round: the store's <c>RoundState</c> (120) with its three paths, list, per-signer dictionary and set,
/// journal lock and sorted-dictionary node; the task's model list entry (<c>TaskModel</c>, 32, with the model hash as 0x-hex).</para>
/// <para>Collections that double as they fill (the task-wide dictionaries, the credit lists) add up to as much again in
/// spare capacity at times; the allowance does not count it, so a run that ends just after a resize shows up to a few
/// hundred bytes per round of extra growth, inside the check's margin.</para>
/// </remarks>
public static class ByDesignRetention
{
    /// <summary>The signer key of an Ed25519 participant: the libp2p <c>PublicKey</c> protobuf (2 + 2 + 32 bytes).</summary>
    public const int Ed25519SignerKeyBytes = 36;

    /// <summary>The bytes of a <c>byte[]</c> of <paramref name="length"/> elements.</summary>
    /// <param name="length">Elements.</param>
    /// <returns>Bytes on the heap.</returns>
    public static long ArrayBytes(long length) => Pad(24 + length);

    /// <summary>The bytes of a string of <paramref name="chars"/> UTF-16 characters.</summary>
    /// <param name="chars">Characters.</param>
    /// <returns>Bytes on the heap.</returns>
    public static long StringBytes(long chars) => Pad(22 + (2 * chars));

    /// <summary>The update store's journal index per accepted update.</summary>
    /// <param name="preimageBytes">The signed preimage's length.</param>
    /// <param name="signerKeyBytes">The signer key's length.</param>
    /// <returns>Bytes.</returns>
    public static long JournalIndexBytesPerUpdate(int preimageBytes, int signerKeyBytes = Ed25519SignerKeyBytes) =>
        136 + ArrayBytes(32) + ArrayBytes(32) + ArrayBytes(signerKeyBytes) + ArrayBytes(preimageBytes) + ArrayBytes(64) + 40 + 8 + (3 * (24 + 4));

    /// <summary>The update store's per-round state besides its updates.</summary>
    /// <param name="dataDirectoryChars">The length of the server's data directory path (the round's three paths start with it).</param>
    /// <returns>Bytes.</returns>
    public static long JournalIndexBytesPerRound(int dataDirectoryChars)
    {
        // <data>/tasks/<64 hex>/rounds/<round>, then /updates and /journal appended; a round number of up to 4 digits.
        var directory = dataDirectoryChars + "/tasks/".Length + 64 + "/rounds/".Length + 4;
        var paths = StringBytes(directory) + StringBytes(directory + "/updates".Length) + StringBytes(directory + "/journal".Length);
        const long roundState = 120;
        const long updateList = 32 + 56; // List<StoredUpdate> and a 4-slot array
        const long bySigner = 80 + 40 + 96; // Dictionary, buckets (3), entries (3)
        const long reservedSigners = 64 + 40 + 72; // HashSet, buckets, slots once used
        const long journalLock = 24;
        const long sortedNode = 56;
        return roundState + paths + updateList + bySigner + reservedSigners + journalLock + sortedNode;
    }

    /// <summary>A participant's credit record (the history keeps at most 32; not part of <see cref="BytesPerRound"/>).</summary>
    /// <param name="creditChars">The credit's decimal digits.</param>
    /// <returns>Bytes.</returns>
    public static long CreditHistoryBytesPerUpdate(int creditChars) => 72 + StringBytes(66) + StringBytes(creditChars) + 8;

    /// <summary>The task's model list per published round.</summary>
    public static long TaskModelBytesPerRound => 32 + StringBytes(66) + 8;

    /// <summary>Everything kept per round on purpose.</summary>
    /// <param name="updatesPerRound">Accepted updates per round.</param>
    /// <param name="preimageBytes">The signed preimage's length.</param>
    /// <param name="dataDirectoryChars">The length of the server's data directory path.</param>
    /// <returns>Bytes per round.</returns>
    public static double BytesPerRound(double updatesPerRound, int preimageBytes, int dataDirectoryChars) =>
        (updatesPerRound * JournalIndexBytesPerUpdate(preimageBytes)) + JournalIndexBytesPerRound(dataDirectoryChars) + TaskModelBytesPerRound;

    private static long Pad(long bytes) => (bytes + 7) & ~7L;
}
