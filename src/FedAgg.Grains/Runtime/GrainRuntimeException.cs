namespace FedAgg.Grains.Runtime;

/// <summary>
/// The root exception of FedAgg.Grains: something the grain runtime itself reports (a deadlock, an ETag conflict, a
/// reminder that cannot be changed). Exceptions thrown by grain code reach the caller unchanged, not wrapped in this.
/// Orleans: <c>OrleansException</c>.
/// </summary>
public class GrainRuntimeException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public GrainRuntimeException()
        : this("The grain runtime failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public GrainRuntimeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public GrainRuntimeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A call would wait forever: the target activation is in the caller's own call chain (A → B → A, or a grain calling
/// itself) and is busy with the request that made the chain. Orleans would hang until the response timeout; this
/// runtime detects the cycle and throws at once. Fix it with <see cref="AlwaysInterleaveAttribute"/>,
/// <see cref="ReadOnlyAttribute"/> (on both calls), <see cref="ReentrantAttribute"/>, or by restructuring the calls.
/// </summary>
public sealed class DeadlockException : GrainRuntimeException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public DeadlockException()
        : this("A grain call would deadlock.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public DeadlockException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public DeadlockException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a detected cycle.</summary>
    /// <param name="message">What failed, naming the chain.</param>
    /// <param name="callChain">The grains of the chain, outermost first, ending with the target again.</param>
    public DeadlockException(string message, IReadOnlyList<GrainId> callChain)
        : base(message) => CallChain = callChain;

    /// <summary>The grains of the chain, outermost first, ending with the target again.</summary>
    public IReadOnlyList<GrainId> CallChain { get; } = [];
}
