using FedAgg.Client;
using FedAgg.Core.Updates;
using FedAgg.Core.Merkle;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Storage.Models;

namespace FedAgg.Verification;

/// <summary>
/// A published round's artefacts fetched from a server over libp2p: the manifests on <c>/fedagg/round/1.0.0</c>, the
/// models on <c>/fedagg/model/1.0.0</c>, the payloads and optimizer state on <c>/fedagg/artifact/1.0.0</c>. Payloads go to
/// a private temporary directory (deleted on dispose), so memory stays O(one model). Nothing is trusted: the verifier
/// recomputes every hash from these bytes.
/// </summary>
public sealed class ServerRoundArtifacts : IRoundArtifacts, IDisposable
{
    private readonly FedAggClient _client;
    private readonly string _directory;
    private readonly Dictionary<Bytes32, string> _payloads = [];

    private ServerRoundArtifacts(FedAggClient client, string taskId, ulong round, RoundManifest manifest, RoundManifest? previous, string directory)
    {
        _client = client;
        TaskId = taskId;
        Round = round;
        Manifest = manifest;
        Previous = previous;
        _directory = directory;
    }

    /// <inheritdoc/>
    public string TaskId { get; }

    /// <inheritdoc/>
    public ulong Round { get; }

    private RoundManifest Manifest { get; }

    private RoundManifest? Previous { get; }

    /// <summary>Fetches the round's manifest, the previous one, and every update payload the manifest lists.</summary>
    /// <param name="client">A connection to the server (used, not owned).</param>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    /// <param name="cancellationToken">Cancels the downloads.</param>
    /// <returns>The artefacts.</returns>
    /// <exception cref="FileNotFoundException">The server has not published the round.</exception>
    /// <exception cref="FedAggProtocolException">The server answered badly.</exception>
    public static async Task<ServerRoundArtifacts> FetchAsync(FedAggClient client, string taskId, ulong round, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var download = await client.FetchRoundAsync(taskId, round, cancellationToken).ConfigureAwait(false);
        if (download.Response.Status != ServiceStatus.Ok)
        {
            throw new FileNotFoundException($"The server has no published round {round} of task '{taskId}': {download.Response.Status} {download.Response.Reason}");
        }

        RoundManifest? previous = null;
        if (round > 1)
        {
            var earlier = await client.FetchRoundAsync(taskId, round - 1, cancellationToken).ConfigureAwait(false);
            previous = earlier.Manifest;
        }

        var directory = Directory.CreateTempSubdirectory("fedagg-verify-").FullName;
        var artifacts = new ServerRoundArtifacts(client, taskId, round, download.Manifest!, previous, directory);
        try
        {
            var maxPayload = (long)download.Manifest!.Settings.Model.NumElements * download.Manifest.Settings.Codec.ElementSize();
            foreach (var update in download.Manifest.Updates)
            {
                var (response, bytes) = await client.FetchArtifactAsync(taskId, round, ArtifactKind.UpdatePayload, update.UpdateId.AsSpan().ToArray(), maxPayload, cancellationToken)
                    .ConfigureAwait(false);
                if (response.Status == ServiceStatus.Ok)
                {
                    var path = Path.Combine(directory, update.UpdateId.ToString()[2..] + ".bin");
                    await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
                    artifacts._payloads[update.UpdateId] = path;
                }
            }

            return artifacts;
        }
        catch
        {
            artifacts.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public Task<RoundManifest> ReadManifestAsync(CancellationToken cancellationToken) => Task.FromResult(Manifest);

    /// <inheritdoc/>
    public Task<RoundManifest?> ReadPreviousManifestAsync(CancellationToken cancellationToken) => Task.FromResult(Previous);

    /// <inheritdoc/>
    public Stream? OpenUpdatePayload(Bytes32 updateId) =>
        _payloads.TryGetValue(updateId, out var path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16) : null;

    /// <inheritdoc/>
    public async Task<TensorData?> ReadModelAsync(Bytes32 modelHash, CancellationToken cancellationToken)
    {
        var model = await _client.FetchModelAsync(TaskId, modelHash.AsSpan().ToArray(), cancellationToken).ConfigureAwait(false);
        if (model.Response.Status != ModelStatus.Ok)
        {
            return null;
        }

        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.FromJson(model.Response.ManifestJson);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or FormatException)
        {
            throw new FormatException($"The server's tensor manifest of model {modelHash} is not valid: {e.Message}", e);
        }

        return new TensorData([.. manifest.Tensors.Select(static t => new TensorSpec(t.Name, [.. t.Shape]))], model.ToFloats());
    }

    /// <inheritdoc/>
    public async Task<TensorData?> ReadOptimizerStateAsync(Bytes32 stateHash, CancellationToken cancellationToken)
    {
        // The state that matters is the previous round's (the verifier re-applies the optimizer from it) or this round's.
        var owner = Previous?.OptimizerStateHash == stateHash ? Round - 1 : Round;
        var maxBytes = 16L * Manifest.Settings.Model.NumElements * sizeof(float) + (1 << 20);
        var (response, bytes) = await _client.FetchArtifactAsync(TaskId, owner, ArtifactKind.OptimizerState, stateHash.AsSpan().ToArray(), maxBytes, cancellationToken)
            .ConfigureAwait(false);
        if (response.Status != ServiceStatus.Ok)
        {
            return null;
        }

        var path = Path.Combine(_directory, stateHash.ToString()[2..] + ".safetensors");
        await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        return DataDirectoryRoundArtifacts.ReadSafetensors(path);
    }

    /// <summary>Deletes the downloaded payloads.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: it is a temporary directory.
        }
    }
}
