using FedAgg.Core.Updates;

namespace FedAgg.Storage.Ingest;

/// <summary>
/// The admission and rate-limit step of ingest (statuses <see cref="SubmitStatus.NotAdmitted"/> and
/// <see cref="SubmitStatus.RateLimited"/>); the server implements it over its participant state.
/// </summary>
public interface ISubmissionGate
{
    /// <summary>Whether the update's signer may submit it now; <see cref="SubmissionCheck.Passed"/> to go on.</summary>
    ValueTask<SubmissionCheck> AdmitAsync(DecodedSubmission submission, CancellationToken cancellationToken);
}

/// <summary>Admits every peer (open tasks, tests).</summary>
public sealed class AdmitAllGate : ISubmissionGate
{
    /// <summary>The shared instance.</summary>
    public static AdmitAllGate Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<SubmissionCheck> AdmitAsync(DecodedSubmission submission, CancellationToken cancellationToken) => ValueTask.FromResult(SubmissionCheck.Passed);
}

/// <summary>Options of <see cref="UpdateIngest"/>.</summary>
public sealed class UpdateIngestOptions
{
    /// <summary>How long a payload may go without a byte before the submission is refused. Default 30 s; 1 ms to 10 min.</summary>
    public TimeSpan PayloadIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The size of the pooled buffer payloads are copied through. Default 256 KiB; 4 KiB to 16 MiB.</summary>
    public int ReadBufferBytes { get; set; } = 256 * 1024;

    /// <summary>Throws when an option is out of range, naming it and its range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (PayloadIdleTimeout < TimeSpan.FromMilliseconds(1) || PayloadIdleTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(PayloadIdleTimeout), PayloadIdleTimeout, "PayloadIdleTimeout must be between 1 ms and 10 min.");
        }

        if (ReadBufferBytes is < 4096 or > 16 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ReadBufferBytes), ReadBufferBytes, "ReadBufferBytes must be between 4096 and 16 MiB.");
        }
    }
}
