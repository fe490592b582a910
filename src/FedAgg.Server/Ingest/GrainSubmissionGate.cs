using System.Collections.Concurrent;
using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Storage.Ingest;

namespace FedAgg.Server.Ingest;

/// <summary>
/// Admission for <see cref="UpdateIngest"/> over the grains: the participant grain decides admission and the rate limit
/// (statuses 4, 10), then the round grain holds a slot for the upload (statuses 3, 11, 14). A held slot is remembered
/// here until the submit handler settles it with <see cref="SettleAsync"/>.
/// </summary>
internal sealed class GrainSubmissionGate(IGrainFactory grains, TaskDirectory directory, FedAggServerOptions options) : ISubmissionGate
{
    private readonly ConcurrentDictionary<(string UpdateId, string PeerId), string> _held = new();

    public async ValueTask<SubmissionCheck> AdmitAsync(DecodedSubmission submission, CancellationToken cancellationToken)
    {
        var preimage = submission.Preimage;
        if (directory.GetTask(preimage.TaskId) is not { } task)
        {
            return new(SubmitStatus.UnknownTask, $"there is no task '{preimage.TaskId}'");
        }

        var peer = submission.Signer.PeerId.ToString();
        var admission = await grains.GetGrain<IParticipantGrain>(peer).AdmitAsync(new AdmissionRequest(
            task.TaskId, task.Settings.Admission, task.ChainId, task.Ledger, options.MaxSubmissionsPerWindow, options.RateLimitWindow)).ConfigureAwait(false);
        if (!admission.IsPassed)
        {
            return admission;
        }

        var roundKey = RoundKey.Of(preimage.TaskId, preimage.Round);
        var updateId = submission.UpdateIdHex;
        var reservation = await grains.GetGrain<IRoundGrain>(roundKey).TryReserveAsync(peer, updateId).ConfigureAwait(false);
        if (reservation.IsPassed)
        {
            _held[(updateId, peer)] = roundKey;
        }

        return reservation;
    }

    /// <summary>
    /// Settles the slot (if any) of a finished submission: a stored update (accepted now or before) is recorded in its
    /// round; anything else gives the slot back.
    /// </summary>
    /// <param name="updateId">The update id (0x-hex).</param>
    /// <param name="peer">The submitting peer.</param>
    /// <param name="stored">The update's metadata when it is durable in the store; null otherwise.</param>
    /// <param name="storedRoundKey">The round the stored update belongs to.</param>
    /// <returns>A task that completes when the round grain knows.</returns>
    public async Task SettleAsync(string updateId, string peer, AcceptedUpdate? stored, string? storedRoundKey)
    {
        _held.TryRemove((updateId, peer), out var heldRound);
        if (stored is not null && storedRoundKey is not null)
        {
            await grains.GetGrain<IRoundGrain>(storedRoundKey).RecordAsync(stored).ConfigureAwait(false);
            if (heldRound is not null && heldRound != storedRoundKey)
            {
                await grains.GetGrain<IRoundGrain>(heldRound).ReleaseAsync(peer, updateId).ConfigureAwait(false);
            }
        }
        else if (heldRound is not null)
        {
            await grains.GetGrain<IRoundGrain>(heldRound).ReleaseAsync(peer, updateId).ConfigureAwait(false);
        }
    }
}
