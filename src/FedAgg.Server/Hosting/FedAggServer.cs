using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Rounds;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Libp2p.Configuration;
using FedAgg.Server.Chain;
using FedAgg.Server.Grains;
using FedAgg.Server.Ingest;
using FedAgg.Server.Models;
using FedAgg.Server.Services;
using FedAgg.Storage.Ingest;
using FedAgg.Storage.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Hosting;

/// <summary>
/// The FedAgg server: the libp2p host serving <c>/fedagg/submit</c>, <c>/fedagg/model</c>, <c>/fedagg/round</c>,
/// <c>/fedagg/bind</c> and <c>/fedagg/admin</c> (all <c>1.0.0</c>) over the
/// grains and the durable stores. Started by the host after the stores and the grain runtime (see
/// <see cref="FedAggServerHostingExtensions.AddFedAggServer"/>); at start it loads (or creates) the identity key and
/// has every round in the update store reconcile its accepted updates from the store's journal.
/// </summary>
public sealed class FedAggServer : IHostedService, IAsyncDisposable
{
    private readonly FedAggServerOptions _options;
    private readonly ServerStores _stores;
    private readonly TaskDirectory _directory;
    private readonly ServerMetrics _metrics;
    private readonly IRoundAnchorer _anchorer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private Ed25519PrivateKey? _key;
    private Libp2pHost? _host;

    /// <summary>Creates the (not yet started) server; the host does this.</summary>
    /// <param name="options">The server options.</param>
    /// <param name="stores">The durable stores.</param>
    /// <param name="directory">The submission targets the grains publish.</param>
    /// <param name="grains">The grain factory.</param>
    /// <param name="metrics">The counters.</param>
    /// <param name="anchorer">The ledger tasks are registered on.</param>
    /// <param name="loggerFactory">For logs.</param>
    /// <param name="timeProvider">The clock.</param>
    public FedAggServer(
        IOptions<FedAggServerOptions> options,
        ServerStores stores,
        TaskDirectory directory,
        IGrainFactory grains,
        ServerMetrics metrics,
        IRoundAnchorer anchorer,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _stores = stores;
        _directory = directory;
        Grains = grains;
        _metrics = metrics;
        _anchorer = anchorer;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<FedAggServer>();
    }

    /// <summary>The grain factory (tasks, rounds, participants).</summary>
    public IGrainFactory Grains { get; }

    /// <summary>The durable stores.</summary>
    public ServerStores Stores => _stores;

    /// <summary>The submission targets the grains publish.</summary>
    public TaskDirectory Directory => _directory;

    /// <summary>The server's peer id (its identity key signs receipts).</summary>
    /// <exception cref="InvalidOperationException">The server has not started.</exception>
    public PeerId PeerId => Key.PeerId;

    /// <summary>The server's public key.</summary>
    /// <exception cref="InvalidOperationException">The server has not started.</exception>
    public Ed25519PublicKey PublicKey => Key.PublicKey;

    /// <summary>The libp2p host.</summary>
    /// <exception cref="InvalidOperationException">The server has not started.</exception>
    public Libp2pHost Host => _host ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The bound listen addresses, each with <c>/p2p/&lt;peerId&gt;</c>.</summary>
    public IReadOnlyList<Multiaddress> ListenAddresses => [.. Host.ListenAddresses.Select(a => a.WithPeerId(PeerId))];

    /// <summary>The identity key (signs receipts; the round finalizer re-signs them for the manifest).</summary>
    internal Ed25519PrivateKey IdentityKey => Key;

