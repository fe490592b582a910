using FedAgg.Grains.Runtime;

namespace FedAgg.Grains.Storage;

/// <summary>Storage operations on one state of a grain. Orleans: <c>IStorage</c>.</summary>
public interface IStorage
{
    /// <summary>The version the state was read or last written at; null if nothing was ever stored.</summary>
    string? Etag { get; }

    /// <summary>Whether storage holds a value (false before the first write and after a clear).</summary>
    bool RecordExists { get; }

    /// <summary>Removes the stored value (ETag-checked) and resets the state to empty.</summary>
    /// <param name="cancellationToken">Cancels the clear.</param>
    /// <returns>A task that completes when the clear is durable.</returns>
    /// <exception cref="InconsistentStateException">Someone else wrote since this state was read.</exception>
    Task ClearStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the state (ETag-checked); durable before it returns.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is durable.</returns>
    /// <exception cref="InconsistentStateException">Someone else wrote since this state was read; nothing was written.</exception>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Reloads the state from storage, discarding in-memory changes.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A task that completes when the state is loaded.</returns>
    Task ReadStateAsync(CancellationToken cancellationToken = default);
}

/// <summary>Storage operations on one typed state of a grain. Orleans: <c>IStorage&lt;TState&gt;</c>.</summary>
/// <typeparam name="TState">The state type.</typeparam>
public interface IStorage<TState> : IStorage
{
    /// <summary>The state value (loaded before OnActivateAsync).</summary>
    TState State { get; set; }
}

/// <summary>
/// A grain's persistent state, injected through a constructor parameter marked <see cref="PersistentStateAttribute"/>
/// and loaded before <see cref="Grain.OnActivateAsync"/>. Orleans: <c>IPersistentState&lt;TState&gt;</c>.
/// </summary>
/// <typeparam name="TState">The state type (serialized as camelCase JSON).</typeparam>
#pragma warning disable CA1040 // The Orleans shape: a named role over IStorage<TState>.
public interface IPersistentState<TState> : IStorage<TState>
#pragma warning restore CA1040
{
}

/// <summary>
/// Marks a grain constructor parameter of type <see cref="IPersistentState{TState}"/> to be filled with the named
/// state from the named storage provider. Orleans: <c>[PersistentState]</c>.
/// </summary>
/// <param name="stateName">The state's name within the grain (a storage key part).</param>
/// <param name="storageName">The storage provider's name; <see cref="DefaultStorageName"/> when null.</param>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    /// <summary>The storage name used when none is given: <c>Default</c>, as Orleans.</summary>
    public const string DefaultStorageName = "Default";

    /// <summary>The state's name within the grain.</summary>
    public string StateName { get; } = stateName;

    /// <summary>The storage provider's name, or null for <see cref="DefaultStorageName"/>.</summary>
    public string? StorageName { get; } = storageName;
}

/// <summary>
/// A write or clear found a different ETag in storage than the one it was based on: another writer got there first.
/// Nothing was written. The runtime deactivates the activation whose call threw it so that the next call reloads the
/// state (as Orleans). Orleans: <c>InconsistentStateException</c>.
/// </summary>
public sealed class InconsistentStateException : GrainRuntimeException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public InconsistentStateException()
        : this("The stored ETag does not match.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public InconsistentStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public InconsistentStateException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with both ETags.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="storedEtag">The ETag in storage (null: no row).</param>
    /// <param name="currentEtag">The ETag the writer expected (null: it expected no row).</param>
    public InconsistentStateException(string message, string? storedEtag, string? currentEtag)
        : base(message)
    {
        StoredEtag = storedEtag;
        CurrentEtag = currentEtag;
    }

    /// <summary>The ETag in storage (the actual one); null if storage holds no row.</summary>
    public string? StoredEtag { get; }

    /// <summary>The ETag the writer expected (the one it read); null if it expected no row.</summary>
    public string? CurrentEtag { get; }
}
