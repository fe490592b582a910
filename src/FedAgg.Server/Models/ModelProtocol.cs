using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using FedAgg.Core.Codecs;
using FedAgg.Core.Protocol;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Server.Ingest;
using FedAgg.Storage;
using FedAgg.Storage.Models;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Models;

/// <summary>
/// The <c>/fedagg/model/1.0.0</c> handler: reads a <see cref="ModelRequest"/> (bounded, with a timeout), answers with a
/// <see cref="ModelResponse"/>, then streams the model's float32 little-endian payload from the model store and closes.
/// </summary>
internal sealed class ModelProtocol(
    TaskDirectory directory,
    IGrainFactory grains,
    ServerStores stores,
    FedAggServerOptions options,
    ServerMetrics metrics,
    ILogger logger)
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/fedagg/model/1.0.0";

    private const int ChunkElements = 64 * 1024;

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var peer = stream.RemotePeer;
        (FrameStatus Status, byte[] Frame, ulong Declared) frame;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.RequestTimeout);
            frame = await FrameReader.ReadAsync(stream.Input, ModelRequest.MaxEncodedLength, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.ModelStreamFailed(logger, peer, e is OperationCanceledException ? $"no request within {options.RequestTimeout.TotalSeconds:0.###} s" : e.Message);
            return;
        }

        if (frame.Status != FrameStatus.Done)
        {
            if (frame.Status != FrameStatus.Ended)
            {
                await RefuseAsync(stream, ModelStatus.Malformed, "", frame.Status == FrameStatus.TooLarge
                    ? $"the request is {frame.Declared} bytes, more than the limit of {ModelRequest.MaxEncodedLength}"
                    : "the request is not a valid frame", cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (!ModelRequest.TryDecode(frame.Frame, out var request, out var error))
        {
            await RefuseAsync(stream, ModelStatus.Malformed, "", error, cancellationToken).ConfigureAwait(false);
            return;
        }

        var task = await directory.EnsureLoadedAsync(grains, request.TaskId).ConfigureAwait(false);
        if (task is null)
        {
            await RefuseAsync(stream, ModelStatus.UnknownTask, request.TaskId, $"there is no task '{request.TaskId}'", cancellationToken).ConfigureAwait(false);
            return;
        }

        var wanted = request.ModelHash.IsEmpty ? task.CurrentModelHash : Hex.Encode(request.ModelHash.Span);
        var model = task.Models.FirstOrDefault(m => m.ModelHash == wanted);
        if (model is null)
        {
            await RefuseAsync(stream, ModelStatus.UnknownModel, task.TaskId, $"task '{task.TaskId}' has no model {wanted}", cancellationToken).ConfigureAwait(false);
            return;
        }

        StoredModel stored;
        try
        {
            stored = stores.Models.OpenModel(Hex.TryDecode(model.ModelHash, 32)!);
        }
        catch (Exception e) when (e is FileNotFoundException or StorageException or IOException)
        {
            Log.ModelStreamFailed(logger, peer, e.Message);
            await RefuseAsync(stream, ModelStatus.Unavailable, task.TaskId, "the model cannot be read right now; try later", cancellationToken).ConfigureAwait(false);
            return;
        }

        using (stored)
        {
            var round = directory.GetLatestRound(task.TaskId);
            var open = round is { Phase: RoundPhase.Open };
            var response = new ModelResponse
            {
                Status = ModelStatus.Ok,
                ModelHash = stored.ModelHash,
                Round = model.Round,
                OpenRound = open ? round!.Round : 0,
                OpenRoundDeadlineUnixMs = open ? (ulong)round!.DeadlineUnixMs : 0,
                Codec = task.Settings.Codec,
                NumElements = (ulong)stored.Manifest.TotalElements,
                ManifestJson = stored.Manifest.ToJson(),
                ChainId = task.ChainId,
                Ledger = Hex.TryDecode(task.Ledger, 20) ?? new byte[20],
            };
            long sent = 0;
            try
            {
                await WriteAsync(stream, response.Encode(), cancellationToken).ConfigureAwait(false);
                sent = await SendPayloadAsync(stream, stored, cancellationToken).ConfigureAwait(false);
                await stream.CompleteWritesAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is Libp2pException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                Log.ModelStreamFailed(logger, peer, e is OperationCanceledException ? "the peer stopped reading" : e.Message);
                stream.Reset();
                return;
            }

            metrics.ModelServed();
            Log.ModelServed(logger, peer, ModelStatus.Ok, task.TaskId, sent);
        }
    }

    private async Task<long> SendPayloadAsync(Libp2pStream stream, StoredModel model, CancellationToken cancellationToken)
    {
        var total = model.Manifest.TotalElements;
        var values = new float[(int)Math.Min(ChunkElements, Math.Max(total, 1))];
        long sent = 0;
        for (long start = 0; start < total; start += values.Length)
        {
            var count = (int)Math.Min(values.Length, total - start);
            var length = WriteChunk(stream.Output, model, start, values.AsSpan(0, count));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.RequestTimeout);
            var flush = await stream.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            sent += length;
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new Libp2pException($"The peer closed the model stream after {sent} bytes.");
            }
        }

        return sent;
    }

    private static int WriteChunk(PipeWriter output, StoredModel model, long start, Span<float> values)
    {
        model.ReadConcatenated(start, values);
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(values);
            BinaryPrimitives.ReverseEndianness(words, words);
        }

        var bytes = MemoryMarshal.AsBytes(values);
        output.Write(bytes);
        return bytes.Length;
    }

    private async Task RefuseAsync(Libp2pStream stream, ModelStatus status, string taskId, string reason, CancellationToken cancellationToken)
    {
        Log.ModelServed(logger, stream.RemotePeer, status, taskId, 0);
        try
        {
            await WriteAsync(stream, new ModelResponse { Status = status, Reason = reason }.Encode(), cancellationToken).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or IOException or OperationCanceledException)
        {
            Log.ModelStreamFailed(logger, stream.RemotePeer, e.Message);
        }
    }

    private async Task WriteAsync(Libp2pStream stream, byte[] message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        await stream.WriteMessageAsync(message, timeout.Token).ConfigureAwait(false);
    }
}
