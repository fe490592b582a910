using FedAgg.Chain.Ledger;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;

namespace FedAgg.Node;

/// <summary>What a node found when it looked for its own update in a published round.</summary>
/// <param name="Round">The round.</param>
/// <param name="UpdateId">The node's update.</param>
/// <param name="Listed">Whether the manifest lists the update at all.</param>
/// <param name="Accepted">Whether the manifest says the update is in the round (aggregated, in the updates tree).</param>
/// <param name="ProofValid">
/// Whether the updates tree rebuilt from the manifest's accepted updates has the manifest's root and the update's Merkle
/// proof verifies against that root.
/// </param>
/// <param name="Proof">The update's Merkle proof into the updates root (empty when not accepted).</param>
/// <param name="Anchored">
/// Whether the ledger's stored commitment of the round equals the commitment recomputed from the manifest (null when
/// not checked against a chain).
/// </param>
/// <param name="Credit">The credits the round paid this update.</param>
/// <param name="Contribution">The update's contribution to the aggregate.</param>
/// <param name="Detail">One line for people: what passed, or the first thing that failed.</param>
public sealed record InclusionReport(
    ulong Round, Bytes32 UpdateId, bool Listed, bool Accepted, bool ProofValid, IReadOnlyList<Bytes32> Proof, bool? Anchored,
    System.Numerics.BigInteger Credit, double Contribution, string Detail)
{
    /// <summary>Whether the update is provably in the round: accepted, proof valid, and anchored when the chain was checked.</summary>
    public bool Included => Listed && Accepted && ProofValid && Anchored != false;
}

/// <summary>The checks a participant runs on a published round: its update's inclusion proof and the round's anchor.</summary>
public static class InclusionCheck
{
    /// <summary>
    /// Checks that <paramref name="manifest"/> lists the update <paramref name="updateId"/> by <paramref name="signerPublicKey"/>
    /// as accepted, that the updates tree rebuilt from the manifest's accepted updates has the manifest's updates root,
    /// and that the update's proof verifies against that root (an independent leaf hash and proof walk).
    /// </summary>
    /// <param name="manifest">The round's manifest.</param>
    /// <param name="updateId">The node's update id.</param>
    /// <param name="signerPublicKey">The node's raw 32-byte Ed25519 public key.</param>
    /// <returns>The report (<see cref="InclusionReport.Anchored"/> null).</returns>
    public static InclusionReport Check(RoundManifest manifest, Bytes32 updateId, Bytes32 signerPublicKey)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        RoundUpdate? own = null;
        foreach (var update in manifest.Updates)
        {
            if (update.UpdateId == updateId)
            {
                own = update;
                break;
            }
        }

        if (own is null)
        {
            return new InclusionReport(manifest.Round, updateId, false, false, false, [], null, 0, 0,
                $"round {manifest.Round}'s manifest does not list update {updateId}, though the server receipted it");
        }

        if (own.SignerPublicKey != signerPublicKey)
        {
            return new InclusionReport(manifest.Round, updateId, true, false, false, [], null, 0, 0,
                $"round {manifest.Round}'s manifest lists update {updateId} under another signer key {own.SignerPublicKey}");
        }

        if (!own.Accepted)
        {
            return new InclusionReport(manifest.Round, updateId, true, false, false, [], null, 0, 0,
                $"round {manifest.Round} left update {updateId} out: {own.Status} {own.Reason}".TrimEnd());
        }

        var accepted = manifest.Updates.Where(static u => u.Accepted).Select(static u => (u.UpdateId, u.SignerPublicKey)).ToList();
        var tree = StandardMerkleTree.ForUpdates(accepted);
        var leaf = StandardMerkleTree.LeafHash([AbiValue.FromBytes32(updateId), AbiValue.FromBytes32(signerPublicKey)]);
        var proof = tree.GetProof([AbiValue.FromBytes32(updateId), AbiValue.FromBytes32(signerPublicKey)]);
        if (tree.Root != manifest.UpdatesRoot)
        {
            return new InclusionReport(manifest.Round, updateId, true, true, false, proof, null, own.Credit, own.Contribution,
                $"round {manifest.Round}'s updates root {manifest.UpdatesRoot} is not the root {tree.Root} of its {accepted.Count} accepted updates");
        }

        var valid = MerkleProof.Verify(manifest.UpdatesRoot, leaf, proof);
        return new InclusionReport(manifest.Round, updateId, true, true, valid, proof, null, own.Credit, own.Contribution,
            valid
                ? $"update {updateId} is leaf {accepted.FindIndex(u => u.UpdateId == updateId) + 1} of {accepted.Count} under updates root {manifest.UpdatesRoot} (proof of {proof.Length} nodes)"
                : $"update {updateId}'s proof does not verify against updates root {manifest.UpdatesRoot}");
    }

    /// <summary>The commitment the ledger must hold for the round described by <paramref name="manifest"/>.</summary>
    /// <param name="manifest">The round's manifest.</param>
    /// <returns>The anchor.</returns>
    public static RoundAnchor AnchorOf(RoundManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new RoundAnchor(
            FedAggLedger.TaskKey(manifest.TaskId), manifest.Round, manifest.ParentModelHash, manifest.ModelHash, manifest.UpdatesRoot,
            manifest.CreditsRoot, manifest.SettingsHash, (uint)manifest.AcceptedCount);
    }

    /// <summary>
    /// Checks the round against the chain: the ledger's stored commitment of the round equals the commitment recomputed
    /// from the manifest (which covers the updates root, the credits root, the model and the settings).
    /// </summary>
    /// <param name="report">The inclusion report of <see cref="Check"/>.</param>
    /// <param name="manifest">The manifest it was made from.</param>
    /// <param name="ledger">The ledger the round is anchored on.</param>
    /// <param name="cancellationToken">Cancels the chain call.</param>
    /// <returns>The report with <see cref="InclusionReport.Anchored"/> set.</returns>
    /// <exception cref="Chain.ChainException">The node could not be asked.</exception>
    public static async Task<InclusionReport> CheckAnchorAsync(InclusionReport report, RoundManifest manifest, FedAggLedger ledger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(ledger);
        var anchor = AnchorOf(manifest);
        var expected = anchor.ComputeCommitment();
        var stored = await ledger.RoundCommitmentAsync(anchor.TaskKey, manifest.Round, cancellationToken).ConfigureAwait(false);
        if (stored == expected)
        {
            return report with { Anchored = true, Detail = $"{report.Detail}; anchored (commitment {expected})" };
        }

        return report with
        {
            Anchored = false,
            Detail = stored == Bytes32.Zero
                ? $"{report.Detail}; round {manifest.Round} is not anchored on ledger {ledger.Address}"
                : $"{report.Detail}; the ledger's commitment {stored} is not the manifest's {expected}",
        };
    }
}
