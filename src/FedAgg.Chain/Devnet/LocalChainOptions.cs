namespace FedAgg.Chain.Devnet;

/// <summary>How <see cref="LocalChain"/> starts its anvil node.</summary>
public sealed class LocalChainOptions
{
    /// <summary>The folder that keeps the chain's state (<c>anvil-state.json</c>) across restarts. Required.</summary>
    public string DataDirectory { get; set; } = string.Empty;

    /// <summary>The loopback port to listen on; 0 chooses a free one. Default 0; 0 to 65535.</summary>
    public int Port { get; set; }

    /// <summary>The chain id. Default 31337 (anvil's); 1 to 2^53.</summary>
    public ulong ChainId { get; set; } = 31337;

    /// <summary>Seconds between blocks; null mines each transaction at once. Default null; 1 to 3600.</summary>
    public int? BlockTimeSeconds { get; set; }

    /// <summary>The anvil executable; null searches <c>FEDAGG_ANVIL</c>, the repository's node_modules, then PATH.</summary>
    public string? AnvilPath { get; set; }

    /// <summary>How long the node may take to answer after start. Default 30 s; 1 s to 5 min.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException($"{nameof(LocalChainOptions)}.{nameof(DataDirectory)} is required.", nameof(DataDirectory));
        }

        Check(Port is >= 0 and <= 65535, nameof(Port), Port, "0 to 65535");
        Check(ChainId is >= 1 and <= 1UL << 53, nameof(ChainId), ChainId, "1 to 2^53");
        Check(BlockTimeSeconds is null or (>= 1 and <= 3600), nameof(BlockTimeSeconds), BlockTimeSeconds!, "null or 1 to 3600");
        Check(StartTimeout >= TimeSpan.FromSeconds(1) && StartTimeout <= TimeSpan.FromMinutes(5), nameof(StartTimeout), StartTimeout, "1 s to 5 min");
    }

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(LocalChainOptions)}.{name} must be {range}.");
        }
    }
}
