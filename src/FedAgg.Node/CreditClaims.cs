using System.Numerics;
using FedAgg.Chain;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Sending;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;

namespace FedAgg.Node;

/// <summary>An account's cumulative credits and their proof into a round's credits root.</summary>
/// <param name="Account">The account.</param>
/// <param name="CumulativeAmount">All credits the account earned in the task up to the round.</param>
/// <param name="Root">The round's credits root.</param>
/// <param name="Proof">The Merkle proof of <c>(account, cumulativeAmount)</c>.</param>
public sealed record CreditProof(EthereumAddress Account, BigInteger CumulativeAmount, Bytes32 Root, IReadOnlyList<Bytes32> Proof);

/// <summary>A claim made on chain.</summary>
/// <param name="Account">The account paid.</param>
/// <param name="CumulativeAmount">What the account has claimed for the task in all, after this claim.</param>
/// <param name="Paid">What this claim paid (the difference to what was claimed before).</param>
/// <param name="TransactionHash">The claim transaction (zero when there was nothing left to claim).</param>
/// <param name="BlockNumber">Its block (0 when none was sent).</param>
/// <param name="Balance">The account's credit balance on the ledger afterwards.</param>
public sealed record CreditClaim(EthereumAddress Account, BigInteger CumulativeAmount, BigInteger Paid, Bytes32 TransactionHash, ulong BlockNumber, BigInteger Balance);

/// <summary>
/// Credit claims from a round manifest: the proof is built from the manifest's cumulative credits list (an
/// OpenZeppelin-compatible <c>StandardMerkleTree</c> of <c>(address, uint256)</c>), the same way <c>fedagg chain claim
/// --manifest</c> builds it, and checked against the manifest's credits root before anything is sent.
/// </summary>
public static class CreditClaims
{
    /// <summary>Builds <paramref name="account"/>'s proof from <paramref name="manifest"/>.</summary>
    /// <param name="manifest">A round manifest.</param>
    /// <param name="account">The account.</param>
    /// <returns>The proof.</returns>
    /// <exception cref="ParticipantNodeException">The manifest has no credits for the account, or its credits root does not match its list.</exception>
    public static CreditProof BuildProof(RoundManifest manifest, EthereumAddress account)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        RoundCredit? entry = null;
        foreach (var credit in manifest.Credits)
        {
            if (credit.Account.Span.SequenceEqual(account.AsSpan()))
            {
                entry = credit;
                break;
            }
        }

        if (entry is null)
        {
            throw new ParticipantNodeException($"Round {manifest.Round}'s manifest has no credits for {account} (was the address bound before the round?).");
        }

        var tree = StandardMerkleTree.ForCredits(manifest.Credits.Select(static c => (c.Account, c.CumulativeAmount)));
        if (tree.Root != manifest.CreditsRoot)
        {
            throw new ParticipantNodeException($"Round {manifest.Round}'s credits root {manifest.CreditsRoot} is not the root {tree.Root} of its credits list.");
        }

        var leaf = new[] { AbiValue.FromAddress(account.AsSpan()), AbiValue.FromUint256(entry.CumulativeAmount) };
        var proof = tree.GetProof(leaf);
        return MerkleProof.Verify(tree.Root, StandardMerkleTree.LeafHash(leaf), proof)
            ? new CreditProof(account, entry.CumulativeAmount, tree.Root, proof)
            : throw new ParticipantNodeException($"The credits proof of {account} does not verify against {tree.Root}.");
    }

    /// <summary>
    /// Claims <paramref name="account"/>'s credits of the manifest's task on chain (anyone may send a claim; the sender pays the gas).
    /// Checks first that the manifest's credits root is the task's claimable root; when the account already claimed
    /// the whole amount, sends nothing.
    /// </summary>
    /// <param name="ledger">The ledger.</param>
    /// <param name="sender">Sends the claim.</param>
    /// <param name="manifest">The latest anchored round's manifest.</param>
    /// <param name="account">The account to pay.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The claim.</returns>
    /// <exception cref="ParticipantNodeException">No credits for the account, or the manifest's root is not claimable (yet).</exception>
    /// <exception cref="ChainException">The chain refused or could not be reached.</exception>
    public static async Task<CreditClaim> ClaimAsync(FedAggLedger ledger, TransactionSender sender, RoundManifest manifest, EthereumAddress account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(sender);
        var proof = BuildProof(manifest, account);
        var taskKey = FedAggLedger.TaskKey(manifest.TaskId);
        var claimable = await ledger.ClaimableCreditsRootAsync(taskKey, cancellationToken).ConfigureAwait(false);
        if (claimable != proof.Root)
        {
            var latest = await ledger.CreditsRootAsync(taskKey, cancellationToken).ConfigureAwait(false);
            throw new ParticipantNodeException(latest == proof.Root
                ? $"Round {manifest.Round}'s credits root {proof.Root} is anchored but still in the task's claim delay."
                : $"Round {manifest.Round}'s credits root {proof.Root} is not the task's claimable root {claimable}; claim with the latest anchored round.")
            {
                IsTransient = latest == proof.Root,
            };
        }

        var already = await ledger.ClaimedAsync(taskKey, account, cancellationToken).ConfigureAwait(false);
        if (already >= proof.CumulativeAmount)
        {
            var unchanged = await ledger.CreditsAsync(account, cancellationToken).ConfigureAwait(false);
            return new CreditClaim(account, already, 0, Bytes32.Zero, 0, unchanged);
        }

        var receipt = await ledger.ClaimAsync(sender, taskKey, account, proof.CumulativeAmount, proof.Proof, cancellationToken).ConfigureAwait(false);
        var balance = await ledger.CreditsAsync(account, cancellationToken).ConfigureAwait(false);
        return new CreditClaim(account, proof.CumulativeAmount, proof.CumulativeAmount - already, receipt.TransactionHash, receipt.BlockNumber, balance);
    }
}
