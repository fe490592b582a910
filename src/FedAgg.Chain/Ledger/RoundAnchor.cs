using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Ledger;

/// <summary>Everything <c>FedAggLedger.anchorRound</c> commits to for one round.</summary>
/// <param name="TaskKey"><c>keccak256(bytes(taskId))</c>.</param>
/// <param name="Round">The round, from 1.</param>
/// <param name="ParentModelHash">The model the round started from (the initial model for round 1).</param>
/// <param name="ModelHash">The model the round produced.</param>
/// <param name="UpdatesRoot">The root of the accepted updates' Merkle tree.</param>
/// <param name="CreditsRoot">The root of the cumulative credits' Merkle tree.</param>
/// <param name="SettingsHash">The task's settings hash.</param>
/// <param name="AcceptedCount">How many updates the round accepted.</param>
public sealed record RoundAnchor(
    Bytes32 TaskKey,
    ulong Round,
    Bytes32 ParentModelHash,
    Bytes32 ModelHash,
    Bytes32 UpdatesRoot,
    Bytes32 CreditsRoot,
    Bytes32 SettingsHash,
    uint AcceptedCount)
{
    /// <summary>
    /// The commitment the ledger stores for the round:
    /// <c>keccak256(abi.encode(taskKey, round, parentModelHash, modelHash, updatesRoot, creditsRoot, settingsHash, acceptedCount))</c>.
    /// </summary>
    public Bytes32 ComputeCommitment()
    {
        Span<AbiValue> values =
        [
            AbiValue.FromBytes32(TaskKey),
            AbiValue.FromUint64(Round),
            AbiValue.FromBytes32(ParentModelHash),
            AbiValue.FromBytes32(ModelHash),
            AbiValue.FromBytes32(UpdatesRoot),
            AbiValue.FromBytes32(CreditsRoot),
            AbiValue.FromBytes32(SettingsHash),
            AbiValue.FromUint32(AcceptedCount),
        ];
        Span<byte> encoded = stackalloc byte[8 * AbiEncoding.WordSize];
        AbiEncoding.Encode(values, encoded);
        return new Bytes32(Keccak256.Hash(encoded));
    }
}

/// <summary>A <c>RoundAnchored</c> event as found on chain.</summary>
/// <param name="Anchor">What was anchored.</param>
/// <param name="BlockNumber">The block that holds the event.</param>
/// <param name="TransactionHash">The anchoring transaction.</param>
public sealed record RoundAnchoredEvent(RoundAnchor Anchor, ulong BlockNumber, Bytes32 TransactionHash);

/// <summary>A <c>CreditsClaimed</c> event as found on chain.</summary>
/// <param name="TaskKey">The task.</param>
/// <param name="Account">The account paid.</param>
/// <param name="Amount">What this claim paid.</param>
/// <param name="CumulativeAmount">What the account has now claimed in all for the task.</param>
/// <param name="BlockNumber">The block that holds the event.</param>
/// <param name="TransactionHash">The claiming transaction.</param>
public sealed record CreditsClaimedEvent(
    Bytes32 TaskKey,
    EthereumAddress Account,
    System.Numerics.BigInteger Amount,
    System.Numerics.BigInteger CumulativeAmount,
    ulong BlockNumber,
    Bytes32 TransactionHash);

/// <summary>A task's state on the ledger (<c>taskInfo</c> and the claim views).</summary>
/// <param name="TaskKey">The task.</param>
/// <param name="Registered">Whether the task is registered.</param>
/// <param name="LastRound">The last anchored round (0 before the first).</param>
/// <param name="SettingsHash">The settings hash the task was registered with.</param>
/// <param name="LatestModelHash">The latest anchored model (the initial model before round 1).</param>
/// <param name="CreditsRoot">The latest anchored credits root.</param>
/// <param name="ClaimableCreditsRoot">The root claims are verified against now.</param>
/// <param name="ClaimableAt">When <paramref name="CreditsRoot"/> becomes claimable (unix seconds).</param>
/// <param name="ClaimDelaySeconds">The task's claim delay.</param>
public sealed record LedgerTaskState(
    Bytes32 TaskKey,
    bool Registered,
    ulong LastRound,
    Bytes32 SettingsHash,
    Bytes32 LatestModelHash,
    Bytes32 CreditsRoot,
    Bytes32 ClaimableCreditsRoot,
    ulong ClaimableAt,
    ulong ClaimDelaySeconds);
