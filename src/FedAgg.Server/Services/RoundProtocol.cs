using FedAgg.Core.Protocol;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Verification;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Services;

/// <summary><c>/fedagg/round/1.0.0</c>: serves a published round's manifest (docs/PROTOCOL.md).</summary>
internal sealed class RoundProtocol(IGrainFactory grains, FedAggServerOptions options, ILogger logger)
{
    public const string ProtocolId = "/fedagg/round/1.0.0";

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var (bytes, problem) = await RequestStream.ReadAsync(stream, RoundRequest.MaxEncodedLength, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            await RespondAsync(stream, new RoundResponse { Status = ServiceStatus.Malformed, Reason = problem! }, default, "", 0, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!RoundRequest.TryDecode(bytes.Value.Span, out var request, out var error))
        {
            await RespondAsync(stream, new RoundResponse { Status = ServiceStatus.Malformed, Reason = error }, default, "", 0, cancellationToken).ConfigureAwait(false);
            return;
        }

        var task = await grains.GetGrain<ITaskGrain>(request.TaskId).GetInfoAsync().ConfigureAwait(false);
        if (task is null)
        {
            await RespondAsync(stream, new RoundResponse { Status = ServiceStatus.UnknownTask, Reason = $"there is no task '{request.TaskId}'" },
                default, request.TaskId, request.Round, cancellationToken).ConfigureAwait(false);
            return;
        }

        var published = task.CurrentModelRound;
        var open = task.LatestRound > published ? task.LatestRound : 0;
        var round = request.Round == 0 ? published : request.Round;
        if (round == 0 || round > published)
        {
            var reason = round == 0 ? $"task '{task.TaskId}' has no published round yet" : $"round {round} of task '{task.TaskId}' is not published (latest published: {published})";
            await RespondAsync(stream, new RoundResponse { Status = ServiceStatus.UnknownRound, Reason = reason, LatestPublishedRound = published, OpenRound = open },
                default, task.TaskId, round, cancellationToken).ConfigureAwait(false);
            return;
        }

        byte[] manifest;
        try
        {
            manifest = await File.ReadAllBytesAsync(RoundDataLayout.ManifestPath(options.DataPath, task.TaskId, round), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            Log.RoundServed(logger, stream.RemotePeer, (uint)ServiceStatus.Unavailable, round, task.TaskId);
            await RespondAsync(stream, new RoundResponse { Status = ServiceStatus.Unavailable, Reason = $"the manifest cannot be read right now: {e.Message}" },
                default, task.TaskId, round, cancellationToken).ConfigureAwait(false);
            return;
        }

        var response = new RoundResponse
        {
            Status = ServiceStatus.Ok,
            Round = round,
            LatestPublishedRound = published,
            OpenRound = open,
            ManifestLength = (ulong)manifest.Length,
        };
        await RespondAsync(stream, response, manifest, task.TaskId, round, cancellationToken).ConfigureAwait(false);
    }

    private async Task RespondAsync(Libp2pStream stream, RoundResponse response, ReadOnlyMemory<byte> manifest, string taskId, ulong round, CancellationToken cancellationToken)
    {
        Log.RoundServed(logger, stream.RemotePeer, (uint)response.Status, round, taskId);
        await RequestStream.RespondAsync(stream, response.Encode(), manifest, cancellationToken).ConfigureAwait(false);
    }
}
