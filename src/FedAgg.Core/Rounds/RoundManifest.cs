using System.Numerics;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Rounds;

/// <summary>
/// One update the server receipted in a round, as the round manifest publishes it (docs/PROTOCOL.md, "Round manifest").
/// Byte fields hold exactly the bytes named; in JSON they are <c>0x</c>-prefixed lowercase hex.
/// </summary>
public sealed record RoundUpdate
{
    /// <summary><c>SHA-256(preimage)</c>.</summary>
    public required Bytes32 UpdateId { get; init; }

    /// <summary>The signer's peer ID in text form (the peer ID of <see cref="SignerPublicKey"/>).</summary>
    public required string PeerId { get; init; }

    /// <summary>The signer's raw 32-byte Ed25519 public key (the updates tree's second value).</summary>
    public required Bytes32 SignerPublicKey { get; init; }

    /// <summary>The signed preimage bytes (docs/PROTOCOL.md, "Signed update preimage").</summary>
    public required ReadOnlyMemory<byte> Preimage { get; init; }

    /// <summary>The participant's Ed25519 signature over <see cref="Preimage"/> (64 bytes).</summary>
    public required ReadOnlyMemory<byte> Signature { get; init; }

    /// <summary>The <c>SubmitReceipt</c> protobuf the server sent for the update, signed (status accepted or duplicate).</summary>
    public required ReadOnlyMemory<byte> Receipt { get; init; }

    /// <summary>Whether the update is in the round: in the updates tree, aggregated and credited. Equivalent to <see cref="Status"/> = accepted.</summary>
    public required bool Accepted { get; init; }

    /// <summary>
    /// <see cref="SubmitStatus.Accepted"/> for an update in the round; otherwise the status that says why a receipted
    /// update was left out (manifest addition, 1.3).
    /// </summary>
    public required SubmitStatus Status { get; init; }

    /// <summary>Why the update was left out, for people; empty when accepted (at most 1,024 UTF-8 bytes).</summary>
    public string Reason { get; init; } = "";

    /// <summary>The first-pass Krum score (Krum family and Bulyan) of an accepted update; null for other rules, excluded inputs and left-out updates.</summary>
    public double? Score { get; init; }

    /// <summary>The update's contribution <c>u_i</c> (docs/AGGREGATION.md); 0 when left out (manifest addition, 1.3).</summary>
    public double Contribution { get; init; }

    /// <summary>The credits this round pays the update (<c>CreditSplit.Distribute</c>); 0 when left out.</summary>
    public BigInteger Credit { get; init; }

    /// <summary>The Ethereum address (20 bytes) the signer bound for its credits, or empty when none (manifest addition, 1.3).</summary>
    public ReadOnlyMemory<byte> BoundAddress { get; init; }

    /// <summary>The signer's <c>FEDAGG-BIND-V1</c> signature binding <see cref="BoundAddress"/> (64 bytes), or empty when none.</summary>
    public ReadOnlyMemory<byte> BindingSignature { get; init; }
}

/// <summary>An entry of the cumulative credits tree.</summary>
/// <param name="Account">The 20-byte Ethereum address.</param>
/// <param name="CumulativeAmount">All credits the account earned in the task up to and including this round.</param>
public sealed record RoundCredit(ReadOnlyMemory<byte> Account, BigInteger CumulativeAmount)
{
    /// <summary>Equal when the accounts' bytes and the amounts are equal.</summary>
    public bool Equals(RoundCredit? other) =>
        other is not null && Account.Span.SequenceEqual(other.Account.Span) && CumulativeAmount == other.CumulativeAmount;

    /// <inheritdoc />
    public override int GetHashCode() => CumulativeAmount.GetHashCode();
}

/// <summary>An aggregation input the rule left out (a non-finite value), by its index among the accepted updates.</summary>
/// <param name="Index">The input's index: its position among the manifest's accepted updates, in manifest order.</param>
/// <param name="Reason">The engine's reason, e.g. <c>non-finite value at index 7</c>.</param>
public sealed record RoundExclusion(int Index, string Reason);

