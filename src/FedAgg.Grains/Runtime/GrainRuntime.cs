using System.Collections.Concurrent;
using FedAgg.Grains.Reminders;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Grains.Runtime;

/// <summary>
/// The in-process grain runtime: the catalog of activations (one per grain id), the grain factory, the idle
/// collector, and the entry point of reminder ticks. Orleans: the silo's catalog, grain factory and activation collector.
/// </summary>
internal sealed class GrainRuntime : IGrainFactory, IDisposable
{
    private const int Created = 0;
    private const int Started = 1;
    private const int StoppingState = 2;
    private const int Stopped = 3;

    private readonly ConcurrentDictionary<GrainId, GrainActivation> _activations = new();
    private readonly GrainTypeRegistry _registry;
    private readonly StorageRegistry _storageRegistry;
    private readonly IOptions<MessagingOptions> _messagingOptions;
    private readonly IOptions<GrainCollectionOptions> _collectionOptions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, IGrainStorage> _storages = new(StringComparer.Ordinal);
    private ReminderService? _reminders;
    private ITimer? _collector;
    private int _state;

    public GrainRuntime(
        IServiceProvider services,
        GrainTypeRegistry registry,
        StorageRegistry storageRegistry,
        TimeProvider timeProvider,
        IOptions<MessagingOptions> messagingOptions,
        IOptions<GrainCollectionOptions> collectionOptions,
        ILoggerFactory loggerFactory)
    {
        Services = services;
        _registry = registry;
        _storageRegistry = storageRegistry;
        TimeProvider = timeProvider;
        _messagingOptions = messagingOptions;
        _collectionOptions = collectionOptions;
        Logger = loggerFactory.CreateLogger("FedAgg.Grains.Runtime");
    }

