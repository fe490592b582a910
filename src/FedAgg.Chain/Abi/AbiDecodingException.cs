namespace FedAgg.Chain.Abi;

/// <summary>
/// ABI-encoded input that does not decode as the expected types: an offset or length outside the data, non-zero
/// padding, a value out of its type's range, invalid UTF-8 in a string, a wrong selector or topic, or trailing bytes
/// where none are allowed.
/// </summary>
public sealed class AbiDecodingException : FormatException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public AbiDecodingException()
        : this("Invalid ABI encoding.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public AbiDecodingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The error that caused it, if any.</param>
    public AbiDecodingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a problem at <paramref name="offset"/> in the data.</summary>
    /// <param name="offset">The byte offset in the decoded data.</param>
    /// <param name="reason">What is wrong there.</param>
    public AbiDecodingException(int offset, string reason)
        : base($"Invalid ABI encoding at offset {offset}: {reason}")
    {
        Offset = offset;
    }

    /// <summary>The byte offset in the data where the problem is; -1 when not tied to an offset.</summary>
    public int Offset { get; } = -1;
}
