using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;

namespace FedAgg.Server.Grains;

/// <summary>
/// One round of a task (key: <c>taskId/round</c>, see <see cref="RoundKey"/>): whether it is open, its deadline (a
/// durable reminder), and the metadata of its accepted updates — never their bytes. Enforces one update per peer and the
/// participant cap, and closes on the deadline, at the cap, or when asked.
/// </summary>
public interface IRoundGrain : IGrainWithStringKey
{
    /// <summary>Opens the round. Idempotent while the round is open with the same base model.</summary>
    /// <param name="opening">The base model, deadline and participant bounds.</param>
    /// <returns>The round's status.</returns>
    /// <exception cref="InvalidOperationException">The round was opened with another base model, or has closed.</exception>
    Task<RoundStatus> OpenAsync(RoundOpening opening);

    /// <summary>
    /// Admits one upload: the round must be open, the peer must have no accepted update in it and no other upload in
    /// flight, and there must be room under the cap counting uploads in flight. On success the slot is held (in memory)
    /// until <see cref="RecordAsync"/> or <see cref="ReleaseAsync"/>.
    /// </summary>
    /// <param name="peerId">The uploading peer.</param>
    /// <param name="updateId">The update's id (0x-hex).</param>
    /// <returns><see cref="SubmissionCheck.Passed"/>, or the status to answer with (3, 11 or 14).</returns>
    Task<SubmissionCheck> TryReserveAsync(string peerId, string updateId);

    /// <summary>Gives back a slot from <see cref="TryReserveAsync"/> whose upload did not end in a stored update.</summary>
    /// <param name="peerId">The peer.</param>
    /// <param name="updateId">The update's id (0x-hex).</param>
    /// <returns>A task that completes when the slot is free.</returns>
    Task ReleaseAsync(string peerId, string updateId);

    /// <summary>
    /// Records an update that is durable in the update store (so a receipt was or will be sent). Idempotent by update id.
    /// Always records, even after the round closed: the store is the source of truth for receipted updates.
    /// </summary>
    /// <param name="update">The update's metadata, from its journal entry.</param>
    /// <returns>True when it was new.</returns>
    Task<bool> RecordAsync(AcceptedUpdate update);

    /// <summary>Closes the round at the coordinator's request (uploads in flight still land). Idempotent.</summary>
    /// <param name="reason">Why; kept in the round's state.</param>
    /// <returns>The round's status.</returns>
    /// <exception cref="InvalidOperationException">The round was never opened.</exception>
    Task<RoundStatus> CloseAsync(string reason);

    /// <summary>The round's status.</summary>
    /// <returns>A snapshot.</returns>
    [ReadOnly]
    Task<RoundStatus> GetStatusAsync();
}

/// <summary>The key of a <see cref="IRoundGrain"/>: <c>taskId/round</c> (the round in decimal; a task id may itself contain '/').</summary>
public static class RoundKey
{
    /// <summary>The key of round <paramref name="round"/> of <paramref name="taskId"/>.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round, from 1.</param>
    /// <returns>The key.</returns>
    public static string Of(string taskId, ulong round) => $"{taskId}/{round.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Splits a key made by <see cref="Of"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    /// <returns>Whether the key is well formed.</returns>
    public static bool TryParse(string key, out string taskId, out ulong round)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.LastIndexOf('/');
        taskId = slash > 0 ? key[..slash] : "";
        round = 0;
        return slash > 0
            && ulong.TryParse(key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out round)
            && round >= 1;
    }
}
