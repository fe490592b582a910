namespace FedAgg.Storage;

/// <summary>
/// The root exception of FedAgg.Storage: the disk failed or holds something the store cannot accept (a corrupt file, a
/// store that stopped after an I/O error, another process holding the store). Misuse raises the standard argument and
/// operation exceptions instead.
/// </summary>
public class StorageException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public StorageException()
        : this("The storage operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, with the path involved.</param>
    public StorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, with the path involved.</param>
    /// <param name="innerException">The I/O error that caused it, if any.</param>
    public StorageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, with the path involved.</param>
    /// <param name="innerException">The I/O error that caused it, if any.</param>
    /// <param name="isTransient">Whether retrying the same operation later can succeed.</param>
    public StorageException(string message, Exception? innerException, bool isTransient)
        : base(message, innerException) => IsTransient = isTransient;

    /// <summary>Whether retrying the same operation later can succeed (false unless stated).</summary>
    public bool IsTransient { get; }
}
