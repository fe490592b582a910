namespace FedAgg.Grains.Runtime;

/// <summary>
/// On a grain interface method: the method does not change the grain's state, so calls to it may run concurrently with
/// other read-only calls (never alongside a call that is not read-only). Orleans: <c>[ReadOnly]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class ReadOnlyAttribute : Attribute
{
}

/// <summary>
/// On a grain interface method: calls to it run as soon as they arrive, interleaved with whatever the grain is doing
/// (still one thread at a time). Orleans: <c>[AlwaysInterleave]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class AlwaysInterleaveAttribute : Attribute
{
}

/// <summary>
/// On a grain class: every call interleaves with every other at await points (still one thread at a time).
/// Orleans: <c>[Reentrant]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ReentrantAttribute : Attribute
{
}

/// <summary>
/// On a grain class: the grain type stored in <see cref="GrainId.Type"/> (and so in storage rows and reminders).
/// Default: the class name without a trailing <c>Grain</c>, lower-cased (<c>RoundGrain</c> → <c>round</c>), as Orleans.
/// Set it explicitly on grains with persisted state so that renaming the class does not orphan their rows.
/// </summary>
/// <param name="grainType">The grain type; letters, digits, '.', '-' and '_' only.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class GrainTypeAttribute(string grainType) : Attribute
{
    /// <summary>The grain type.</summary>
    public string GrainType { get; } = grainType;
}
