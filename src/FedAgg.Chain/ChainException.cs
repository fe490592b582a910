namespace FedAgg.Chain;

/// <summary>
/// The root exception of FedAgg.Chain: the node could not be reached, answered with a JSON-RPC error, or a
/// transaction reverted or could not be confirmed. Misuse raises the standard argument and operation exceptions
/// instead. Messages never contain key material.
/// </summary>
public class ChainException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ChainException()
        : this("The chain operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public ChainException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport error that caused it, if any.</param>
    public ChainException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the details a JSON-RPC error or a revert carries.</summary>
    /// <param name="message">What failed, including the node's message and the decoded revert reason where known.</param>
    /// <param name="innerException">The transport error that caused it, if any.</param>
    /// <param name="isTransient">Whether retrying the same operation later can succeed.</param>
    /// <param name="rpcErrorCode">The JSON-RPC error code, if the node answered with one.</param>
    /// <param name="nodeMessage">The node's own error message, if any.</param>
    /// <param name="revertData">The raw revert data (error selector and arguments), if the call reverted with data.</param>
    /// <param name="revertReason">The revert data decoded to text (e.g. <c>RoundOutOfOrder(expected: 3, got: 5)</c>), if it could be decoded.</param>
    public ChainException(
        string message,
        Exception? innerException,
        bool isTransient,
        int? rpcErrorCode = null,
        string? nodeMessage = null,
        byte[]? revertData = null,
        string? revertReason = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
        RpcErrorCode = rpcErrorCode;
        NodeMessage = nodeMessage;
        RevertData = revertData;
        RevertReason = revertReason;
    }

    /// <summary>Whether retrying the same operation later can succeed (timeouts, connection failures, 5xx answers).</summary>
    public bool IsTransient { get; }

    /// <summary>The JSON-RPC error code, if the node answered with one.</summary>
    public int? RpcErrorCode { get; }

    /// <summary>The node's own error message, if any.</summary>
    public string? NodeMessage { get; }

    /// <summary>The raw revert data (selector and ABI-encoded arguments), if the call reverted with data.</summary>
    public byte[]? RevertData { get; }

    /// <summary>The revert data decoded to text, if it could be decoded.</summary>
    public string? RevertReason { get; }

    /// <summary>The 4-byte selector of the revert data as <c>0x…</c> hex, or null without revert data.</summary>
    public string? RevertSelector => RevertData is { Length: >= 4 } data ? "0x" + Convert.ToHexStringLower(data.AsSpan(0, 4)) : null;
}
