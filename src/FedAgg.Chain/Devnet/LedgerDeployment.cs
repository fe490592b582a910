using System.Text.Json;
using System.Text.Json.Serialization;

namespace FedAgg.Chain.Devnet;

/// <summary>Where a FedAggLedger lives and who holds its roles: written next to a local chain's state, read by the CLI.</summary>
public sealed record LedgerDeployment
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The chain id.</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The JSON-RPC endpoint it was deployed through.</summary>
    public required string RpcUrl { get; init; }

    /// <summary>The ledger's address (EIP-55).</summary>
    public required string Ledger { get; init; }

    /// <summary>The deployment transaction.</summary>
    public required string DeployTransaction { get; init; }

    /// <summary>The block that holds the deployment (event queries start here).</summary>
    public required ulong DeployBlock { get; init; }

    /// <summary>The admin (DEFAULT_ADMIN_ROLE).</summary>
    public required string Admin { get; init; }

    /// <summary>The anchoring key's address (ANCHOR_ROLE).</summary>
    public required string Anchor { get; init; }

    /// <summary>The coordinator (COORDINATOR_ROLE).</summary>
    public required string Coordinator { get; init; }

    /// <summary>The ledger address parsed.</summary>
    [JsonIgnore]
    public EthereumAddress LedgerAddress => EthereumAddress.Parse(Ledger);

    /// <summary>Reads a deployment file; a missing or malformed file is a <see cref="ChainException"/> naming it.</summary>
    public static LedgerDeployment Load(string path)
    {
        try
        {
            var deployment = JsonSerializer.Deserialize<LedgerDeployment>(File.ReadAllText(path), JsonOptions)
                ?? throw new ChainException($"{path} holds no deployment.");
            _ = deployment.LedgerAddress;
            return deployment;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException)
        {
            throw new ChainException($"Cannot read the ledger deployment {path}: {e.Message}", e);
        }
    }

    /// <summary>Writes the deployment file atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, JsonOptions));
        File.Move(temporary, path, overwrite: true);
    }
}
