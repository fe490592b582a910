namespace FedAgg.Chain.Rpc;

/// <summary>How <see cref="EthereumRpcClient"/> talks to a node.</summary>
public sealed class EthereumRpcOptions
{
    /// <summary>The time one request may take, retries not included. Default 10 s; 100 ms to 10 min.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a transient failure (connection refused or reset, timeout, HTTP 429/5xx) is retried. Default 4; 0 to 20.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first retry's delay; later ones back off exponentially with jitter. Default 200 ms; 1 ms to 1 min.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The largest answer accepted, in bytes. Default 64 MiB; 1 KiB to 1 GiB.</summary>
    public int MaxResponseBytes { get; set; } = 64 << 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of its range.</summary>
    public void Validate()
    {
        Check(RequestTimeout >= TimeSpan.FromMilliseconds(100) && RequestTimeout <= TimeSpan.FromMinutes(10), nameof(RequestTimeout), RequestTimeout, "100 ms to 10 min");
        Check(MaxRetries is >= 0 and <= 20, nameof(MaxRetries), MaxRetries, "0 to 20");
        Check(RetryDelay >= TimeSpan.FromMilliseconds(1) && RetryDelay <= TimeSpan.FromMinutes(1), nameof(RetryDelay), RetryDelay, "1 ms to 1 min");
        Check(MaxResponseBytes is >= 1024 and <= 1 << 30, nameof(MaxResponseBytes), MaxResponseBytes, "1 KiB to 1 GiB");
    }

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(EthereumRpcOptions)}.{name} must be {range}.");
        }
    }
}