/// <summary>
/// What the aggregation reported beside the model (manifest addition, 1.3): indices refer to the accepted updates in
/// manifest order (bucket indices when bucketing ran, as docs/AGGREGATION.md says).
/// </summary>
/// <param name="Selected">The selection of the Krum family and Bulyan (empty for other rules).</param>
/// <param name="Excluded">Inputs left out for non-finite values.</param>
public sealed record RoundAggregation(IReadOnlyList<int> Selected, IReadOnlyList<RoundExclusion> Excluded)
{
    /// <summary>Equal when both lists are equal, in order.</summary>
    public bool Equals(RoundAggregation? other) =>
        other is not null && Selected.SequenceEqual(other.Selected) && Excluded.SequenceEqual(other.Excluded);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Selected.Count, Excluded.Count);
}

/// <summary>
/// Everything a round publishes so anyone can verify it (docs/PROTOCOL.md, "Round manifest"): the updates with their
/// signatures and receipts, the settings, the model hashes, the roots and the credits. <see cref="RoundManifestJson"/>
/// reads and writes it.
/// </summary>
public sealed record RoundManifest
{
    /// <summary>The manifest format version this build reads and writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The manifest format version (<see cref="CurrentVersion"/>).</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The task.</summary>
    public required string TaskId { get; init; }

    /// <summary>The round, from 1.</summary>
    public required ulong Round { get; init; }

    /// <summary>The chain the round is anchored on (0 without a chain); the preimages' chainId.</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The ledger's 20-byte address (zeros without a chain); the preimages' ledger.</summary>
    public required ReadOnlyMemory<byte> Ledger { get; init; }

    /// <summary>The server's peer ID, whose key signs every receipt (manifest addition, 1.3).</summary>
    public required string ServerPeerId { get; init; }

    /// <summary>The server's libp2p <c>PublicKey</c> protobuf (manifest addition, 1.3).</summary>
    public required ReadOnlyMemory<byte> ServerPublicKey { get; init; }

    /// <summary>The model the round started from: every update's baseModelHash (the initial model in round 1).</summary>
    public required Bytes32 ParentModelHash { get; init; }

    /// <summary>The model the round produced: SHA-256 of its float32 little-endian payload.</summary>
    public required Bytes32 ModelHash { get; init; }

    /// <summary>
    /// SHA-256 of the outer optimizer's state after the round (its buffers in <c>StateNames</c> order, float32 little-endian,
    /// concatenated), stored content-addressed; null for an optimizer without state (manifest addition, 1.3).
    /// </summary>
    public Bytes32? OptimizerStateHash { get; init; }

    /// <summary><c>SHA-256</c> of the canonical JSON of <see cref="Settings"/>.</summary>
    public required Bytes32 SettingsHash { get; init; }

    /// <summary>The task's settings.</summary>
    public required TaskSettings Settings { get; init; }

    /// <summary>The root of the accepted updates' tree (zero when no update was accepted).</summary>
    public required Bytes32 UpdatesRoot { get; init; }

    /// <summary>The root of the cumulative credits' tree (zero when <see cref="Credits"/> is empty).</summary>
    public required Bytes32 CreditsRoot { get; init; }

    /// <summary>The anchoring transaction, or null when the round is not anchored (no chain, or not yet).</summary>
    public Bytes32? AnchorTx { get; init; }

    /// <summary>The aggregation's selection and exclusions.</summary>
    public required RoundAggregation Aggregation { get; init; }

    /// <summary>Every receipted update of the round, in receipt sequence order.</summary>
    public required IReadOnlyList<RoundUpdate> Updates { get; init; }

    /// <summary>The cumulative credits, ascending by account, every amount &gt; 0.</summary>
    public required IReadOnlyList<RoundCredit> Credits { get; init; }

    /// <summary>The number of accepted updates (the ledger's <c>acceptedCount</c>).</summary>
    public int AcceptedCount => Updates.Count(static u => u.Accepted);
}
