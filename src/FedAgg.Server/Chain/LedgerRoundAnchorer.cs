using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Chain;

/// <summary>
/// Anchors rounds on a <c>FedAggLedger</c> through JSON-RPC with the anchor key (ANCHOR_ROLE), and registers tasks with
/// the registrar key (COORDINATOR_ROLE). Before sending, the ledger is asked whether it already holds the round: a
/// restart after a send that was mined finds it there and sends nothing. A send that loses a race with an earlier one of
/// ours (sent before a crash, mined since) reverts with <c>RoundOutOfOrder</c> at estimation or on chain; the ledger is
/// asked again and the earlier transaction is recognised by its commitment.
/// </summary>
public sealed class LedgerRoundAnchorer : IRoundAnchorer, IDisposable
{
    private readonly EthereumRpcClient _rpc;
    private readonly FedAggLedger _ledger;
    private readonly Secp256k1PrivateKey _anchorKey;
    private readonly Secp256k1PrivateKey _registrarKey;
    private readonly TransactionSender _anchorSender;
    private readonly TransactionSender _registrarSender;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;

    /// <summary>Connects to the chain of <paramref name="options"/>.</summary>
    /// <param name="options">The server options (validated; <see cref="FedAggServerOptions.Chain"/> has an RPC URL).</param>
    /// <param name="metrics">Where anchor gas is counted.</param>
    /// <param name="loggerFactory">For logs.</param>
    public LedgerRoundAnchorer(FedAggServerOptions options, ServerMetrics metrics, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var chain = options.Chain;
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger<LedgerRoundAnchorer>();
        _metrics = metrics;
        _rpc = new EthereumRpcClient(new Uri(chain.RpcUrl!), logger: loggerFactory.CreateLogger<EthereumRpcClient>());
        _ledger = new FedAggLedger(_rpc, EthereumAddress.Parse(options.Ledger));
        _anchorKey = EthereumKeyFile.Load(chain.AnchorKeyFile!, out _);
        _registrarKey = EthereumKeyFile.Load(chain.RegistrarKeyFile ?? chain.AnchorKeyFile!, out _);
        var senderOptions = new TransactionSenderOptions { PollInterval = chain.PollInterval, Confirmations = chain.Confirmations };
        _anchorSender = new TransactionSender(_rpc, _anchorKey, senderOptions, loggerFactory.CreateLogger<TransactionSender>());
        _registrarSender = _registrarKey.Address == _anchorKey.Address
            ? _anchorSender
            : new TransactionSender(_rpc, _registrarKey, senderOptions, loggerFactory.CreateLogger<TransactionSender>());
    }

    /// <inheritdoc />
    public bool Enabled => true;

    /// <summary>The ledger.</summary>
    public FedAggLedger Ledger => _ledger;

    /// <inheritdoc />
    public async Task EnsureTaskRegisteredAsync(TaskInfo task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var taskKey = FedAggLedger.TaskKey(task.TaskId);
        var settingsHash = Bytes32.Parse(task.SettingsHash);
        var onChain = await _ledger.GetTaskAsync(taskKey, cancellationToken).ConfigureAwait(false);
        if (!onChain.Registered)
        {
            try
            {
                var receipt = await _ledger.RegisterTaskAsync(
                    _registrarSender, taskKey, settingsHash, Bytes32.Parse(task.InitialModelHash), 0, cancellationToken).ConfigureAwait(false);
                Log.TaskRegistered(_logger, task.TaskId, receipt.TransactionHash);
                return;
            }
            catch (ChainException)
            {
                // Registered meanwhile (e.g. by our own send before a restart)? Checked below.
                onChain = await _ledger.GetTaskAsync(taskKey, cancellationToken).ConfigureAwait(false);
                if (!onChain.Registered)
                {
                    throw;
                }
            }
        }

        if (onChain.SettingsHash != settingsHash)
        {
            throw new InvalidOperationException(
                $"The ledger {_ledger.Address} holds task '{task.TaskId}' with settings hash {onChain.SettingsHash}, not {task.SettingsHash}: another task with the same id, or changed settings.");
        }
    }

    /// <inheritdoc />
    public async Task<AnchorOutcome?> AnchorAsync(RoundManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var anchor = new RoundAnchor(
            FedAggLedger.TaskKey(manifest.TaskId), manifest.Round, manifest.ParentModelHash, manifest.ModelHash,
            manifest.UpdatesRoot, manifest.CreditsRoot, manifest.SettingsHash, checked((uint)manifest.AcceptedCount));
        var expected = anchor.ComputeCommitment();
        if (await FindAsync(anchor, expected, cancellationToken).ConfigureAwait(false) is { } earlier)
        {
            Log.RoundAlreadyAnchored(_logger, manifest.TaskId, manifest.Round, earlier.TransactionHash);
            return earlier;
        }

        try
        {
            var receipt = await _ledger.AnchorRoundAsync(_anchorSender, anchor, cancellationToken).ConfigureAwait(false);
            _metrics.AnchorGas.Record((long)receipt.GasUsed);
            Log.RoundAnchored(_logger, manifest.TaskId, manifest.Round, receipt.TransactionHash, receipt.GasUsed);
            return new AnchorOutcome(receipt.TransactionHash, receipt.BlockNumber, receipt.GasUsed, AlreadyAnchored: false);
        }
        catch (ChainException)
        {
            if (await FindAsync(anchor, expected, cancellationToken).ConfigureAwait(false) is { } raced)
            {
                await _anchorSender.ResynchronizeNonceAsync(cancellationToken).ConfigureAwait(false);
                Log.RoundAlreadyAnchored(_logger, manifest.TaskId, manifest.Round, raced.TransactionHash);
                return raced;
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!ReferenceEquals(_registrarSender, _anchorSender))
        {
            _registrarSender.Dispose();
        }

        _anchorSender.Dispose();
        _rpc.Dispose();
        _anchorKey.Dispose();
        _registrarKey.Dispose();
    }

    private async Task<AnchorOutcome?> FindAsync(RoundAnchor anchor, Bytes32 expected, CancellationToken cancellationToken)
    {
        var held = await _ledger.RoundCommitmentAsync(anchor.TaskKey, anchor.Round, cancellationToken).ConfigureAwait(false);
        if (held == Bytes32.Zero)
        {
            return null;
        }

        if (held != expected)
        {
            throw new InvalidOperationException(
                $"The ledger {_ledger.Address} holds round {anchor.Round} with commitment {held}, not this round's {expected}: the round was anchored with other contents.");
        }

        var events = await _ledger.GetRoundAnchoredEventsAsync(anchor.TaskKey, 0, cancellationToken, anchor.Round).ConfigureAwait(false);
        var found = events.LastOrDefault(e => e.Anchor.ComputeCommitment() == expected)
            ?? throw new InvalidOperationException($"The ledger holds round {anchor.Round} but the node returned no RoundAnchored event for it.");
        return new AnchorOutcome(found.TransactionHash, found.BlockNumber, 0, AlreadyAnchored: true);
    }
}
