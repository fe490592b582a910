using FedAgg.Storage;
using FedAgg.Storage.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Hosting;

/// <summary>
/// The server's durable stores, rooted at the data directory: the update store (the source of truth for receipted
/// updates) and the model store. Opened when the host starts, before the grain runtime (round grains read the journal
/// when they activate, and a reminder due at start activates one), and closed after it stops.
/// </summary>
public sealed class ServerStores : IHostedService, IAsyncDisposable
{
    private readonly FedAggServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private UpdateStore? _updates;
    private ModelStore? _models;

    /// <summary>Creates the (not yet open) stores.</summary>
    /// <param name="options">The server options.</param>
    /// <param name="loggerFactory">For the stores' logs.</param>
    /// <param name="timeProvider">The stores' clock.</param>
    public ServerStores(IOptions<FedAggServerOptions> options, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
    }

    /// <summary>The update store.</summary>
    /// <exception cref="InvalidOperationException">The host has not started.</exception>
    public UpdateStore Updates => _updates ?? throw new InvalidOperationException("The server's stores are not open (the host has not started).");

    /// <summary>The model store.</summary>
    /// <exception cref="InvalidOperationException">The host has not started.</exception>
    public ModelStore Models => _models ?? throw new InvalidOperationException("The server's stores are not open (the host has not started).");

    /// <summary>Opens (and recovers) both stores.</summary>
    /// <param name="cancellationToken">Not observed: recovery runs to its end.</param>
    /// <returns>A completed task.</returns>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var root = _options.DataPath;
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(Path.GetDirectoryName(_options.GrainDatabasePath)!);
        _updates = UpdateStore.Open(
            new UpdateStoreOptions { RootDirectory = root, DurabilityMode = _options.DurabilityMode, MaxUpdateBytes = _options.MaxPayloadBytes },
            _loggerFactory.CreateLogger<UpdateStore>(),
            _timeProvider);
        try
        {
            _models = ModelStore.Open(root, _loggerFactory.CreateLogger<ModelStore>());
        }
        catch
        {
            _updates.Dispose();
            _updates = null;
            throw;
        }

        return Task.CompletedTask;
    }

    /// <summary>Closes both stores (queued commits finish first).</summary>
    /// <param name="cancellationToken">Not observed.</param>
    /// <returns>A task that completes when the stores are closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <summary>Closes both stores.</summary>
    /// <returns>A task that completes when the stores are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _updates, null) is { } updates)
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _models, null)?.Dispose();
    }
}