    private Ed25519PrivateKey Key => _key ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>Loads the identity, reconciles the rounds from the store's journal, and starts listening.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the server listens.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = _options.Libp2pConfigFile is { } file ? Libp2pConfiguration.Load(file) : null;
        _key = LoadOrCreateKey(_options.IdentityKeyFile ?? configuration?.IdentityKeyFile ?? Path.Combine(_options.DataPath, "server.key"));
        try
        {
            var hostOptions = configuration?.CreateHostOptions() ?? new Libp2pHostOptions();
            hostOptions.IdentifyRemoteEagerly = false; // the server never reads its participants' identify
            if (_options.ListenAddresses.Count > 0)
            {
                hostOptions.ListenAddresses.Clear();
                foreach (var address in _options.ListenAddresses)
                {
                    hostOptions.ListenAddresses.Add(address);
                }
            }
            else if (hostOptions.ListenAddresses.Count == 0)
            {
                hostOptions.ListenAddresses.Add("/ip4/0.0.0.0/tcp/4001");
            }

            foreach (var corruption in _stores.Updates.Recovery.Corruption)
            {
                Log.StoreCorruption(_logger, $"{corruption.Kind} at {corruption.Path}: {corruption.Reason}");
            }

            await ReconcileAsync().ConfigureAwait(false);

            var gate = new GrainSubmissionGate(Grains, _directory, _options);
            var ingest = new UpdateIngest(_stores.Updates, _directory, _key, _timeProvider, gate,
                new UpdateIngestOptions { PayloadIdleTimeout = _options.PayloadIdleTimeout }, _loggerFactory.CreateLogger<UpdateIngest>());
            var submit = new SubmitProtocol(ingest, gate, _directory, Grains, _stores, _options, _metrics, _loggerFactory.CreateLogger<SubmitProtocol>());
            var model = new ModelProtocol(_directory, Grains, _stores, _options, _metrics, _loggerFactory.CreateLogger<ModelProtocol>());
            _host = new Libp2pHost(_key, hostOptions, _loggerFactory, _timeProvider);
            _host.RegisterProtocol(SubmitProtocol.ProtocolId, submit.HandleAsync);
            _host.RegisterProtocol(ModelProtocol.ProtocolId, model.HandleAsync);
            _host.RegisterProtocol(RoundProtocol.ProtocolId, new RoundProtocol(Grains, _options, _loggerFactory.CreateLogger<RoundProtocol>()).HandleAsync);
            _host.RegisterProtocol(BindProtocol.ProtocolId, new BindProtocol(Grains, _options, _loggerFactory.CreateLogger<BindProtocol>()).HandleAsync);
            _host.RegisterProtocol(ArtifactProtocol.ProtocolId, new ArtifactProtocol(Grains, _stores, _options).HandleAsync);
            _host.RegisterProtocol(AdminProtocol.ProtocolId,
                new AdminProtocol(new AdminCommands(this, _options), _options, _loggerFactory.CreateLogger<AdminProtocol>()).HandleAsync);
            await _host.StartAsync(cancellationToken).ConfigureAwait(false);
            Log.ServerStarted(_logger, _key.PeerId, _host.ListenAddresses, _options.DataPath);
        }
        catch
        {
            if (_host is not null)
            {
                await _host.DisposeAsync().ConfigureAwait(false);
                _host = null;
            }

            _key.Dispose();
            _key = null;
            throw;
        }
    }

    /// <summary>Stops listening and closes every connection (uploads in flight end without a receipt).</summary>
    /// <param name="cancellationToken">Bounds the wait for connections to close.</param>
    /// <returns>A task that completes when the server stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_host is { } host)
        {
            await host.StopAsync(cancellationToken).ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
            _host = null;
        }

        if (_key is { } key)
        {
            Log.ServerStopped(_logger, key.PeerId);
            key.Dispose();
            _key = null;
        }
    }

    /// <summary>Stops the server (see <see cref="StopAsync"/>).</summary>
    /// <returns>A task that completes when the server stopped.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    /// <summary>
    /// Stores the initial model and creates the task (idempotent: the same settings and weights again return the task).
    /// The task is bound to the server's <see cref="FedAggServerOptions.ChainId"/> and <see cref="FedAggServerOptions.Ledger"/>,
    /// added to the admin registry, and registered on the ledger when a chain is configured.
    /// </summary>
    /// <param name="settings">The task's settings.</param>
    /// <param name="initialWeights">The initial model vector (the settings' tensors concatenated in order).</param>
    /// <param name="cancellationToken">Cancels storing the model.</param>
    /// <returns>The task.</returns>
    /// <exception cref="ArgumentException">The settings are invalid or the weights do not match the model's size.</exception>
    /// <exception cref="InvalidOperationException">The task exists with different settings or model.</exception>
    public async Task<TaskInfo> CreateTaskAsync(TaskSettings settings, ReadOnlyMemory<float> initialWeights, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var manifest = new ModelManifest(settings.Model.Tensors.Select(static t => new ModelTensor(t.Name, t.Shape)));
        var hash = await _stores.Models.PutAsync(manifest, initialWeights, cancellationToken).ConfigureAwait(false);
        var task = await Grains.GetGrain<ITaskGrain>(settings.TaskId)
            .CreateAsync(new TaskCreation(settings, Hex.Encode(hash), _options.ChainId, Hex.Encode(_options.LedgerBytes))).ConfigureAwait(false);
        await Grains.GetGrain<IAdminGrain>(AdminGrain.Key).RegisterTaskAsync(task.TaskId).ConfigureAwait(false);
        await _anchorer.EnsureTaskRegisteredAsync(task, cancellationToken).ConfigureAwait(false);
        return task;
    }

    /// <summary>Opens the task's next round (or returns the open one).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="cancellationToken">Not observed by the grain call (grain calls have their own timeout).</param>
    /// <returns>The open round.</returns>
    /// <exception cref="InvalidOperationException">The task does not exist or its latest round is closing.</exception>
    public Task<RoundStatus> OpenNextRoundAsync(string taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Grains.GetGrain<ITaskGrain>(taskId).OpenNextRoundAsync();
    }

    private async Task ReconcileAsync()
    {
        var rounds = _stores.Updates.EnumerateRounds();
        foreach (var (taskId, round) in rounds)
        {
            // Activation records whatever the journal holds that the round does not (see RoundGrain).
            await Grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, round)).GetStatusAsync().ConfigureAwait(false);
            await _directory.EnsureLoadedAsync(Grains, taskId).ConfigureAwait(false);
        }

        Log.Reconciled(_logger, rounds.Count);
    }

    private Ed25519PrivateKey LoadOrCreateKey(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            var created = Ed25519PrivateKey.Generate();
            KeyFile.Write(full, created);
            Log.IdentityCreated(_logger, full, created.PeerId);
            return created;
        }

        var key = KeyFile.Load(full, out var warning);
        if (warning is not null)
        {
            Log.IdentityWarning(_logger, full, warning);
        }

        return key;
    }
}
