using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Chain;
using FedAgg.Chain.Ledger;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;
using FedAgg.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Node;

/// <summary>An update signed and ready to send: the exact request and payload bytes, so every retry is the same update.</summary>
/// <param name="Request">The signed request.</param>
/// <param name="Preimage">Its decoded preimage.</param>
/// <param name="Payload">The payload bytes (float32 little-endian).</param>
public sealed record PreparedUpdate(SubmitRequest Request, UpdatePreimage Preimage, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The update's id, SHA-256 of the preimage.</summary>
    public Bytes32 UpdateId { get; } = new(UpdatePreimage.ComputeUpdateId(Request.Preimage.Span));
}

/// <summary>What a submission got.</summary>
/// <param name="Update">The update sent.</param>
/// <param name="Outcome">The server's last answer.</param>
/// <param name="Attempts">How many sends it took.</param>
/// <param name="ReceiptPath">Where the receipt was kept (null when the server did not store the update).</param>
public sealed record NodeSubmission(PreparedUpdate Update, SubmitOutcome Outcome, int Attempts, string? ReceiptPath)
{
    /// <summary>Whether the server stored the update (accepted, or a duplicate of a stored one).</summary>
    public bool Stored => Outcome.Receipt.IsStored;
}

/// <summary>One round of local training: the update <c>local − base</c> and what training did.</summary>
/// <param name="Update">The update.</param>
/// <param name="Training">The trainer's result.</param>
public sealed record TrainedUpdate(float[] Update, LocalTrainingResult Training);

