using FedAgg.Core.Rounds;

namespace FedAgg.Server.Grains;

/// <summary>What <see cref="IParticipantGrain.AdmitAsync"/> decides on.</summary>
/// <param name="TaskId">The task the participant submits to.</param>
/// <param name="Policy">The task's admission policy.</param>
/// <param name="ChainId">The task's chain (a <c>registered</c> participant's binding must be for it).</param>
/// <param name="Ledger">The task's ledger (0x-hex).</param>
/// <param name="MaxSubmissions">How many submissions the peer may make per <paramref name="Window"/>.</param>
/// <param name="Window">The rate limit's sliding window.</param>
public sealed record AdmissionRequest(string TaskId, AdmissionPolicy Policy, ulong ChainId, string Ledger, int MaxSubmissions, TimeSpan Window);

/// <summary>An Ethereum address bound to a participant's libp2p key (docs/PROTOCOL.md, "Address binding").</summary>
/// <param name="ChainId">The chain.</param>
/// <param name="Ledger">The ledger (0x-hex, 20 bytes).</param>
/// <param name="Address">The bound address (0x-hex, 20 bytes).</param>
/// <param name="Signature">The participant's Ed25519 signature over the binding bytes (0x-hex).</param>
public sealed record AddressBindingRecord(ulong ChainId, string Ledger, string Address, string Signature);

/// <summary>A snapshot of a participant.</summary>
/// <param name="PeerId">The peer id.</param>
/// <param name="BannedEverywhere">Why the peer is banned from every task; null when not.</param>
/// <param name="BannedTasks">Task id → ban reason.</param>
/// <param name="AllowedTasks">Tasks whose allowlist names the peer.</param>
/// <param name="Binding">The bound address, if any.</param>
/// <param name="Credits">The participant's latest credit records (at most <see cref="ParticipantState.MaxCreditHistory"/>,
/// one per published round it had an update in, oldest first); each round's manifest keeps the full record.</param>
/// <param name="CreditTotals">Per task: every published round the participant had an update in, summed.</param>
public sealed record ParticipantStatus(
    string PeerId,
    string? BannedEverywhere,
    IReadOnlyDictionary<string, string> BannedTasks,
    IReadOnlyList<string> AllowedTasks,
    AddressBindingRecord? Binding,
    IReadOnlyList<CreditRecord> Credits,
    IReadOnlyDictionary<string, CreditTotal> CreditTotals);

/// <summary>A participant's credits in one task, over every published round it had an update in.</summary>
/// <param name="Rounds">Rounds with an update from it.</param>
/// <param name="AcceptedRounds">Of those, rounds whose aggregate used its update.</param>
/// <param name="Credits">Credits earned (decimal).</param>
/// <param name="LastRound">The latest round counted (rounds are published in order, so an earlier or equal one is a repeat).</param>
public sealed record CreditTotal(ulong Rounds, ulong AcceptedRounds, string Credits, ulong LastRound);

/// <summary>What one published round paid a participant.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Round">The round.</param>
/// <param name="UpdateId">The participant's update (0x-hex).</param>
/// <param name="Accepted">Whether the update was in the round (false: left out, credit 0).</param>
/// <param name="Contribution">How much the rule used the update (docs/AGGREGATION.md).</param>
/// <param name="Credit">The round's credits for it (decimal).</param>
/// <param name="Address">The address they went to (0x-hex), or null when none was bound.</param>
public sealed record CreditRecord(string TaskId, ulong Round, string UpdateId, bool Accepted, double Contribution, string Credit, string? Address);

/// <summary>The persistent state of a <see cref="ParticipantGrain"/> (JSON, camelCase).</summary>
public sealed class ParticipantState
{
    /// <summary>See <see cref="ParticipantStatus.BannedEverywhere"/>.</summary>
    public string? BannedEverywhere { get; set; }

    /// <summary>See <see cref="ParticipantStatus.BannedTasks"/>.</summary>
    public Dictionary<string, string> BannedTasks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>See <see cref="ParticipantStatus.AllowedTasks"/> (sorted, ordinal).</summary>
    public List<string> AllowedTasks { get; set; } = [];

    /// <summary>See <see cref="ParticipantStatus.Binding"/>.</summary>
    public AddressBindingRecord? Binding { get; set; }

    /// <summary>
    /// How many credit records a participant keeps. Bounded because the state is written whole on every change: an
    /// unbounded history made each round's write grow with the task's age (quadratic over its life) and kept every
    /// record in memory for as long as the grain was active.
    /// </summary>
    public const int MaxCreditHistory = 32;

    /// <summary>See <see cref="ParticipantStatus.Credits"/>.</summary>
    public List<CreditRecord> Credits { get; set; } = [];

    /// <summary>See <see cref="ParticipantStatus.CreditTotals"/>.</summary>
    public Dictionary<string, CreditTotal> CreditTotals { get; set; } = new(StringComparer.Ordinal);
}
