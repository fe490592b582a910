namespace FedAgg.Grains.Runtime;

/// <summary>Why an activation is being deactivated. Orleans: <c>DeactivationReasonCode</c>.</summary>
public enum DeactivationReasonCode
{
    /// <summary>No reason given.</summary>
    None,

    /// <summary>The runtime is stopping.</summary>
    ShuttingDown,

    /// <summary>The grain called <see cref="Grain.DeactivateOnIdle"/>.</summary>
    ApplicationRequested,

    /// <summary>The activation was idle for <see cref="GrainCollectionOptions.CollectionAge"/>.</summary>
    ActivationIdle,

    /// <summary>A call failed in a way that leaves the activation's in-memory state suspect (an ETag conflict).</summary>
    ApplicationError,
}

/// <summary>Why an activation is being deactivated, passed to <see cref="Grain.OnDeactivateAsync"/>. Orleans: <c>DeactivationReason</c>.</summary>
/// <param name="ReasonCode">The reason.</param>
/// <param name="Description">A human-readable description.</param>
public readonly record struct DeactivationReason(DeactivationReasonCode ReasonCode, string Description)
{
    /// <summary>The reason and description.</summary>
    public override string ToString() => $"{ReasonCode}: {Description}";
}
