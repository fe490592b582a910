using FedAgg.Core;

namespace FedAgg.Attacks;

/// <summary>Another participant's update of the same round, as a copycat sees it.</summary>
/// <param name="ParticipantId">Who submitted it (a peer ID, say).</param>
/// <param name="Update">The submitted update vector.</param>
public sealed record ParticipantUpdate(string ParticipantId, ReadOnlyMemory<float> Update);

/// <summary>
/// What a Byzantine participant knows when it builds its submission. Updates are flat float32 vectors
/// <c>local − base</c> of length <see cref="Dimension"/>; every vector an attack reads must have that length.
/// The omniscient attacks (<see cref="AttackKind.Alie"/>, <see cref="AttackKind.Ipm"/>) read
/// <see cref="HonestUpdates"/>, which the demo's in-process coordination fills with the round's honest updates, as
/// the papers assume.
/// </summary>
public sealed class AttackContext
{
    /// <summary>This participant's identity (a peer ID, say); a copycat never copies an update with this ID.</summary>
    public required string ParticipantId { get; init; }

    /// <summary>The round, from 1.</summary>
    public required ulong Round { get; init; }

    /// <summary>
    /// Seed of the attack's randomness (noise, the copycat's choice); the same context gives the same submission.
    /// <see cref="DeriveSeed(ulong, int, ulong)"/> gives a distinct seed per participant and round.
    /// </summary>
    public required ulong Seed { get; init; }

    /// <summary>The update this participant would have submitted honestly (for label-flip: trained on flipped labels). Empty when it did not train.</summary>
    public ReadOnlyMemory<float> HonestUpdate { get; init; }

    /// <summary>The round's base (global) model, flat; may be empty when <see cref="HonestUpdate"/> gives the dimension.</summary>
    public ReadOnlyMemory<float> BaseModel { get; init; }

    /// <summary>The honest updates of this round (omniscient attacks). Empty when unknown.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> HonestUpdates { get; init; } = [];

    /// <summary>Total number of participants n of the round, honest and Byzantine (ALIE's z_max).</summary>
    public int TotalParticipants { get; init; }

    /// <summary>Number of Byzantine participants f among them (ALIE's z_max).</summary>
    public int ByzantineCount { get; init; }

    /// <summary>This participant's own submitted updates of earlier rounds, oldest first (replay).</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> OwnEarlierUpdates { get; init; } = [];

    /// <summary>Updates other participants submitted this round (copycat). An entry with this participant's own ID is never copied.</summary>
    public IReadOnlyList<ParticipantUpdate> OtherPayloads { get; init; } = [];

    /// <summary>The length of the submitted update: the base model's length, or the honest update's when no base model is given.</summary>
    public int Dimension => BaseModel.IsEmpty ? HonestUpdate.Length : BaseModel.Length;

    /// <summary>
    /// A seed for one participant in one round of a run: SplitMix64 output chained over the three values, so
    /// neighbouring participants and rounds get unrelated streams.
    /// </summary>
    public static ulong DeriveSeed(ulong runSeed, int participantIndex, ulong round)
    {
        var random = new SplitMix64(runSeed);
        var a = random.NextUInt64();
        random = new SplitMix64(a ^ (ulong)(uint)participantIndex);
        var b = random.NextUInt64();
        random = new SplitMix64(b ^ round);
        return random.NextUInt64();
    }
}
