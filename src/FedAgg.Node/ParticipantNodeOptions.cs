using FedAgg.Client;

namespace FedAgg.Node;

/// <summary>Settings of a <see cref="ParticipantNode"/>; <see cref="Validate"/> names any option out of range.</summary>
public sealed class ParticipantNodeOptions
{
    /// <summary>The task the node takes part in (1 … 128 UTF-8 bytes); default <c>demo</c>.</summary>
    public string TaskId { get; set; } = "demo";

    /// <summary>
    /// The node's data directory (required): receipts are kept as <c>receipts/&lt;task&gt;/round-&lt;r&gt;.json</c>
    /// and fetched manifests as <c>manifests/&lt;task&gt;/round-&lt;r&gt;.json</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>How many times one signed update is sent before giving up (1 … 100, default 5).</summary>
    public int SubmitAttempts { get; set; } = 5;

    /// <summary>The wait before the first retry, doubled for each further one up to 5 s (1 ms … 1 min, default 200 ms).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a signed update stays valid (its <c>expiresUnixMs</c>; 1 s … 7 days, default 1 h).</summary>
    public TimeSpan UpdateLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The client's options (request timeout, model size limit); defaults when null.</summary>
    public FedAggClientOptions? Client { get; set; }

    /// <summary>The clock for retry delays and expiry; <see cref="TimeProvider.System"/> when null.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and the allowed range.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(TaskId) || System.Text.Encoding.UTF8.GetByteCount(TaskId) > Core.Updates.UpdatePreimage.MaxTaskIdBytes)
        {
            throw new ArgumentException($"{nameof(TaskId)} must be 1 … {Core.Updates.UpdatePreimage.MaxTaskIdBytes} UTF-8 bytes.", nameof(TaskId));
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException($"{nameof(DataDirectory)} is required.", nameof(DataDirectory));
        }

        if (SubmitAttempts is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(SubmitAttempts), SubmitAttempts, $"{nameof(SubmitAttempts)} must be 1 … 100.");
        }

        if (RetryDelay < TimeSpan.FromMilliseconds(1) || RetryDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"{nameof(RetryDelay)} must be 1 ms … 1 min.");
        }

        if (UpdateLifetime < TimeSpan.FromSeconds(1) || UpdateLifetime > TimeSpan.FromDays(7))
        {
            throw new ArgumentOutOfRangeException(nameof(UpdateLifetime), UpdateLifetime, $"{nameof(UpdateLifetime)} must be 1 s … 7 days.");
        }
    }
}
