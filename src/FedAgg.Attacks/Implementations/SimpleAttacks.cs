using System.Numerics.Tensors;
using FedAgg.Core;

namespace FedAgg.Attacks.Implementations;

/// <summary><c>none</c> and <c>label-flip</c>: the honest update as is (label-flip's attack happened in training).</summary>
internal sealed class PassThroughAttack(AttackKind kind, bool flipsLabels) : UpdateAttack(kind, AttackInputs.OwnUpdate)
{
    public override bool TrainsOnFlippedLabels => flipsLabels;

    protected override void Run(AttackContext context, Span<float> destination) =>
        Input(context.HonestUpdate, destination, "the honest update").CopyTo(destination);
}

/// <summary><c>sign-flip</c>: <c>destination[i] = −scale · own[i]</c>.</summary>
internal sealed class SignFlipAttack(double scale) : UpdateAttack(AttackKind.SignFlip, AttackInputs.OwnUpdate)
{
    protected override void Run(AttackContext context, Span<float> destination) =>
        TensorPrimitives.Multiply(Input(context.HonestUpdate, destination, "the honest update"), (float)-scale, destination);
}

/// <summary>
/// <c>gaussian</c> and <c>free-rider</c>: <c>destination[i] = f32(σ · g_i)</c> with g_i the i-th standard normal of
/// SplitMix64(seed) by Box–Muller; σ = 0 gives a zero update (the free-rider's default: the base model unchanged).
/// </summary>
internal sealed class NoiseAttack(AttackKind kind, double sigma) : UpdateAttack(kind, AttackInputs.None)
{
    protected override void Run(AttackContext context, Span<float> destination)
    {
        if (sigma == 0)
        {
            destination.Clear();
            return;
        }

        var random = new SplitMix64(context.Seed);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)(sigma * random.NextGaussian());
        }
    }
}

/// <summary><c>replay</c>: a copy of the submission <c>age</c> rounds back in the participant's own history.</summary>
internal sealed class ReplayAttack(int age) : UpdateAttack(AttackKind.Replay, AttackInputs.OwnHistory)
{
    protected override string? Missing(AttackContext context)
    {
        var count = context.OwnEarlierUpdates.Count;
        if (count < age)
        {
            return count == 0
                ? $"replay has no earlier submitted update of participant {context.ParticipantId} to resubmit in round {context.Round}; submit honestly until there is one."
                : $"replay needs the submission {age} back, but participant {context.ParticipantId} has only {count} earlier update(s) in round {context.Round}.";
        }

        return null;
    }

    protected override void Run(AttackContext context, Span<float> destination)
    {
        var history = context.OwnEarlierUpdates;
        Input(history[history.Count - age], destination, "the replayed update").CopyTo(destination);
    }
}

/// <summary><c>copycat</c>: a copy of one other participant's update of this round, chosen uniformly by SplitMix64(seed).</summary>
internal sealed class CopycatAttack() : UpdateAttack(AttackKind.Copycat, AttackInputs.OtherPayloads)
{
    protected override string? Missing(AttackContext context)
    {
        foreach (var other in context.OtherPayloads)
        {
            if (!IsOwn(context, other))
            {
                return null;
            }
        }

        return $"copycat has no other participant's update to copy in round {context.Round} (AttackContext.OtherPayloads holds none from another ID).";
    }

    protected override void Run(AttackContext context, Span<float> destination)
    {
        var others = context.OtherPayloads;
        var candidates = 0;
        foreach (var other in others)
        {
            candidates += IsOwn(context, other) ? 0 : 1;
        }

        var random = new SplitMix64(context.Seed);
        var pick = (int)(random.NextUInt64() % (ulong)candidates);
        foreach (var other in others)
        {
            if (IsOwn(context, other))
            {
                continue;
            }

            if (pick-- == 0)
            {
                Input(other.Update, destination, $"the update of {other.ParticipantId}").CopyTo(destination);
                return;
            }
        }
    }

    private static bool IsOwn(AttackContext context, ParticipantUpdate other) =>
        other is null || string.Equals(other.ParticipantId, context.ParticipantId, StringComparison.Ordinal);
}
