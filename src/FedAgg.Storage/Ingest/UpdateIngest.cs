using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Storage.Ingest;

/// <summary>
/// The server side of <c>/fedagg/submit/1.0.0</c> after framing: checks a submission (docs/PROTOCOL.md, "Order of
/// checks"), streams its payload into the <see cref="UpdateStore"/> while hashing it, and answers with a receipt signed
/// by the server's key only once the update is durable. Safe for many concurrent submissions: the same update, two
/// updates of one peer in a round, or one payload from two peers can never both be stored.
/// </summary>
public sealed class UpdateIngest
{
    private readonly UpdateStore _store;
    private readonly ISubmissionTargets _targets;
    private readonly Ed25519PrivateKey _serverKey;
    private readonly UpdateVerifier _verifier;
    private readonly ISubmissionGate _gate;
    private readonly UpdateIngestOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _inFlightLock = new();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Creates the ingest pipeline.</summary>
    /// <param name="store">Where accepted updates go.</param>
    /// <param name="targets">The tasks' current expectations (open round, base model, shape).</param>
    /// <param name="serverKey">The server's identity key; it signs receipts.</param>
    /// <param name="timeProvider">The clock that decides expiry (read timeouts use real time).</param>
    /// <param name="gate">Admission and rate limits; <c>null</c> admits everyone.</param>
    /// <param name="options">Timeouts and buffer sizes; <c>null</c> for the defaults.</param>
    /// <param name="logger">Where rejections and acceptances are logged.</param>
    public UpdateIngest(
        UpdateStore store,
        ISubmissionTargets targets,
        Ed25519PrivateKey serverKey,
        TimeProvider? timeProvider = null,
        ISubmissionGate? gate = null,
        UpdateIngestOptions? options = null,
        ILogger<UpdateIngest>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(serverKey);
        _store = store;
        _targets = targets;
        _serverKey = serverKey;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _verifier = new UpdateVerifier(_timeProvider);
        _gate = gate ?? AdmitAllGate.Instance;
        _options = options ?? new UpdateIngestOptions();
        _options.Validate();
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// Handles one submission whose header frame has been read: decodes it, then as <see cref="SubmitAsync(SubmitRequest, PeerId, Stream, CancellationToken)"/>.
    /// </summary>
    public Task<SubmitReceipt> SubmitAsync(ReadOnlyMemory<byte> requestFrame, PeerId connectionPeer, Stream payload, CancellationToken cancellationToken = default)
    {
        if (!SubmitRequest.TryDecode(requestFrame.Span, out var request, out var error))
        {
            return Task.FromResult(Reject(connectionPeer, SubmitStatus.Malformed, error, default));
        }

        return SubmitAsync(request, connectionPeer, payload, cancellationToken);
    }

    /// <summary>
    /// Handles one submission: <paramref name="payload"/> is read only when every check on the header passed, and then
    /// exactly the preimage's payload length (never to the end of the stream). The returned receipt is what the server
    /// sends back; an accepted or duplicate receipt means the update is durable.
    /// </summary>
    public async Task<SubmitReceipt> SubmitAsync(SubmitRequest request, PeerId connectionPeer, Stream payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(connectionPeer);
        ArgumentNullException.ThrowIfNull(payload);

        if (!UpdateVerifier.TryDecode(request, connectionPeer, out var submission, out var decodeRejection))
        {
            return Reject(connectionPeer, decodeRejection.Status, decodeRejection.Reason, default);
        }

        var preimage = submission.Preimage;
        if (TryOriginalReceipt(submission) is { } original)
        {
            return original;
        }

        var check = _verifier.Check(submission, _targets.Find(preimage.TaskId));
        if (!check.IsPassed)
        {
            return Reject(connectionPeer, check.Status, check.Reason, submission.UpdateId);
        }

        var admission = await _gate.AdmitAsync(submission, cancellationToken).ConfigureAwait(false);
        if (!admission.IsPassed)
        {
            return Reject(connectionPeer, admission.Status, admission.Reason, submission.UpdateId);
        }

        var keys = ReservationKeys(submission);
        var conflict = Reserve(submission, keys);
        if (conflict is { } rejection)
        {
            return TryOriginalReceipt(submission) ?? Reject(connectionPeer, rejection.Status, rejection.Reason, submission.UpdateId);
        }

        try
        {
            return await ReceiveAsync(submission, connectionPeer, payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release(keys);
        }
    }

    private async Task<SubmitReceipt> ReceiveAsync(DecodedSubmission submission, PeerId peer, Stream payload, CancellationToken cancellationToken)
    {
        var preimage = submission.Preimage;
        var length = preimage.PayloadLength!.Value;
        PendingUpdate pending;
        try
        {
            pending = _store.BeginUpdate(preimage.TaskId, preimage.Round);
        }
        catch (StorageException e)
        {
            Log.IngestStorageFailed(_logger, submission.UpdateIdHex, e);
            return Reject(peer, SubmitStatus.Unavailable, "the server cannot store updates right now; try later", submission.UpdateId);
        }

        await using (pending.ConfigureAwait(false))
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(_options.ReadBufferBytes, Math.Max(length, 1)));
            try
            {
                long received = 0;
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                while (received < length)
                {
                    var want = (int)Math.Min(buffer.Length, length - received);
                    int read;
                    idle.CancelAfter(_options.PayloadIdleTimeout);
                    try
                    {
                        read = await payload.ReadAsync(buffer.AsMemory(0, want), idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        return Reject(peer, SubmitStatus.Malformed,
                            $"the payload stalled: no bytes for {_options.PayloadIdleTimeout.TotalSeconds:0.#} s after {received} of {length}", submission.UpdateId);
                    }

                    if (read == 0)
                    {
                        return Reject(peer, SubmitStatus.PayloadHashMismatch, $"the payload ended after {received} of {length} bytes", submission.UpdateId);
                    }

                    await pending.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                }
            }
            catch (StorageException e)
            {
                Log.IngestStorageFailed(_logger, submission.UpdateIdHex, e);
                return Reject(peer, SubmitStatus.Unavailable, "the server cannot store updates right now; try later", submission.UpdateId);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            var actual = pending.GetPayloadSha256();
            if (!actual.AsSpan().SequenceEqual(preimage.PayloadSha256.Span))
            {
                return Reject(peer, SubmitStatus.PayloadHashMismatch,
                    $"the payload hashes to {Hex.Encode(actual)}, the signed payloadSha256 is {Hex.Encode(preimage.PayloadSha256.Span)}", submission.UpdateId);
            }

            JournalEntry entry;
            try
            {
                var metadata = new UpdateMetadata(submission.UpdateId, preimage.PayloadSha256, submission.Request.PublicKey, submission.Request.Preimage, submission.Request.Signature);
                entry = await _store.CommitAsync(pending, metadata, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException e)
            {
                Log.IngestStorageFailed(_logger, submission.UpdateIdHex, e);
                return Reject(peer, SubmitStatus.Unavailable, "the server could not make the update durable; try again", submission.UpdateId);
            }
            catch (UpdateConflictException e)
            {
                // The store re-checks atomically; reaching this means another path (not this ingest) stored a conflicting update.
                return e switch
                {
                    { Conflict: UpdateConflict.DuplicateUpdateId, Existing: { } original } => SignedReceipt(SubmitStatus.Duplicate, original),
                    { Existing: null } => Reject(peer, SubmitStatus.Unavailable, "a conflicting update is being stored; try later", submission.UpdateId),
                    { Conflict: UpdateConflict.SignerAlreadySubmitted } => Reject(peer, SubmitStatus.AlreadySubmitted, e.Message, submission.UpdateId),
                    _ => Reject(peer, SubmitStatus.CopiedPayload, e.Message, submission.UpdateId),
                };
            }

            if (_logger.IsEnabled(LogLevel.Information))
            {
                Log.UpdateAccepted(_logger, submission.UpdateIdHex, peer, preimage.TaskId, preimage.Round, entry.Sequence, length);
            }

            return SignedReceipt(SubmitStatus.Accepted, entry);
        }
    }

    private SubmitReceipt? TryOriginalReceipt(DecodedSubmission submission)
    {
        if (_store.TryGetByUpdateId(submission.Preimage.TaskId, submission.UpdateId.Span, out var entry)
            && entry.Signature.Span.SequenceEqual(submission.Request.Signature.Span)
            && entry.SignerPublicKey.Span.SequenceEqual(submission.Request.PublicKey.Span))
        {
            return SignedReceipt(SubmitStatus.Duplicate, entry);
        }

        return null;
    }

    private SubmitReceipt SignedReceipt(SubmitStatus status, JournalEntry entry) =>
        SubmitReceipt.CreateSigned(status, entry.UpdateId.Span, entry.Sequence, (ulong)entry.ReceivedUnixMs, _serverKey,
            status == SubmitStatus.Duplicate ? "already stored; this is the original receipt" : "");

    private static string[] ReservationKeys(DecodedSubmission submission)
    {
        var p = submission.Preimage;
        return
        [
            $"id|{p.TaskId}|{submission.UpdateIdHex}",
            $"peer|{p.TaskId}|{p.Round}|{submission.Signer}",
            $"payload|{p.TaskId}|{Hex.Encode(p.PayloadSha256.Span)}",
        ];
    }

    private SubmissionCheck? Reserve(DecodedSubmission submission, string[] keys)
    {
        var p = submission.Preimage;
        lock (_inFlightLock)
        {
            // Checked under the lock so that a commit finishing concurrently is either seen here or still reserved.
            if (_store.TryGetBySigner(p.TaskId, p.Round, submission.Request.PublicKey.Span, out var standing))
            {
                return new(SubmitStatus.AlreadySubmitted,
                    $"{submission.Signer.PeerId} already has update {Hex.Encode(standing.UpdateId.Span)} in round {p.Round}; the first one stands");
            }

            if (_store.TryGetByPayloadHash(p.TaskId, p.PayloadSha256.Span, out var original))
            {
                var who = original.SignerPublicKey.Span.SequenceEqual(submission.Request.PublicKey.Span)
                    ? $"this participant's own update {Hex.Encode(original.UpdateId.Span)} of round {original.Round} (a replay)"
                    : $"update {Hex.Encode(original.UpdateId.Span)} of another participant in round {original.Round}";
                return new(SubmitStatus.CopiedPayload, $"the payload is byte for byte {who}");
            }

            foreach (var key in keys)
            {
                if (_inFlight.Contains(key))
                {
                    return new(SubmitStatus.Unavailable, key.StartsWith("id|", StringComparison.Ordinal)
                        ? "the same update is being received on another stream; retry to get its receipt"
                        : key.StartsWith("peer|", StringComparison.Ordinal)
                            ? "another update of this peer for this round is being received; the first to finish stands"
                            : "an update with the same payload is being received; try later");
                }
            }

            foreach (var key in keys)
            {
                _inFlight.Add(key);
            }
        }

        return null;
    }

    private void Release(string[] keys)
    {
        lock (_inFlightLock)
        {
            foreach (var key in keys)
            {
                _inFlight.Remove(key);
            }
        }
    }

    private SubmitReceipt Reject(PeerId peer, SubmitStatus status, string reason, ReadOnlyMemory<byte> updateId)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.UpdateRejected(_logger, updateId.IsEmpty ? "-" : Hex.Encode(updateId.Span), peer, (uint)status, status, reason);
        }

        return SubmitReceipt.Reject(status, reason, updateId);
    }
}
