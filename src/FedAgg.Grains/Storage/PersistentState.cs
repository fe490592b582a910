using FedAgg.Grains.Runtime;

namespace FedAgg.Grains.Storage;

/// <summary>One state of one activation, bound to its storage provider. Orleans: <c>StateStorageBridge</c>.</summary>
internal sealed class PersistentState<TState> : IPersistentState<TState>
{
    private readonly string _stateName;
    private readonly GrainId _grainId;
    private readonly IGrainStorage _storage;
    private readonly GrainState<TState> _state = new();

    public PersistentState(string stateName, GrainId grainId, IGrainStorage storage)
    {
        _stateName = stateName;
        _grainId = grainId;
        _storage = storage;
    }

    public TState State
    {
        get => _state.State;
        set => _state.State = value;
    }

    public string? Etag => _state.ETag;

    public bool RecordExists => _state.RecordExists;

    public Task ReadStateAsync(CancellationToken cancellationToken = default)
        => _storage.ReadStateAsync(_stateName, _grainId, _state, cancellationToken);

    public Task WriteStateAsync(CancellationToken cancellationToken = default)
        => _storage.WriteStateAsync(_stateName, _grainId, _state, cancellationToken);

    public Task ClearStateAsync(CancellationToken cancellationToken = default)
        => _storage.ClearStateAsync(_stateName, _grainId, _state, cancellationToken);
}

/// <summary>Creates the <see cref="PersistentState{TState}"/> for a <c>[PersistentState]</c> parameter.</summary>
internal static class PersistentStateFactory
{
    public static IStorage Create(PersistentStateDescriptor descriptor, GrainId grainId, IGrainStorage storage)
        => (IStorage)Activator.CreateInstance(
            typeof(PersistentState<>).MakeGenericType(descriptor.StateType), descriptor.StateName, grainId, storage)!;
}

/// <summary>The storage provider names registered with the builder.</summary>
internal sealed class StorageRegistry
{
    private readonly List<string> _names = [];

    public IReadOnlyList<string> Names => _names;

    public void Add(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_names.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"A grain storage named '{name}' is already registered.", nameof(name));
        }

        _names.Add(name);
    }
}
