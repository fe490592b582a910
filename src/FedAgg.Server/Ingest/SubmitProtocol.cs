using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Storage.Ingest;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Ingest;

/// <summary>
/// The <c>/fedagg/submit/1.0.0</c> handler: reads the request frame (bounded, with a timeout), hands it and the stream's
/// payload bytes to <see cref="UpdateIngest"/>, records a stored update in its round grain, then writes the receipt and
/// closes. Every failure ends only this stream.
/// </summary>
internal sealed class SubmitProtocol(
    UpdateIngest ingest,
    GrainSubmissionGate gate,
    TaskDirectory directory,
    IGrainFactory grains,
    ServerStores stores,
    FedAggServerOptions options,
    ServerMetrics metrics,
    ILogger logger)
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/fedagg/submit/1.0.0";

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var peer = stream.RemotePeer;
        (FrameStatus Status, byte[] Frame, ulong Declared) header;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(options.RequestTimeout);
            try
            {
                header = await FrameReader.ReadAsync(stream.Input, SubmitRequest.MaxEncodedLength, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await AnswerAsync(stream, Reject(SubmitStatus.Malformed, $"no request within {options.RequestTimeout.TotalSeconds:0.###} s"), "-", cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Libp2pException e)
            {
                Log.SubmitStreamFailed(logger, peer, e.Message);
                return;
            }
        }

        switch (header.Status)
        {
            case FrameStatus.Ended:
                Log.SubmitNoRequest(logger, peer, "the stream ended");
                return;
            case FrameStatus.Truncated:
                await AnswerAsync(stream, Reject(SubmitStatus.Malformed, "the stream ended inside the request"), "-", cancellationToken).ConfigureAwait(false);
                return;
            case FrameStatus.Invalid:
                await AnswerAsync(stream, Reject(SubmitStatus.Malformed, "the request's length prefix is not a valid unsigned varint"), "-", cancellationToken).ConfigureAwait(false);
                return;
            case FrameStatus.TooLarge:
                await AnswerAsync(stream, Reject(SubmitStatus.TooLarge,
                    $"the request header is {header.Declared} bytes, more than the limit of {SubmitRequest.MaxEncodedLength}"), "-", cancellationToken).ConfigureAwait(false);
                return;
            default:
                break;
        }

        // The directory answers ingest synchronously: make sure the named task has published first.
        string? taskId = null;
        var updateIdHex = "-";
        if (SubmitRequest.TryDecode(header.Frame, out var request, out _) && UpdatePreimage.TryParse(request.Preimage.Span, out var preimage, out _))
        {
            taskId = preimage.TaskId;
            updateIdHex = Hex.Encode(UpdatePreimage.ComputeUpdateId(request.Preimage.Span));
            await directory.EnsureLoadedAsync(grains, taskId).ConfigureAwait(false);
        }

        SubmitReceipt receipt;
        var payload = stream.Input.AsStream(leaveOpen: true);
        await using (payload.ConfigureAwait(false))
        {
            try
            {
                receipt = await ingest.SubmitAsync(header.Frame, peer, payload, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Libp2pException or IOException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                await SettleAsync(updateIdHex, peer, null, null).ConfigureAwait(false);
                Log.SubmitStreamFailed(logger, peer, e.Message);
                return;
            }
            catch (Exception e)
            {
                Log.SubmitFailed(logger, updateIdHex, peer, e);
                await SettleAsync(updateIdHex, peer, null, null).ConfigureAwait(false);
                await AnswerAsync(stream, Reject(SubmitStatus.Unavailable, "the server failed to take the update; try later", receiptUpdateId: null), updateIdHex, cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        long payloadBytes = 0;
        if (receipt.IsStored && taskId is not null && stores.Updates.TryGetByUpdateId(taskId, receipt.UpdateId.Span, out var entry))
        {
            payloadBytes = entry.PayloadLength;
            await SettleAsync(updateIdHex, peer, RoundGrain.FromJournal(entry), RoundKey.Of(entry.TaskId, entry.Round)).ConfigureAwait(false);
        }
        else
        {
            await SettleAsync(updateIdHex, peer, null, null).ConfigureAwait(false);
        }

        await AnswerAsync(stream, receipt, updateIdHex, cancellationToken, payloadBytes).ConfigureAwait(false);
    }

    private async Task SettleAsync(string updateIdHex, PeerId peer, AcceptedUpdate? stored, string? roundKey)
    {
        if (updateIdHex == "-")
        {
            return;
        }

        try
        {
            await gate.SettleAsync(updateIdHex, peer.ToString(), stored, roundKey).ConfigureAwait(false);
        }
        catch (Exception e) when (stored is not null && roundKey is not null && RoundKey.TryParse(roundKey, out var taskId, out var round))
        {
            // The update is durable: the receipt still goes out, and the round grain picks the update up from the
            // store's journal when it next activates (at the latest at the next start).
            Log.RecordFailed(logger, updateIdHex, taskId, round, e);
        }
        catch (Exception e)
        {
            Log.SubmitFailed(logger, updateIdHex, peer, e);
        }
    }

    private async Task AnswerAsync(Libp2pStream stream, SubmitReceipt receipt, string updateIdHex, CancellationToken cancellationToken, long payloadBytes = 0)
    {
        metrics.Submission(receipt.Status, payloadBytes);

        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.SubmitAnswered(logger, stream.RemotePeer, (uint)receipt.Status, receipt.Status, receipt.UpdateId.IsEmpty ? updateIdHex : Hex.Encode(receipt.UpdateId.Span));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        try
        {
            await stream.WriteMessageAsync(receipt.Encode(), timeout.Token).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or OperationCanceledException or IOException)
        {
            Log.ReceiptNotSent(logger, stream.RemotePeer, e.Message);
        }
    }

    private static SubmitReceipt Reject(SubmitStatus status, string reason, ReadOnlyMemory<byte>? receiptUpdateId = null) =>
        SubmitReceipt.Reject(status, reason, receiptUpdateId ?? default);
}
