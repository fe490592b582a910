namespace FedAgg.Storage;

/// <summary>Why <see cref="UpdateStore.CommitAsync"/> refused an update that conflicts with another one.</summary>
public enum UpdateConflict
{
    /// <summary>The task already has an update with this id (protocol status 1, duplicate: answer with the original receipt).</summary>
    DuplicateUpdateId,

    /// <summary>The signer already has an update in this round (protocol status 14, already submitted).</summary>
    SignerAlreadySubmitted,

    /// <summary>Another signer already has an update with the same payload hash in this task (protocol status 12, copied payload).</summary>
    CopiedPayload,
}

/// <summary>
/// A commit conflicts with an update that is committed or being committed. Checked atomically with the commit, so two
/// concurrent uploads cannot both pass.
/// </summary>
public sealed class UpdateConflictException : InvalidOperationException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public UpdateConflictException()
        : this("The update conflicts with a stored update.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public UpdateConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UpdateConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="conflict">What conflicts.</param>
    /// <param name="existing">The durable update it conflicts with; null while that one is still being committed.</param>
    /// <param name="message">The message.</param>
    public UpdateConflictException(UpdateConflict conflict, JournalEntry? existing, string message)
        : base(message)
    {
        Conflict = conflict;
        Existing = existing;
    }

    /// <summary>What conflicts.</summary>
    public UpdateConflict Conflict { get; }

    /// <summary>
    /// The durable update the commit conflicts with; null while that update is still being committed (it may yet
    /// fail, so nothing about it may be promised to a client).
    /// </summary>
    public JournalEntry? Existing { get; }
}
