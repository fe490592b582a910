using System.Diagnostics.CodeAnalysis;

namespace FedAgg.Attacks;

/// <summary>What an attack reads from its <see cref="AttackContext"/>, so a node knows what to prepare.</summary>
[Flags]
public enum AttackInputs
{
    /// <summary>Nothing beyond the dimension.</summary>
    None = 0,

    /// <summary><see cref="AttackContext.HonestUpdate"/>: the node trains as usual.</summary>
    OwnUpdate = 1,

    /// <summary><see cref="AttackContext.HonestUpdates"/>, <see cref="AttackContext.TotalParticipants"/> and <see cref="AttackContext.ByzantineCount"/>: the round's honest updates (omniscient).</summary>
    HonestUpdates = 2,

    /// <summary><see cref="AttackContext.OwnEarlierUpdates"/>.</summary>
    OwnHistory = 4,

    /// <summary><see cref="AttackContext.OtherPayloads"/>.</summary>
    OtherPayloads = 8,
}

/// <summary>Builds the update a Byzantine participant submits. Implementations are stateless and thread-safe.</summary>
public interface IUpdateAttack
{
    /// <summary>The attack.</summary>
    AttackKind Kind { get; }

    /// <summary>What <see cref="Produce"/> reads from the context.</summary>
    AttackInputs Inputs { get; }

    /// <summary>Whether the node must train on labels mapped by <see cref="LabelFlip.Map(byte)"/> (label-flip only).</summary>
    bool TrainsOnFlippedLabels { get; }

    /// <summary>Whether <paramref name="context"/> holds what <see cref="Produce"/> needs; if not, why (say, replay in a participant's first round).</summary>
    bool CanProduce(AttackContext context, [NotNullWhen(false)] out string? reason);

    /// <summary>Writes the submitted update into <paramref name="destination"/>, whose length must be <see cref="AttackContext.Dimension"/>.</summary>
    /// <exception cref="ArgumentException">A vector's length differs from the dimension, or <paramref name="destination"/> overlaps an input.</exception>
    /// <exception cref="InvalidOperationException">The context lacks what the attack needs (<see cref="CanProduce"/> says what).</exception>
    void Produce(AttackContext context, Span<float> destination);
}