/// <summary>
/// A FedAgg participant: connects to a server, fetches the model of the open round, trains (any <see cref="ILocalTrainer"/>),
/// signs and submits its update with retries (the same signed bytes each time, so the server answers a retry with the
/// original receipt), keeps every receipt on disk, and after publication checks that its update is in the round's
/// manifest, that its Merkle proof verifies against the updates root, and that the round is anchored on chain.
/// </summary>
/// <remarks>Calls may run concurrently (each opens its own stream); reconnection after a failed send is serialised.</remarks>
public sealed class ParticipantNode : IAsyncDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);
    private readonly Multiaddress _server;
    private readonly ParticipantNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reconnect = new(1, 1);
    private FedAggClient _client;

    private ParticipantNode(Multiaddress server, Ed25519PrivateKey key, FedAggClient client, ParticipantNodeOptions options, ILogger logger)
    {
        _server = server;
        Key = key;
        _client = client;
        _options = options;
        _time = options.TimeProvider ?? TimeProvider.System;
        _logger = logger;
        Receipts = new ReceiptStore(options.DataDirectory);
    }

    /// <summary>The node's identity (used, not owned).</summary>
    public Ed25519PrivateKey Key { get; }

    /// <summary>The node's peer id.</summary>
    public PeerId PeerId => Key.PeerId;

    /// <summary>The node's raw Ed25519 public key, as the updates tree holds it.</summary>
    public Bytes32 SignerPublicKey => new(Key.PublicKey.Bytes);

    /// <summary>The task.</summary>
    public string TaskId => _options.TaskId;

    /// <summary>The node's receipts.</summary>
    public ReceiptStore Receipts { get; }

    /// <summary>The current connection to the server.</summary>
    public FedAggClient Client => _client;

    /// <summary>Connects to <paramref name="server"/>.</summary>
    /// <param name="server">The server's multiaddress with <c>/p2p/&lt;id&gt;</c>.</param>
    /// <param name="key">The node's identity (not disposed by the node).</param>
    /// <param name="options">The node's options (validated).</param>
    /// <param name="logger">Logs submissions, retries and checks; none when null.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    /// <returns>The node.</returns>
    /// <exception cref="Libp2pException">The dial failed.</exception>
    public static async Task<ParticipantNode> ConnectAsync(
        Multiaddress server, Ed25519PrivateKey key, ParticipantNodeOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var client = await FedAggClient.ConnectAsync(server, key, options.Client, cancellationToken).ConfigureAwait(false);
        return new ParticipantNode(server, key, client, options, logger ?? NullLogger.Instance);
    }

    /// <summary>Fetches the task's current model (and the open round, chain and ledger it names).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The model, checked against its hash.</returns>
    /// <exception cref="ParticipantNodeException">The server has no model for the task.</exception>
    public async Task<ModelDownload> FetchModelAsync(CancellationToken cancellationToken = default)
    {
        var model = await _client.FetchModelAsync(TaskId, default, cancellationToken).ConfigureAwait(false);
        return model.Response.Status == ModelStatus.Ok
            ? model
            : throw new ParticipantNodeException($"The server has no model of task '{TaskId}': {model.Response.Status} {model.Response.Reason}".TrimEnd());
    }

    /// <summary>Binds <paramref name="address"/> as where this peer's credits go on the server's chain and ledger.</summary>
    /// <param name="chainId">The server's chain id (a model response names it).</param>
    /// <param name="ledger">The server's ledger address, 20 bytes (a model response names it).</param>
    /// <param name="address">The Ethereum account.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ParticipantNodeException">The server refused the binding.</exception>
    public async Task BindAddressAsync(ulong chainId, ReadOnlyMemory<byte> ledger, EthereumAddress address, CancellationToken cancellationToken = default)
    {
        var response = await _client.BindAddressAsync(chainId, ledger, address.ToArray(), cancellationToken).ConfigureAwait(false);
        if (response.Status != ServiceStatus.Ok)
        {
            throw new ParticipantNodeException($"The server refused to bind {address}: {response.Status} {response.Reason}".TrimEnd());
        }
    }

    /// <summary>Trains one round from <paramref name="baseModel"/> and returns <c>local − base</c>.</summary>
    /// <param name="trainer">The local trainer.</param>
    /// <param name="baseModel">The global model.</param>
    /// <param name="options">The round's training settings.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The update and what training did.</returns>
    public static TrainedUpdate Train(ILocalTrainer trainer, ReadOnlySpan<float> baseModel, LocalTrainingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var local = new float[trainer.ParameterCount];
        var result = trainer.Train(baseModel, local, options, cancellationToken);
        UpdateMath.Subtract(local, baseModel, local);
        return new TrainedUpdate(local, result);
    }

    /// <summary>Signs <paramref name="update"/> (float32) as this node's update to the round <paramref name="model"/> names as open.</summary>
    /// <param name="model">The model the update was computed from.</param>
    /// <param name="update">The update, <c>local − base</c>.</param>
    /// <param name="numSamples">Informational: how many samples trained it.</param>
    /// <returns>The signed update.</returns>
    public PreparedUpdate Prepare(ModelResponse model, ReadOnlySpan<float> update, ulong numSamples)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.OpenRound == 0)
        {
            throw new ArgumentException("The model response names no open round.", nameof(model));
        }

        var payload = MemoryMarshal.AsBytes(update).ToArray();
        var preimage = new UpdatePreimage
        {
            ChainId = model.ChainId,
            Ledger = model.Ledger.Length == 20 ? model.Ledger.ToArray() : new byte[20],
            TaskId = TaskId,
            Round = model.OpenRound,
            BaseModelHash = model.ModelHash.ToArray(),
            Codec = PayloadCodec.Float32,
            NumElements = (ulong)update.Length,
            PayloadSha256 = SHA256.HashData(payload),
            NumSamples = numSamples,
            Nonce = RandomNumberGenerator.GetBytes(16),
            ExpiresUnixMs = (ulong)_time.GetUtcNow().Add(_options.UpdateLifetime).ToUnixTimeMilliseconds(),
        };
        return new PreparedUpdate(SubmitRequest.Create(preimage, Key), preimage, payload);
    }

    /// <summary>
    /// Sends <paramref name="update"/> until the server answers with a final status, at most
    /// <see cref="ParticipantNodeOptions.SubmitAttempts"/> times: a failed connection is re-dialled and the same signed
    /// bytes are sent again (the server answers a repeat with status duplicate and the original receipt), and
    /// <c>rate limited</c> or <c>unavailable</c> are retried after the delay. A stored update's receipt is written to
    /// <see cref="Receipts"/> before this returns.
    /// </summary>
    /// <param name="update">The signed update.</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    /// <returns>The last answer (any status).</returns>
    /// <exception cref="ParticipantNodeException">No answer after every attempt (<see cref="ParticipantNodeException.IsTransient"/>).</exception>
    public async Task<NodeSubmission> SubmitAsync(PreparedUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var delay = _options.RetryDelay;
        Exception? last = null;
        for (var attempt = 1; attempt <= _options.SubmitAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string reason;
            try
            {
                var outcome = await _client.SubmitAsync(update.Request, update.Payload, cancellationToken).ConfigureAwait(false);
                var status = outcome.Receipt.Status;
                if (status is not (SubmitStatus.RateLimited or SubmitStatus.Unavailable) || attempt == _options.SubmitAttempts)
                {
                    Log.Submitted(_logger, update.UpdateId, update.Preimage.Round, TaskId, status, outcome.Receipt.Sequence, attempt);
                    var path = outcome.Receipt.IsStored ? await KeepReceiptAsync(update, outcome, attempt, cancellationToken).ConfigureAwait(false) : null;
                    return new NodeSubmission(update, outcome, attempt, path);
                }

                reason = $"{status} {outcome.Receipt.Reason}".TrimEnd();
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellationToken))
            {
                last = e;
                reason = e.Message;
                if (attempt < _options.SubmitAttempts)
                {
                    await ReconnectAsync(reason, cancellationToken).ConfigureAwait(false);
                }
            }

            if (attempt < _options.SubmitAttempts)
            {
                Log.SubmitRetry(_logger, update.UpdateId, attempt, _options.SubmitAttempts, delay.TotalMilliseconds, reason);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }

        throw new ParticipantNodeException($"Update {update.UpdateId} got no receipt after {_options.SubmitAttempts} attempts: {last?.Message}", last) { IsTransient = true };
    }

    /// <summary>Fetches round <paramref name="round"/>'s manifest, or null while the round is not published.</summary>
    /// <param name="round">The round.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The manifest, or null.</returns>
    public async Task<RoundManifest?> FetchManifestAsync(ulong round, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(round);
        var download = await _client.FetchRoundAsync(TaskId, round, cancellationToken).ConfigureAwait(false);
        return download.Manifest;
    }

    /// <summary>
    /// Checks this node's update of <paramref name="round"/> (from its kept receipt) against the round's
    /// <paramref name="manifest"/> and, with <paramref name="ledger"/>, against the round's anchor on chain.
    /// </summary>
    /// <param name="round">The round.</param>
    /// <param name="manifest">The round's manifest.</param>
    /// <param name="ledger">The ledger to check the anchor on; null to skip that check.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ParticipantNodeException">The node kept no receipt for the round.</exception>
    public async Task<InclusionReport> CheckInclusionAsync(ulong round, RoundManifest manifest, FedAggLedger? ledger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var receipt = await Receipts.ReadAsync(TaskId, round, cancellationToken).ConfigureAwait(false)
            ?? throw new ParticipantNodeException($"No receipt of round {round} of '{TaskId}' under {Receipts.Root}.");
        if (manifest.Round != round || manifest.TaskId != TaskId)
        {
            throw new ArgumentException($"The manifest is of round {manifest.Round} of '{manifest.TaskId}', not round {round} of '{TaskId}'.", nameof(manifest));
        }

        var report = InclusionCheck.Check(manifest, receipt.UpdateId, SignerPublicKey);
        if (ledger is not null && report.Accepted)
        {
            report = await InclusionCheck.CheckAnchorAsync(report, manifest, ledger, cancellationToken).ConfigureAwait(false);
        }

        Log.InclusionChecked(_logger, round, TaskId, receipt.UpdateId, report.Included, report.Anchored);
        return report;
    }

    /// <summary>Closes the connection.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        _reconnect.Dispose();
    }

    private async Task<string> KeepReceiptAsync(PreparedUpdate update, SubmitOutcome outcome, int attempts, CancellationToken cancellationToken)
    {
        var round = update.Preimage.Round;
        var existing = await Receipts.ReadAsync(TaskId, round, cancellationToken).ConfigureAwait(false);
        if (existing is not null && existing.UpdateId == update.UpdateId)
        {
            // A retry's duplicate answer carries the original receipt; the first one kept stays as it is.
            return Receipts.PathOf(TaskId, round);
        }

        var receipt = outcome.Receipt;
        return await Receipts.WriteAsync(
            new StoredReceipt
            {
                TaskId = TaskId,
                Round = round,
                PeerId = PeerId.ToString(),
                UpdateId = update.UpdateId,
                Preimage = update.Request.Preimage,
                Signature = update.Request.Signature,
                Status = receipt.Status,
                Reason = receipt.Reason,
                Sequence = receipt.Sequence,
                ReceivedUnixMs = receipt.ReceivedUnixMs,
                Receipt = outcome.Raw,
                ServerPeerId = _client.ServerPeerId.ToString(),
                Attempts = attempts,
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task ReconnectAsync(string reason, CancellationToken cancellationToken)
    {
        await _reconnect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_client.Connection.IsClosed)
            {
                return;
            }

            Log.Reconnecting(_logger, _server, reason);
            try
            {
                var fresh = await FedAggClient.ConnectAsync(_server, Key, _options.Client, cancellationToken).ConfigureAwait(false);
                var old = _client;
                _client = fresh;
                await old.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellationToken))
            {
                // The next attempt fails fast and retries the dial.
            }
        }
        finally
        {
            _reconnect.Release();
        }
    }

    private static bool IsConnectionFailure(Exception e, CancellationToken cancellationToken) =>
        e is Libp2pException or IOException or FedAggProtocolException or InvalidOperationException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
