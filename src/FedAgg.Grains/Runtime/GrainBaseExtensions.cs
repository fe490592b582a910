namespace FedAgg.Grains.Runtime;

/// <summary>Grain timers. Orleans: <c>GrainBaseExtensions.RegisterGrainTimer</c>.</summary>
public static class GrainBaseExtensions
{
    /// <summary>
    /// Starts a timer owned by the grain's activation. Each tick runs as a turn of the grain (unless
    /// <see cref="GrainTimerCreationOptions.Interleave"/>), ticks never overlap, and the timer stops when the
    /// activation deactivates or the returned timer is disposed.
    /// </summary>
    /// <typeparam name="TState">The state passed to <paramref name="callback"/>.</typeparam>
    /// <param name="grain">The grain (<c>this</c>).</param>
    /// <param name="callback">The tick; its token is cancelled when the timer is disposed or the activation deactivates.</param>
    /// <param name="state">Passed to every tick.</param>
    /// <param name="options">The schedule.</param>
    /// <returns>The timer.</returns>
    public static IGrainTimer RegisterGrainTimer<TState>(
        this Grain grain, Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(grain);
        ArgumentNullException.ThrowIfNull(callback);
        return grain.Activation.RegisterTimer((s, ct) => callback((TState)s!, ct), state, options);
    }

    /// <inheritdoc cref="RegisterGrainTimer{TState}(Grain, Func{TState, CancellationToken, Task}, TState, GrainTimerCreationOptions)"/>
    public static IGrainTimer RegisterGrainTimer<TState>(
        this Grain grain, Func<TState, Task> callback, TState state, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return grain.RegisterGrainTimer((s, _) => callback(s), state, options);
    }

    /// <inheritdoc cref="RegisterGrainTimer{TState}(Grain, Func{TState, CancellationToken, Task}, TState, GrainTimerCreationOptions)"/>
    public static IGrainTimer RegisterGrainTimer(this Grain grain, Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return grain.RegisterGrainTimer<object?>((_, ct) => callback(ct), null, options);
    }

    /// <inheritdoc cref="RegisterGrainTimer{TState}(Grain, Func{TState, CancellationToken, Task}, TState, GrainTimerCreationOptions)"/>
    public static IGrainTimer RegisterGrainTimer(this Grain grain, Func<Task> callback, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return grain.RegisterGrainTimer<object?>((_, _) => callback(), null, options);
    }

    /// <summary>Starts a timer with <paramref name="dueTime"/> and <paramref name="period"/>; see the options overload.</summary>
    /// <param name="grain">The grain (<c>this</c>).</param>
    /// <param name="callback">The tick.</param>
    /// <param name="dueTime">The delay before the first tick.</param>
    /// <param name="period">The delay between the end of one tick and the next.</param>
    /// <returns>The timer.</returns>
    public static IGrainTimer RegisterGrainTimer(this Grain grain, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
        => grain.RegisterGrainTimer(callback, new GrainTimerCreationOptions(dueTime, period));
}
