namespace FedAgg.Attacks;

/// <summary>What a Byzantine participant submits instead of (or derived from) its honest update.</summary>
public enum AttackKind
{
    /// <summary>No attack: the honest update as trained (<c>none</c>).</summary>
    None,

    /// <summary>Submits <c>−scale · own honest update</c> (<c>sign-flip</c>).</summary>
    SignFlip,

    /// <summary>Submits pure noise, every coordinate drawn from N(0, σ²) (<c>gaussian</c>).</summary>
    Gaussian,

    /// <summary>A little is enough (Baruch et al. 2019): <c>μ + sign · z · σ</c> per coordinate over the round's honest updates (<c>alie</c>).</summary>
    Alie,

    /// <summary>Inner-product manipulation (Xie et al. 2020): <c>−ε · mean of the round's honest updates</c> (<c>ipm</c>).</summary>
    Ipm,

    /// <summary>Trains on labels mapped <c>y → 9 − y</c> and submits that update unchanged (<c>label-flip</c>).</summary>
    LabelFlip,

    /// <summary>Does not train: submits a zero update (the base model unchanged) or, with noise, N(0, σ²) (<c>free-rider</c>).</summary>
    FreeRider,

    /// <summary>Resubmits one of its own earlier submitted updates (<c>replay</c>).</summary>
    Replay,

    /// <summary>Submits another participant's update of the same round, bit for bit (<c>copycat</c>).</summary>
    Copycat,
}

/// <summary>The command-line names of <see cref="AttackKind"/> (<c>--attack</c>).</summary>
public static class AttackKinds
{
    private static readonly (string Name, AttackKind Kind)[] Names =
    [
        ("none", AttackKind.None),
        ("sign-flip", AttackKind.SignFlip),
        ("gaussian", AttackKind.Gaussian),
        ("alie", AttackKind.Alie),
        ("ipm", AttackKind.Ipm),
        ("label-flip", AttackKind.LabelFlip),
        ("free-rider", AttackKind.FreeRider),
        ("replay", AttackKind.Replay),
        ("copycat", AttackKind.Copycat),
    ];

    /// <summary>Every valid name, in declaration order: none, sign-flip, gaussian, alie, ipm, label-flip, free-rider, replay, copycat.</summary>
    public static IReadOnlyList<string> CliNames { get; } = Array.ConvertAll(Names, n => n.Name);

    /// <summary>The command-line name of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="AttackKind"/>.</exception>
    public static string CliName(AttackKind kind)
    {
        foreach (var (name, k) in Names)
        {
            if (k == kind)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a defined attack kind.");
    }

    /// <summary>Parses a command-line name (case-insensitive, surrounding white space ignored).</summary>
    /// <returns>False for an unknown or null name.</returns>
    public static bool TryParse(string? name, out AttackKind kind)
    {
        var trimmed = name?.Trim();
        foreach (var (n, k) in Names)
        {
            if (string.Equals(n, trimmed, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = AttackKind.None;
        return false;
    }

    /// <summary>Parses a command-line name (case-insensitive, surrounding white space ignored).</summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static AttackKind Parse(string? name) =>
        TryParse(name, out var kind)
            ? kind
            : throw new ArgumentException($"Unknown attack '{name}'; valid attacks are: {string.Join(", ", CliNames)}.", nameof(name));
}