    public IServiceProvider Services { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    public GrainCollectionOptions CollectionOptions => _collectionOptions.Value;

    /// <summary>Cancelled when the runtime starts stopping.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public ReminderService? Reminders => _reminders;

    public int ActivationCount => _activations.Count;

    public void Dispose()
    {
        _collector?.Dispose();
        _stopping.Dispose();
    }

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(primaryKey);
        var grainClass = _registry.GetByInterface(typeof(TGrainInterface));
        return GrainReferenceProxy.Create<TGrainInterface>(this, new GrainId(grainClass.GrainType, primaryKey), grainClass);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Started, Created) != Created)
        {
            throw new InvalidOperationException("The grain runtime can be started once.");
        }

        var messaging = _messagingOptions.Value;
        var collection = _collectionOptions.Value;
        foreach (var name in _storageRegistry.Names)
        {
            var storage = GetStorage(name);
            if (storage is IGrainStorageInitializer initializer)
            {
                await initializer.InitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var grainClass in _registry.Classes)
        {
            foreach (var state in grainClass.States)
            {
                if (!_storageRegistry.Names.Contains(state.StorageName))
                {
                    throw new InvalidOperationException(
                        $"{grainClass.ImplementationType.Name}'s state '{state.StateName}' (parameter '{state.ParameterName}') uses the grain storage " +
                        $"'{state.StorageName}', which is not registered (registered: {string.Join(", ", _storageRegistry.Names.Select(n => $"'{n}'"))}); " +
                        $"add it with grains.AddSqliteStorage(\"{state.StorageName}\", ...) or grains.AddPostgresStorage(\"{state.StorageName}\", ...).");
                }
            }
        }

        _reminders = Services.GetService<ReminderService>();
        if (_reminders is not null)
        {
            await _reminders.StartAsync(this, cancellationToken).ConfigureAwait(false);
        }

        _collector = TimeProvider.CreateTimer(
            static s => ((GrainRuntime)s!).CollectIdleActivations(), this, collection.CollectionQuantum, collection.CollectionQuantum);
        Log.RuntimeStarted(Logger, _registry.Classes.Count, _storageRegistry.Names.Count, _reminders is not null, messaging.ResponseTimeout, collection.CollectionAge);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, StoppingState, Started) != Started)
        {
            return;
        }

        var started = TimeProvider.GetTimestamp();
        if (_collector is not null)
        {
            await _collector.DisposeAsync().ConfigureAwait(false);
        }

        if (_reminders is not null)
        {
            await _reminders.StopAsync().ConfigureAwait(false);
        }

        var activations = _activations.Values.ToArray();
        foreach (var activation in activations)
        {
            activation.RequestDeactivation(new DeactivationReason(DeactivationReasonCode.ShuttingDown, "The grain runtime is stopping"));
        }

        try
        {
            await Task.WhenAll(activations.Select(a => a.Deactivated)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.StopAbandoned(Logger, _activations.Count);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Volatile.Write(ref _state, Stopped);
        var elapsed = TimeProvider.GetElapsedTime(started);
        Log.RuntimeStopped(Logger, activations.Length, elapsed.TotalMilliseconds);
    }

    /// <summary>Sends a call to the grain and waits for the response (at most <see cref="MessagingOptions.ResponseTimeout"/>).</summary>
    public Task<T> InvokeAsync<T>(GrainId grainId, GrainClassInfo grainClass, GrainMethod method, object?[] arguments)
    {
        var request = new GrainRequest<T>(method, arguments, CallChain.Current);
        _ = SubmitAsync(grainId, grainClass, request);
        var response = request.Response;
        return response.IsCompleted ? response : WaitForResponseAsync(response, grainId, method);
    }

    /// <summary>Queues <paramref name="item"/> on the grain's activation, creating one if needed; failures go to the item.</summary>
    public async Task SubmitAsync(GrainId grainId, GrainClassInfo grainClass, WorkItem item)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                GrainActivation activation;
                var state = Volatile.Read(ref _state);
                if (state == Started)
                {
                    activation = _activations.GetOrAdd(
                        grainId, static (id, s) => new GrainActivation(s.Runtime, id, s.GrainClass), (Runtime: this, GrainClass: grainClass));
                }
                else if (state == StoppingState && _activations.TryGetValue(grainId, out var existing))
                {
                    activation = existing;
                }
                else
                {
                    throw new InvalidOperationException(
                        state == Created ? $"The grain runtime has not started; {item.Description} on {grainId} was not sent."
                            : $"The grain runtime is stopping or stopped; {item.Description} on {grainId} was not sent.");
                }

                if (activation.TryEnqueue(item))
                {
                    return;
                }

                if (attempt >= 100)
                {
                    throw new InvalidOperationException($"{grainId} was deactivated 100 times while {item.Description} waited for it.");
                }

                await activation.Deactivated.ConfigureAwait(false);
            }
        }
        catch (DeadlockException exception)
        {
            Log.DeadlockDetected(Logger, grainId, exception);
            item.Fail(exception);
        }
        catch (Exception exception)
        {
            item.Fail(exception);
        }
    }

    /// <summary>Delivers a reminder tick as a call to <see cref="IRemindable.ReceiveReminder"/>, activating the grain if needed.</summary>
    public Task DeliverReminderAsync(GrainId grainId, string reminderName, TickStatus status)
    {
        var grainClass = _registry.FindByGrainType(grainId.Type);
        if (grainClass is null || !grainClass.IsRemindable)
        {
            Log.ReminderForUnknownGrain(Logger, grainId, reminderName);
            return Task.CompletedTask;
        }

        var method = GrainMethod.Get(typeof(IRemindable).GetMethod(nameof(IRemindable.ReceiveReminder))!);
        return InvokeAsync<object?>(grainId, grainClass, method, [reminderName, status]);
    }

    public IGrainStorage GetStorage(string name)
        => _storages.GetOrAdd(name, static (n, services) => services.GetKeyedService<IGrainStorage>(n)
            ?? throw new InvalidOperationException($"No grain storage named '{n}' is registered."), Services);

    public void RemoveActivation(GrainActivation activation)
        => _activations.TryRemove(KeyValuePair.Create(activation.GrainId, activation));

    public GrainActivation? FindActivation(GrainId grainId) => _activations.GetValueOrDefault(grainId);

    /// <summary>One pass of the idle collector.</summary>
    public void CollectIdleActivations()
    {
        var options = _collectionOptions.Value;
        var now = TimeProvider.GetUtcNow();
        var collected = 0;
        foreach (var activation in _activations.Values)
        {
            if (activation.IsIdle(now, options.CollectionAge))
            {
                collected++;
                activation.RequestDeactivation(new DeactivationReason(
                    DeactivationReasonCode.ActivationIdle, $"Idle for at least {options.CollectionAge}"));
            }
        }

        if (collected > 0)
        {
            Log.IdleCollected(Logger, collected);
        }
    }

    private async Task<T> WaitForResponseAsync<T>(Task<T> response, GrainId grainId, GrainMethod method)
    {
        var timeout = _messagingOptions.Value.ResponseTimeout;
        try
        {
            return await response.WaitAsync(timeout, TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!response.IsCompleted)
        {
            Log.CallTimedOut(Logger, grainId, method.Name, timeout);
            throw new TimeoutException(
                $"{method.Name} on {grainId} got no response within {timeout} (MessagingOptions.ResponseTimeout); the grain may still be working on it.");
        }
    }
}
