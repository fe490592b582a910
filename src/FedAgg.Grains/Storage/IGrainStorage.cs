using FedAgg.Grains.Runtime;

namespace FedAgg.Grains.Storage;

/// <summary>
/// A grain storage provider: reads, writes and clears one named state of one grain, checking ETags so that a write
/// based on a stale read fails with <see cref="InconsistentStateException"/> and never overwrites.
/// Registered by name (<c>grains.AddSqliteStorage("Default", ...)</c>). Orleans: <c>IGrainStorage</c>.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Loads the state into <paramref name="grainState"/>: the stored value, its ETag and <see cref="IGrainState{T}.RecordExists"/>; an empty state with a null ETag if there is none.</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name within the grain.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">Filled in.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A task that completes when the state is loaded.</returns>
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default);

    /// <summary>Stores <see cref="IGrainState{T}.State"/> if the stored ETag still equals <see cref="IGrainState{T}.ETag"/>, then sets the new ETag; durable before it returns.</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name within the grain.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The state to write and the ETag it was read with.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is durable.</returns>
    /// <exception cref="InconsistentStateException">The stored ETag differs: someone else wrote first. Nothing was written.</exception>
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default);

    /// <summary>Removes the stored value if the stored ETag still equals <see cref="IGrainState{T}.ETag"/>; the state becomes empty with a new ETag.</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name within the grain.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The state and the ETag it was read with; reset to empty.</param>
    /// <param name="cancellationToken">Cancels the clear.</param>
    /// <returns>A task that completes when the clear is durable.</returns>
    /// <exception cref="InconsistentStateException">The stored ETag differs. Nothing was cleared.</exception>
    Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default);
}

/// <summary>A state value with its ETag, as a storage provider reads and writes it. Orleans: <c>IGrainState&lt;T&gt;</c>.</summary>
/// <typeparam name="T">The state type.</typeparam>
public interface IGrainState<T>
{
    /// <summary>The state value.</summary>
    T State { get; set; }

    /// <summary>The version the value was read or last written at; null if nothing was ever stored.</summary>
    string? ETag { get; set; }

    /// <summary>Whether storage holds a value (false before the first write and after a clear).</summary>
    bool RecordExists { get; set; }
}

/// <summary>The plain implementation of <see cref="IGrainState{T}"/>. Orleans: <c>GrainState&lt;T&gt;</c>.</summary>
/// <typeparam name="T">The state type.</typeparam>
public sealed class GrainState<T> : IGrainState<T>
{
    /// <summary>Creates an empty state (<see cref="State"/> is a new <typeparamref name="T"/> where it has a parameterless constructor).</summary>
    public GrainState()
        : this(GrainStateDefaults.Create<T>(), null)
    {
    }

    /// <summary>Creates a state with a value and an ETag.</summary>
    /// <param name="state">The value.</param>
    /// <param name="eTag">The ETag, or null.</param>
    public GrainState(T state, string? eTag)
    {
        State = state;
        ETag = eTag;
    }

    /// <inheritdoc/>
    public T State { get; set; }

    /// <inheritdoc/>
    public string? ETag { get; set; }

    /// <inheritdoc/>
    public bool RecordExists { get; set; }
}

/// <summary>Creates the empty value of a state type.</summary>
internal static class GrainStateDefaults
{
    public static T Create<T>()
        => typeof(T).IsValueType || typeof(T).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<T>() : default!;
}

/// <summary>A storage provider that needs work when the runtime starts (creating its schema).</summary>
internal interface IGrainStorageInitializer
{
    Task InitAsync(CancellationToken cancellationToken);
}
