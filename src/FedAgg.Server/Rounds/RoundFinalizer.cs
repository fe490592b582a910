using System.Diagnostics;
using FedAgg.Aggregation;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Server.Chain;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Storage.Models;
using FedAgg.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Rounds;

/// <summary>
/// Publishes a closed round: aggregation with the task's rule and outer optimizer (from the previous round's state),
/// the new model and its optimizer state stored content-addressed, credits, both Merkle roots, the manifest
/// (<see cref="RoundDataLayout.ManifestPath"/>), then <c>anchorRound</c> sent and confirmed and its hash added to the
/// manifest, then the model recorded as the task's current one and the next round opened.
/// </summary>
/// <remarks>
/// Every step is idempotent, so a restart at any point finishes the round with the same bytes: the computation is
/// deterministic (receipts are re-signed with the deterministic Ed25519 key and the journal's sequence and time), the
/// stores are content-addressed, a manifest already on disk is reused rather than recomputed, and the anchorer asks the
/// ledger before sending (<see cref="IRoundAnchorer"/>). Progress is visible on disk: manifest without <c>anchorTx</c> =
/// computed; with it = anchored; the task's current model = recorded.
/// </remarks>
public sealed class RoundFinalizer
{
    /// <summary>The environment variable naming a crash point (tests only): the process kills itself with SIGKILL there.</summary>
    public const string CrashPointVariable = "FEDAGG_TEST_CRASH_AT";

    /// <summary>Crash point: the model and state are stored, the manifest is not written.</summary>
    public const string CrashAfterAggregation = "after-aggregation";

    /// <summary>Crash point: the manifest (without anchorTx) is written, nothing is sent.</summary>
    public const string CrashBeforeAnchor = "before-anchor";

    /// <summary>Crash point: anchorRound is mined, the manifest does not name it yet.</summary>
    public const string CrashAfterAnchorSent = "after-anchor-sent";

    private readonly FedAggServer _server;
    private readonly ServerStores _stores;
    private readonly IRoundAnchorer _anchorer;
    private readonly FedAggServerOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string? _crashPoint = Environment.GetEnvironmentVariable(CrashPointVariable);

    /// <summary>Creates the finalizer; the host does this.</summary>
    /// <param name="server">The server (its identity key re-signs receipts; its grains hold tasks and rounds).</param>
    /// <param name="stores">The durable stores.</param>
    /// <param name="anchorer">The ledger.</param>
    /// <param name="options">The server options.</param>
    /// <param name="metrics">Round durations, aggregation seconds.</param>
    /// <param name="logger">For logs.</param>
    public RoundFinalizer(
        FedAggServer server, ServerStores stores, IRoundAnchorer anchorer, IOptions<FedAggServerOptions> options, ServerMetrics metrics, ILogger<RoundFinalizer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _server = server;
        _stores = stores;
        _anchorer = anchorer;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Finalizes round <paramref name="round"/> of <paramref name="taskId"/> (nothing when it is already published).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The closed round.</param>
    /// <param name="cancellationToken">Cancels the work (a restart resumes it).</param>
    /// <returns>The published manifest; null when the round is not closed yet.</returns>
    /// <exception cref="AggregationException">The rule cannot run on the round's updates.</exception>
    public async Task<RoundManifest?> FinalizeAsync(string taskId, ulong round, CancellationToken cancellationToken)
    {
        var grains = _server.Grains;
        var task = await grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException($"There is no task '{taskId}'.");
        var status = await grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, round)).GetStatusAsync().ConfigureAwait(false);
        if (status.Phase != RoundPhase.Closed)
        {
            return null;
        }

        var manifestPath = RoundDataLayout.ManifestPath(_options.DataPath, taskId, round);
        var manifest = File.Exists(manifestPath) ? await RoundManifestJson.ReadFileAsync(manifestPath, cancellationToken).ConfigureAwait(false) : null;
        if (manifest is null)
        {
            manifest = await ComputeAsync(task, status, cancellationToken).ConfigureAwait(false);
            Crash(CrashAfterAggregation);
            await RoundManifestJson.WriteFileAsync(manifestPath, manifest, cancellationToken).ConfigureAwait(false);
        }

