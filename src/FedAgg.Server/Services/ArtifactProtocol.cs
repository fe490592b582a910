using FedAgg.Core.Merkle;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Verification;

namespace FedAgg.Server.Services;

/// <summary>
/// <c>/fedagg/artifact/1.0.0</c>: the update payloads and optimizer state of a published round, so that anyone can
/// verify it over the network (<c>fedagg verify --server</c>). Nothing of a round is served before it is published: an
/// open round's payloads would let a participant copy another's update.
/// </summary>
internal sealed class ArtifactProtocol(IGrainFactory grains, ServerStores stores, FedAggServerOptions options)
{
    public const string ProtocolId = "/fedagg/artifact/1.0.0";

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var (bytes, problem) = await RequestStream.ReadAsync(stream, ArtifactRequest.MaxEncodedLength, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (bytes is null || !ArtifactRequest.TryDecode(bytes.Value.Span, out var request, out problem))
        {
            await RespondAsync(stream, new ArtifactResponse(ServiceStatus.Malformed, problem!, 0), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var task = await grains.GetGrain<ITaskGrain>(request.TaskId).GetInfoAsync().ConfigureAwait(false);
        if (task is null)
        {
            await RespondAsync(stream, new ArtifactResponse(ServiceStatus.UnknownTask, $"there is no task '{request.TaskId}'", 0), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (request.Round == 0 || request.Round > task.CurrentModelRound)
        {
            await RespondAsync(stream, new ArtifactResponse(ServiceStatus.UnknownRound, $"round {request.Round} of task '{task.TaskId}' is not published", 0), null, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var manifest = await RoundManifestJson.ReadFileAsync(RoundDataLayout.ManifestPath(options.DataPath, task.TaskId, request.Round), cancellationToken).ConfigureAwait(false);
        var id = new Bytes32(request.Id.Span);
        string? path = request.Kind switch
        {
            ArtifactKind.UpdatePayload when manifest.Updates.Any(u => u.UpdateId == id) => stores.Updates.GetPayloadPath(task.TaskId, request.Round, id.AsSpan()),
            ArtifactKind.OptimizerState when manifest.OptimizerStateHash == id => RoundDataLayout.OptimizerStatePath(options.DataPath, id),
            _ => null,
        };
        FileStream? file = null;
        try
        {
            file = path is null ? null : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (IOException)
        {
            file = null;
        }

        await using (file)
        {
            var response = file is null
                ? new ArtifactResponse(ServiceStatus.NotFound, $"round {request.Round} has no {request.Kind} {id} stored here", 0)
                : new ArtifactResponse(ServiceStatus.Ok, "", (ulong)file.Length);
            await RespondAsync(stream, response, file, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RespondAsync(Libp2pStream stream, ArtifactResponse response, FileStream? body, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteMessageAsync(response.Encode(), cancellationToken).ConfigureAwait(false);
            if (body is not null)
            {
                await body.CopyToAsync(stream.Output.AsStream(leaveOpen: true), cancellationToken).ConfigureAwait(false);
            }

            await stream.CompleteWritesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or IOException or InvalidOperationException)
        {
            // The peer went away.
        }
    }
}
