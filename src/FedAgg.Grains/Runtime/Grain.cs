namespace FedAgg.Grains.Runtime;

/// <summary>
/// The base class of grains. The runtime creates instances (through the host's service provider; constructor
/// parameters marked <see cref="Storage.PersistentStateAttribute"/> receive their loaded state), calls
/// <see cref="OnActivateAsync"/> before the first request, runs one request at a time, and calls
/// <see cref="OnDeactivateAsync"/> before dropping the instance. Orleans: <c>Grain</c>.
/// </summary>
public abstract class Grain : IAddressable
{
    /// <summary>Binds the instance to the activation the runtime is creating.</summary>
    /// <exception cref="InvalidOperationException">The grain was created with <c>new</c> rather than by the runtime.</exception>
    protected Grain()
    {
        Activation = GrainActivation.Constructing
            ?? throw new InvalidOperationException(
                $"{GetType().Name} was constructed outside the grain runtime; get grains with IGrainFactory.GetGrain<T>(key).");
    }

    internal GrainActivation Activation { get; }

    /// <summary>The grain's identity.</summary>
    public GrainId GrainId => Activation.GrainId;

    /// <summary>The factory for references to other grains (and this one).</summary>
    protected IGrainFactory GrainFactory => Activation.Runtime;

    /// <summary>The activation's service provider (one DI scope per activation, as Orleans).</summary>
    protected IServiceProvider ServiceProvider => Activation.Services;

    /// <summary>Runs before the first request, after persistent state is loaded. A throw fails the call and discards the activation.</summary>
    /// <param name="cancellationToken">Cancelled when the runtime stops.</param>
    /// <returns>A task that completes when the grain is ready.</returns>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before the activation is dropped (idle, <see cref="DeactivateOnIdle"/>, shutdown). State is NOT written
    /// automatically: write it in the calls that change it.
    /// </summary>
    /// <param name="reason">Why the activation is going away.</param>
    /// <param name="cancellationToken">Cancelled after <see cref="GrainCollectionOptions.DeactivationTimeout"/>.</param>
    /// <returns>A task that completes when the grain is done.</returns>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation once the current request (and any running with it) completes; overrides <see cref="DelayDeactivation"/>.</summary>
    protected void DeactivateOnIdle()
        => Activation.RequestDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"));

    /// <summary>
    /// Keeps the idle collector away from this activation for at least <paramref name="timeSpan"/>; a negative value
    /// cancels an earlier delay.
    /// </summary>
    /// <param name="timeSpan">How long to stay active.</param>
    protected void DelayDeactivation(TimeSpan timeSpan) => Activation.DelayDeactivation(timeSpan);
}

/// <summary>Identity helpers for grains and grain references. Orleans: <c>GrainExtensions</c>.</summary>
public static class GrainExtensions
{
    /// <summary>The string key of a grain or a grain reference.</summary>
    /// <param name="grain">A grain (<c>this</c> inside a grain) or a reference from <see cref="IGrainFactory.GetGrain{TGrainInterface}"/>.</param>
    /// <returns>The key.</returns>
    public static string GetPrimaryKeyString(this IAddressable grain) => grain.GetGrainId().Key;

    /// <summary>The identity of a grain or a grain reference.</summary>
    /// <param name="grain">A grain or a grain reference.</param>
    /// <returns>The grain id.</returns>
    /// <exception cref="ArgumentException"><paramref name="grain"/> is neither.</exception>
    public static GrainId GetGrainId(this IAddressable grain)
    {
        ArgumentNullException.ThrowIfNull(grain);
        return grain switch
        {
            Grain g => g.GrainId,
            GrainReferenceProxy reference => reference.GrainId,
            _ => throw new ArgumentException($"{grain.GetType().Name} is neither a grain nor a grain reference.", nameof(grain)),
        };
    }
}
