namespace FedAgg.Node;

/// <summary>
/// The root exception of FedAgg.Node: a submission could not get a receipt after its retries, the server's round or
/// manifest broke what the node was promised, or a claim cannot be made. Misuse raises the standard argument exceptions.
/// </summary>
public class ParticipantNodeException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ParticipantNodeException()
        : this("The participant node operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public ParticipantNodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public ParticipantNodeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether trying again later can succeed (the server was unreachable or busy).</summary>
    public bool IsTransient { get; init; }
}
