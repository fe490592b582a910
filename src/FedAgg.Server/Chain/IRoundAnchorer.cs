using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Server.Grains;

namespace FedAgg.Server.Chain;

/// <summary>What anchoring a round did.</summary>
/// <param name="TransactionHash">The <c>anchorRound</c> transaction that recorded the round.</param>
/// <param name="BlockNumber">The block it was mined in.</param>
/// <param name="GasUsed">The gas it used (0 when it was found already mined and not sent by this call).</param>
/// <param name="AlreadyAnchored">Whether the ledger already held this exact round (sent before a restart): nothing was sent again.</param>
public sealed record AnchorOutcome(Bytes32 TransactionHash, ulong BlockNumber, ulong GasUsed, bool AlreadyAnchored);

/// <summary>
/// Records tasks and rounds on the ledger. Both operations are idempotent by what the ledger holds, so that a server
/// restarted at any point neither sends a round twice nor mistakes its own earlier transaction for a conflict.
/// </summary>
public interface IRoundAnchorer
{
    /// <summary>Whether a chain is configured (false: rounds are published without <c>anchorTx</c>).</summary>
    bool Enabled { get; }

    /// <summary>Registers the task on the ledger unless it already is, with the same settings and initial model.</summary>
    /// <param name="task">The task.</param>
    /// <param name="cancellationToken">Cancels the wait (a sent transaction may still be mined).</param>
    /// <returns>A task that completes when the ledger holds the task.</returns>
    /// <exception cref="InvalidOperationException">The ledger holds the task with other settings or another initial model.</exception>
    Task EnsureTaskRegisteredAsync(TaskInfo task, CancellationToken cancellationToken);

    /// <summary>Anchors the round of <paramref name="manifest"/>, or finds it already anchored with the same commitment.</summary>
    /// <param name="manifest">The round's manifest.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The transaction; null when no chain is configured.</returns>
    /// <exception cref="InvalidOperationException">The ledger holds a different commitment for this round.</exception>
    Task<AnchorOutcome?> AnchorAsync(RoundManifest manifest, CancellationToken cancellationToken);
}

/// <summary>The anchorer of a server without a chain: nothing is sent.</summary>
public sealed class NoChainAnchorer : IRoundAnchorer
{
    /// <inheritdoc />
    public bool Enabled => false;

    /// <inheritdoc />
    public Task EnsureTaskRegisteredAsync(TaskInfo task, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<AnchorOutcome?> AnchorAsync(RoundManifest manifest, CancellationToken cancellationToken) => Task.FromResult<AnchorOutcome?>(null);
}
