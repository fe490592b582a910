namespace FedAgg.Grains.Runtime;

/// <summary>When idle activations are deactivated. Orleans: <c>GrainCollectionOptions</c>.</summary>
public sealed class GrainCollectionOptions
{
    /// <summary>How often the collector looks for idle activations. Default 1 minute; must be positive.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an activation must go without calls (or ticks of a <see cref="GrainTimerCreationOptions.KeepAlive"/>
    /// timer) before the collector deactivates it. Default 15 minutes; must be positive.
    /// </summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long <see cref="Grain.OnDeactivateAsync"/> may run before its token is cancelled. Default 30 seconds; must be positive.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Grain call settings. Orleans: <c>MessagingOptions</c>.</summary>
public sealed class MessagingOptions
{
    /// <summary>
    /// How long a caller waits for a grain call before it gets a <see cref="TimeoutException"/> (the grain keeps
    /// working on the request). Default 30 seconds; must be positive or <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