        if (manifest.AnchorTx is null && _anchorer.Enabled)
        {
            Crash(CrashBeforeAnchor);
            var outcome = await _anchorer.AnchorAsync(manifest, cancellationToken).ConfigureAwait(false);
            Crash(CrashAfterAnchorSent);
            manifest = manifest with { AnchorTx = outcome!.TransactionHash };
            await RoundManifestJson.WriteFileAsync(manifestPath, manifest, cancellationToken).ConfigureAwait(false);
        }

        _stores.Updates.ReleaseJournal(taskId, round);
        var admin = grains.GetGrain<IAdminGrain>(AdminGrain.Key);
        await admin.NoteParticipantsAsync(taskId, [.. manifest.Updates.Select(static u => u.PeerId)]).ConfigureAwait(false);
        foreach (var update in manifest.Updates)
        {
            await grains.GetGrain<IParticipantGrain>(update.PeerId).RecordCreditAsync(new CreditRecord(
                taskId, round, update.UpdateId.ToString(), update.Accepted, update.Contribution,
                update.Credit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                update.BoundAddress.IsEmpty ? null : Core.Codecs.Hex.Encode(update.BoundAddress.Span))).ConfigureAwait(false);
        }

        if (task.CurrentModelRound < round)
        {
            await grains.GetGrain<ITaskGrain>(taskId).RecordModelAsync(new TaskModel(manifest.ModelHash.ToString(), round)).ConfigureAwait(false);
            _metrics.RoundPublished();
            _metrics.RoundDuration.Record(Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - status.OpenedUnixMs) / 1000.0);
            Log.RoundPublished(_logger, taskId, round, manifestPath);
        }

        if (_options.AutoOpenNextRound)
        {
            var latest = (await grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false))!.LatestRound;
            if (latest == round)
            {
                await grains.GetGrain<ITaskGrain>(taskId).OpenNextRoundAsync().ConfigureAwait(false);
            }
        }

        return manifest;
    }

    private async Task<RoundManifest> ComputeAsync(TaskInfo task, RoundStatus status, CancellationToken cancellationToken)
    {
        var settings = task.Settings;
        var round = status.Round;
        var previous = round > 1
            ? await RoundManifestJson.ReadFileAsync(RoundDataLayout.ManifestPath(_options.DataPath, task.TaskId, round - 1), cancellationToken).ConfigureAwait(false)
            : null;
        var parentHash = Bytes32.Parse(status.BaseModelHash);
        if (previous is not null && previous.ModelHash != parentHash)
        {
            throw new InvalidOperationException($"Round {round} of task '{task.TaskId}' started from {parentHash}, but round {round - 1} produced {previous.ModelHash}.");
        }

        float[] parent;
        using (var stored = _stores.Models.OpenModel(parentHash.AsSpan()))
        {
            parent = new float[checked((int)stored.Manifest.TotalElements)];
            stored.ReadConcatenated(0, parent);
        }

        IReadOnlyList<float[]>? previousState = null;
        if (previous?.OptimizerStateHash is { } stateHash)
        {
            using var states = ModelStore.Open(Path.Combine(_options.DataPath, RoundDataLayout.OptimizerStateRoot));
            using var stored = states.OpenModel(stateHash.AsSpan());
            var d = settings.Model.NumElements;
            var all = new float[checked((int)stored.Manifest.TotalElements)];
            stored.ReadConcatenated(0, all);
            previousState = [.. Enumerable.Range(0, (int)(all.Length / d)).Select(i => all.AsSpan(checked((int)(i * d)), (int)d).ToArray())];
        }

        var submissions = new List<RoundSubmission>();
        var bindings = new Dictionary<string, AddressBindingRecord?>(StringComparer.Ordinal);
        foreach (var stored in _stores.Updates.ReadRound(task.TaskId, round))
        {
            var entry = stored.Entry;
            if (!Ed25519PublicKey.TryFromProtobuf(entry.SignerPublicKey.Span, out var signer, out var keyError))
            {
                throw new InvalidOperationException($"Update {Core.Codecs.Hex.Encode(entry.UpdateId.Span)} in the journal has an unreadable key: {keyError}");
            }

            var peerId = signer.PeerId.ToString();
            if (!bindings.TryGetValue(peerId, out var binding))
            {
                binding = (await _server.Grains.GetGrain<IParticipantGrain>(peerId).GetStatusAsync().ConfigureAwait(false)).Binding;
                if (binding is not null && (binding.ChainId != task.ChainId || !string.Equals(binding.Ledger, task.Ledger, StringComparison.OrdinalIgnoreCase)))
                {
                    binding = null;
                }

                bindings[peerId] = binding;
            }

            var receipt = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, entry.UpdateId.Span, entry.Sequence, (ulong)entry.ReceivedUnixMs, _server.IdentityKey);
            submissions.Add(new RoundSubmission
            {
                Preimage = entry.Preimage,
                Signature = entry.Signature,
                Signer = signer,
                Receipt = receipt.Encode(),
                Status = stored.IsCorrupt ? SubmitStatus.PayloadHashMismatch : SubmitStatus.Accepted,
                Reason = stored.IsCorrupt ? $"the stored payload is unusable: {stored.Problem}" : "",
                BoundAddress = binding is null ? default : Core.Codecs.Hex.TryDecode(binding.Address, 20),
                BindingSignature = binding is null ? default : Core.Codecs.Hex.TryDecode(binding.Signature, 64),
            });
        }

        var input = new RoundAssemblyInput
        {
            Settings = settings,
            Round = round,
            ChainId = task.ChainId,
            Ledger = Core.Codecs.Hex.TryDecode(task.Ledger, 20)!,
            ServerKey = _server.PublicKey,
            ParentModelHash = parentHash,
            ParentModel = parent,
            PreviousState = previousState,
            PreviousCredits = previous?.Credits ?? [],
            Submissions = submissions,
            OpenPayload = id => new FileStream(_stores.Updates.GetPayloadPath(task.TaskId, round, id.AsSpan()), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16),
        };
        var watch = Stopwatch.StartNew();
        var assembly = await Task.Run(() => RoundAssembler.Assemble(input, null, cancellationToken), cancellationToken).ConfigureAwait(false);
        _metrics.AggregationSeconds.Record(watch.Elapsed.TotalSeconds);
        var manifest = assembly.Manifest;
        Log.RoundAggregated(_logger, task.TaskId, round, manifest.AcceptedCount, settings.Rule.Name, watch.Elapsed.TotalSeconds, manifest.ModelHash);

        var modelManifest = new ModelManifest(settings.Model.Tensors.Select(static t => new ModelTensor(t.Name, t.Shape)));
        var modelHash = new Bytes32(await _stores.Models.PutAsync(modelManifest, assembly.Computation.Model, cancellationToken).ConfigureAwait(false));
        if (modelHash != manifest.ModelHash)
        {
            throw new InvalidOperationException($"The model store hashed round {round}'s model as {modelHash}, the manifest says {manifest.ModelHash}.");
        }

        var state = assembly.Computation.State;
        if (state.Count > 0)
        {
            var d = settings.Model.NumElements;
            var names = settings.ToOuterOptimizer().StateNames;
            using var states = ModelStore.Open(Path.Combine(_options.DataPath, RoundDataLayout.OptimizerStateRoot));
            var stored = new Bytes32(await states.PutAsync(
                new ModelManifest(names.Select(n => new ModelTensor(n, [d]))), state.SelectMany(static s => s).ToArray(), cancellationToken).ConfigureAwait(false));
            if (stored != manifest.OptimizerStateHash)
            {
                throw new InvalidOperationException($"The optimizer state of round {round} hashed as {stored}, the manifest says {manifest.OptimizerStateHash}.");
            }
        }

        return manifest;
    }

    private void Crash(string point)
    {
        if (_crashPoint == point)
        {
            Log.CrashPoint(_logger, point);

            // The logger writes on its own thread; a test reads this line, so it goes out before the kill.
            Console.Error.WriteLine($"Crash point {point} reached");
            Console.Error.Flush();
            Process.GetCurrentProcess().Kill();
        }
    }
}
