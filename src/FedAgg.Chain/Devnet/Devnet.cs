using FedAgg.Chain.Crypto;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Chain.Devnet;

/// <summary>
/// The embedded development chain: a <see cref="LocalChain"/> with a FedAggLedger deployed on it (once; the deployment
/// is recorded in <c>deployment.json</c> beside the chain state and reused on restart). Roles use anvil's public
/// development keys: admin and coordinator key 0, anchor (the server) key 1. For local use only.
/// </summary>
public sealed class Devnet : IAsyncDisposable
{
    /// <summary>The file name of the deployment record in the data folder.</summary>
    public const string DeploymentFileName = "deployment.json";

    private Devnet(LocalChain chain, LedgerDeployment deployment, EthereumRpcClient rpc)
    {
        Chain = chain;
        Deployment = deployment;
        Rpc = rpc;
        Ledger = new FedAggLedger(rpc, deployment.LedgerAddress);
    }

    /// <summary>The running node.</summary>
    public LocalChain Chain { get; }

    /// <summary>The ledger's deployment.</summary>
    public LedgerDeployment Deployment { get; }

    /// <summary>A client for the node.</summary>
    public EthereumRpcClient Rpc { get; }

    /// <summary>The ledger binding.</summary>
    public FedAggLedger Ledger { get; }

    /// <summary>The admin's and coordinator's key (anvil development key 0).</summary>
    public static string AdminKeyHex => LocalChain.DevelopmentKeys[0];

    /// <summary>The anchoring key (anvil development key 1): what a server on this chain signs anchors with.</summary>
    public static string AnchorKeyHex => LocalChain.DevelopmentKeys[1];

    /// <summary>Starts the chain and deploys the ledger unless the recorded deployment is still there.</summary>
    public static async Task<Devnet> StartAsync(LocalChainOptions options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var chain = await LocalChain.StartAsync(options, logger, cancellationToken).ConfigureAwait(false);
        var rpc = new EthereumRpcClient(chain.RpcUrl, logger: logger);
        try
        {
            var path = Path.Combine(options.DataDirectory, DeploymentFileName);
            LedgerDeployment? deployment = null;
            if (File.Exists(path))
            {
                var recorded = LedgerDeployment.Load(path);
                if (recorded.ChainId == chain.ChainId && (await rpc.GetCodeAsync(recorded.LedgerAddress, cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                    deployment = recorded with { RpcUrl = chain.RpcUrl.ToString() };
                }
            }

            if (deployment is null)
            {
                using var admin = Secp256k1PrivateKey.FromHex(AdminKeyHex);
                using var anchor = Secp256k1PrivateKey.FromHex(AnchorKeyHex);
                using var sender = new TransactionSender(rpc, admin, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(50) }, logger);
                var (ledger, receipt) = await FedAggLedger.DeployAsync(sender, admin.Address, anchor.Address, admin.Address, cancellationToken).ConfigureAwait(false);
                deployment = new LedgerDeployment
                {
                    ChainId = chain.ChainId,
                    RpcUrl = chain.RpcUrl.ToString(),
                    Ledger = ledger.Address.ToString(),
                    DeployTransaction = receipt.TransactionHash.ToString(),
                    DeployBlock = receipt.BlockNumber,
                    Admin = admin.Address.ToString(),
                    Anchor = anchor.Address.ToString(),
                    Coordinator = admin.Address.ToString(),
                };
                Log.LedgerDeployed(logger, ledger.Address, receipt.TransactionHash, receipt.GasUsed);
            }

            deployment.Save(path);
            return new Devnet(chain, deployment, rpc);
        }
        catch
        {
            rpc.Dispose();
            await chain.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Rpc.Dispose();
        await Chain.DisposeAsync().ConfigureAwait(false);
    }
}
