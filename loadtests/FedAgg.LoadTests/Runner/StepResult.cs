namespace FedAgg.LoadTests.Runner;

/// <summary>What one execution of a step reports (its latency is measured by the runner).</summary>
public readonly record struct StepResult
{
    private StepResult(bool isOk, long bytesSent, long bytesReceived, string? failReason)
    {
        IsOk = isOk;
        BytesSent = bytesSent;
        BytesReceived = bytesReceived;
        FailReason = failReason;
    }

    /// <summary>Whether the step succeeded.</summary>
    public bool IsOk { get; }

    /// <summary>Payload bytes the step sent.</summary>
    public long BytesSent { get; }

    /// <summary>Payload bytes the step received.</summary>
    public long BytesReceived { get; }

    /// <summary>Why the step failed: a short, low-cardinality reason (statistics are grouped by it); null when ok.</summary>
    public string? FailReason { get; }

    /// <summary>A success.</summary>
    /// <param name="bytesSent">Payload bytes sent.</param>
    /// <param name="bytesReceived">Payload bytes received.</param>
    /// <returns>The result.</returns>
    public static StepResult Ok(long bytesSent = 0, long bytesReceived = 0) => new(true, bytesSent, bytesReceived, null);

    /// <summary>A failure.</summary>
    /// <param name="reason">Why (e.g. <c>status:RoundNotOpen</c>, <c>timeout</c>); kept to 80 characters.</param>
    /// <param name="bytesSent">Payload bytes sent before failing.</param>
    /// <param name="bytesReceived">Payload bytes received before failing.</param>
    /// <returns>The result.</returns>
    public static StepResult Fail(string reason, long bytesSent = 0, long bytesReceived = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new(false, bytesSent, bytesReceived, reason.Length <= 80 ? reason : reason[..80]);
    }
}
