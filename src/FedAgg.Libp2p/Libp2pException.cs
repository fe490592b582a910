namespace FedAgg.Libp2p;

/// <summary>
/// The root exception of FedAgg.Libp2p: a connection or stream failed (the peer misbehaved, reset, timed out or went
/// away), or a dial or negotiation did not succeed. Misuse raises the standard argument and operation exceptions
/// instead. Peer garbage is a decode status inside the stack; it becomes this exception only where a caller waits on
/// the connection or stream it ended.
/// </summary>
public class Libp2pException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public Libp2pException()
        : this("The libp2p operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the peer or address where known.</param>
    public Libp2pException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the peer or address where known.</param>
    /// <param name="innerException">The error that caused it, if any.</param>
    public Libp2pException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
