namespace FedAgg.Storage;

/// <summary>One accepted update as its round's journal records it. Equality compares every field by value.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Round">The round (from 1).</param>
/// <param name="Sequence">The position in the round's journal: 1, 2, 3… in commit order, without gaps.</param>
/// <param name="UpdateId">SHA-256 of the preimage (32 bytes).</param>
/// <param name="PayloadSha256">SHA-256 of the payload file (32 bytes).</param>
/// <param name="PayloadLength">The payload length in bytes.</param>
/// <param name="SignerPublicKey">The signer's libp2p PublicKey protobuf.</param>
/// <param name="Preimage">The signed preimage.</param>
/// <param name="Signature">The signature (64 bytes).</param>
/// <param name="ReceivedUnixMs">When the update arrived, in Unix milliseconds.</param>
public sealed record JournalEntry(
    string TaskId,
    ulong Round,
    ulong Sequence,
    ReadOnlyMemory<byte> UpdateId,
    ReadOnlyMemory<byte> PayloadSha256,
    long PayloadLength,
    ReadOnlyMemory<byte> SignerPublicKey,
    ReadOnlyMemory<byte> Preimage,
    ReadOnlyMemory<byte> Signature,
    long ReceivedUnixMs)
{
    /// <summary>Whether every field, byte contents included, is equal.</summary>
    /// <param name="other">The entry to compare with.</param>
    /// <returns>True when equal.</returns>
    public bool Equals(JournalEntry? other) =>
        other is not null
        && TaskId == other.TaskId
        && Round == other.Round
        && Sequence == other.Sequence
        && PayloadLength == other.PayloadLength
        && ReceivedUnixMs == other.ReceivedUnixMs
        && UpdateId.Span.SequenceEqual(other.UpdateId.Span)
        && PayloadSha256.Span.SequenceEqual(other.PayloadSha256.Span)
        && SignerPublicKey.Span.SequenceEqual(other.SignerPublicKey.Span)
        && Preimage.Span.SequenceEqual(other.Preimage.Span)
        && Signature.Span.SequenceEqual(other.Signature.Span);

    /// <summary>A hash over the task, round, sequence and update id.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(TaskId);
        hash.Add(Round);
        hash.Add(Sequence);
        hash.AddBytes(UpdateId.Span);
        return hash.ToHashCode();
    }
}

/// <summary>Whether a journalled update's payload is usable.</summary>
public enum StoredUpdateState
{
    /// <summary>The payload exists with the journalled length and (unless hashing on open is off) hash.</summary>
    Intact,

    /// <summary>The payload file is missing: the update was acknowledged but its bytes are lost.</summary>
    PayloadMissing,

    /// <summary>The payload file has the wrong length or hash.</summary>
    PayloadCorrupt,
}

/// <summary>A journalled update and the state of its payload.</summary>
/// <param name="Entry">The journal record.</param>
/// <param name="State">Whether the payload is usable, as found when the store opened (committed updates are <see cref="StoredUpdateState.Intact"/>).</param>
/// <param name="Problem">Why the payload is not usable; null when intact.</param>
public sealed record StoredUpdate(JournalEntry Entry, StoredUpdateState State, string? Problem)
{
    /// <summary>Whether the payload is missing or corrupt.</summary>
    public bool IsCorrupt => State != StoredUpdateState.Intact;
}
