namespace FedAgg.Chain.Rlp;

/// <summary>
/// RLP input that is not a canonical encoding: a length beyond the input, a non-minimal length or integer, a
/// single byte below 0x80 wrapped in a string header, trailing bytes, or nesting deeper than the decoder allows.
/// </summary>
public sealed class RlpException : FormatException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public RlpException()
        : this("Invalid RLP.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public RlpException(string message)
        : base(message)
    {
        Reason = message;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The error that caused it, if any.</param>
    public RlpException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>Creates the exception for a problem at <paramref name="offset"/> in the input.</summary>
    /// <param name="offset">The byte offset of the offending item or header in the whole input.</param>
    /// <param name="reason">What is wrong there.</param>
    public RlpException(int offset, string reason)
        : base($"Invalid RLP at offset {offset}: {reason}")
    {
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The byte offset in the whole input where the problem is; -1 when not tied to an offset.</summary>
    public int Offset { get; } = -1;

    /// <summary>What is wrong, without the offset.</summary>
    public string Reason { get; }
}
