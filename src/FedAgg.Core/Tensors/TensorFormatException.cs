namespace FedAgg.Core.Tensors;

/// <summary>
/// A tensor file (.npy or .safetensors) is malformed or uses a feature we do not support.
/// The message names the file when it is known and states the exact problem.
/// </summary>
public class TensorFormatException : FormatException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public TensorFormatException()
        : base("The tensor file is malformed.")
    {
        Problem = Message;
    }

    /// <summary>Creates an exception with the given message and no file name.</summary>
    /// <param name="message">The problem.</param>
    public TensorFormatException(string message)
        : base(message)
    {
        Problem = message;
    }

    /// <summary>Creates an exception with the given message, no file name and an inner exception.</summary>
    /// <param name="message">The problem.</param>
    /// <param name="innerException">The underlying error.</param>
    public TensorFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>Creates an exception whose message is "<c>fileName: problem</c>" (just the problem when the file is unknown).</summary>
    /// <param name="problem">The exact problem.</param>
    /// <param name="fileName">The file, or <see langword="null"/> when unknown.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public TensorFormatException(string problem, string? fileName, Exception? innerException = null)
        : base(fileName is null ? problem : $"{fileName}: {problem}", innerException)
    {
        Problem = problem;
        FileName = fileName;
    }

    /// <summary>The file the problem was found in, or <see langword="null"/> when unknown.</summary>
    public string? FileName { get; }

    /// <summary>The problem without the file name.</summary>
    public string Problem { get; }
}
