using System.Diagnostics.CodeAnalysis;

namespace FedAgg.Attacks.Implementations;

/// <summary>The shared checks: <see cref="CanProduce"/> from the declared inputs, lengths and overlap before <see cref="Run"/>.</summary>
internal abstract class UpdateAttack(AttackKind kind, AttackInputs inputs) : IUpdateAttack
{
    public AttackKind Kind { get; } = kind;

    public AttackInputs Inputs { get; } = inputs;

    public virtual bool TrainsOnFlippedLabels => false;

    protected string Name => AttackKinds.CliName(Kind);

    public bool CanProduce(AttackContext context, [NotNullWhen(false)] out string? reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        reason = Missing(context);
        return reason is null;
    }

    public void Produce(AttackContext context, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        var d = context.Dimension;
        if (destination.Length != d)
        {
            throw new ArgumentException($"{Name}: destination has {destination.Length} elements; the dimension is {d}.", nameof(destination));
        }

        if (!context.BaseModel.IsEmpty && !context.HonestUpdate.IsEmpty && context.HonestUpdate.Length != d)
        {
            throw new ArgumentException($"{Name}: the honest update has {context.HonestUpdate.Length} elements; the base model {d}.", nameof(context));
        }

        if (Missing(context) is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        Run(context, destination);
    }

    /// <summary>Why the context cannot serve this attack, or null.</summary>
    protected virtual string? Missing(AttackContext context)
    {
        if ((Inputs & AttackInputs.OwnUpdate) != 0 && context.HonestUpdate.IsEmpty && context.Dimension > 0)
        {
            return $"{Name} needs this participant's own trained update (AttackContext.HonestUpdate), which is empty.";
        }

        return null;
    }

    protected abstract void Run(AttackContext context, Span<float> destination);

    /// <summary>Checks that <paramref name="vector"/> has the dimension and does not overlap the destination.</summary>
    protected ReadOnlySpan<float> Input(ReadOnlyMemory<float> vector, Span<float> destination, string what) =>
        CheckedInput(vector, destination, what);

    /// <summary>As <see cref="Input"/>, for helpers outside the class.</summary>
    internal ReadOnlySpan<float> CheckedInput(ReadOnlyMemory<float> vector, Span<float> destination, string what)
    {
        var span = vector.Span;
        if (span.Length != destination.Length)
        {
            throw new ArgumentException($"{Name}: {what} has {span.Length} elements; the dimension is {destination.Length}.");
        }

        if (span.Overlaps(destination))
        {
            throw new ArgumentException($"{Name}: the destination overlaps {what}.", nameof(destination));
        }

        return span;
    }
}
