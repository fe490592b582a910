namespace FedAgg.Grains.Runtime;

/// <summary>
/// The identity of a grain: its grain type (derived from the grain class, see <see cref="GrainTypeAttribute"/>) and its key.
/// Storage rows and reminders are keyed by it. Orleans: <c>GrainId</c>.
/// </summary>
/// <param name="Type">The grain type, e.g. <c>round</c> for <c>RoundGrain</c>.</param>
/// <param name="Key">The grain's primary key.</param>
public readonly record struct GrainId(string Type, string Key)
{
    /// <summary>The id as <c>type/key</c>.</summary>
    public override string ToString() => $"{Type}/{Key}";
}
