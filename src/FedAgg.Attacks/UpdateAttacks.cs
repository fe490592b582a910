using FedAgg.Attacks.Implementations;

namespace FedAgg.Attacks;

/// <summary>Creates <see cref="IUpdateAttack"/> instances.</summary>
public static class UpdateAttacks
{
    /// <summary>The attack of <paramref name="kind"/> with <paramref name="options"/> (null: the documented defaults).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it) or the kind is undefined.</exception>
    public static IUpdateAttack Create(AttackKind kind, AttackOptions? options = null)
    {
        options ??= new AttackOptions();
        options.Validate();
        return kind switch
        {
            AttackKind.None => new PassThroughAttack(AttackKind.None, flipsLabels: false),
            AttackKind.LabelFlip => new PassThroughAttack(AttackKind.LabelFlip, flipsLabels: true),
            AttackKind.SignFlip => new SignFlipAttack(options.SignFlipScale),
            AttackKind.Gaussian => new NoiseAttack(AttackKind.Gaussian, options.GaussianSigma),
            AttackKind.FreeRider => new NoiseAttack(AttackKind.FreeRider, options.FreeRiderSigma),
            AttackKind.Alie => new AlieAttack(options.AlieZ, options.AlieSign, options.AlieSampleStd),
            AttackKind.Ipm => new IpmAttack(options.IpmEpsilon),
            AttackKind.Replay => new ReplayAttack(options.ReplayAge),
            AttackKind.Copycat => new CopycatAttack(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a defined attack kind."),
        };
    }

    /// <summary>Runs <paramref name="attack"/> into a new array of length <see cref="AttackContext.Dimension"/>.</summary>
    public static float[] Produce(this IUpdateAttack attack, AttackContext context)
    {
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentNullException.ThrowIfNull(context);
        var destination = new float[context.Dimension];
        attack.Produce(context, destination);
        return destination;
    }
}
