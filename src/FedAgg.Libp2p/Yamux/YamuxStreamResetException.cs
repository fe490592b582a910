namespace FedAgg.Libp2p.Yamux;

/// <summary>A yamux stream was reset (by either side) or its session ended before the peer finished the stream.</summary>
public sealed class YamuxStreamResetException : Libp2pException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public YamuxStreamResetException()
        : this("The yamux stream was reset.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What reset the stream.</param>
    public YamuxStreamResetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What reset the stream.</param>
    /// <param name="innerException">The error that caused it, if any.</param>
    public YamuxStreamResetException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
