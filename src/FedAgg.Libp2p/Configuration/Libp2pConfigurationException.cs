namespace FedAgg.Libp2p.Configuration;

/// <summary>
/// A libp2p configuration file is missing, unreadable, not JSON, has an unknown field or a value out of range. The
/// message names the file, the field and the allowed values.
/// </summary>
public sealed class Libp2pConfigurationException : Libp2pException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public Libp2pConfigurationException()
        : this("The libp2p configuration is invalid.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file and field.</param>
    public Libp2pConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file and field.</param>
    /// <param name="innerException">The I/O or JSON error that caused it, if any.</param>
    public Libp2pConfigurationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
