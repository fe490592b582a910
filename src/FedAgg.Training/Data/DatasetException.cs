namespace FedAgg.Training.Data;

/// <summary>
/// Training data could not be loaded: a file is missing or malformed. The message names the file (or directory) and
/// says exactly what is wrong.
/// </summary>
public class DatasetException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public DatasetException()
        : base("The data set could not be loaded.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The problem.</param>
    public DatasetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and an inner exception.</summary>
    /// <param name="message">The problem.</param>
    /// <param name="innerException">The underlying error.</param>
    public DatasetException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception whose message is "<c>path: problem</c>".</summary>
    /// <param name="problem">The exact problem.</param>
    /// <param name="path">The file or directory.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public DatasetException(string problem, string path, Exception? innerException)
        : base($"{path}: {problem}", innerException)
    {
        Path = path;
    }

    /// <summary>The file or directory concerned, when known.</summary>
    public string? Path { get; }

    /// <summary>True when the data is simply not installed (rather than corrupt).</summary>
    public bool IsMissing { get; init; }
}
