namespace FedAgg.Grains.Runtime;

/// <summary>How a grain timer ticks. Orleans: <c>GrainTimerCreationOptions</c>.</summary>
public readonly struct GrainTimerCreationOptions
{
    /// <summary>Creates the options.</summary>
    /// <param name="dueTime">The delay before the first tick.</param>
    /// <param name="period">The delay between the end of one tick's callback and the next tick.</param>
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public GrainTimerCreationOptions(TimeSpan dueTime, TimeSpan period)
    {
        DueTime = dueTime;
        Period = period;
    }

    /// <summary>The delay before the first tick; <see cref="TimeSpan.Zero"/> ticks at once, <see cref="Timeout.InfiniteTimeSpan"/> never.</summary>
    public required TimeSpan DueTime { get; init; }

    /// <summary>
    /// The delay between the end of one tick's callback and the next tick (callbacks never overlap);
    /// <see cref="Timeout.InfiniteTimeSpan"/> ticks once.
    /// </summary>
    public required TimeSpan Period { get; init; }

    /// <summary>Whether ticks interleave with calls and other timers (default false: a tick is a turn of its own).</summary>
    public bool Interleave { get; init; }

    /// <summary>Whether ticks count as activity that keeps the activation from idle collection (default false).</summary>
    public bool KeepAlive { get; init; }
}

/// <summary>A grain timer; dispose it to stop it. Timers stop when their activation deactivates. Orleans: <c>IGrainTimer</c>.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Changes the schedule; from inside the timer's own callback it applies once the callback ends.</summary>
    /// <param name="dueTime">The delay before the next tick.</param>
    /// <param name="period">The delay between the end of one callback and the next tick.</param>
    void Change(TimeSpan dueTime, TimeSpan period);
}
