using FedAgg.Grains.Runtime;

namespace FedAgg.Server.Grains;

/// <summary>
/// The coordinator's grain (one activation, key <see cref="AdminGrain.Key"/>): the registry of tasks and of the
/// participants each task has seen, and every coordinator operation on rounds and participants. Creating a task stores
/// a model (bulk bytes), so the admin protocol does that through the server and then registers the task here.
/// </summary>
public interface IAdminGrain : IGrainWithStringKey
{
    /// <summary>Adds a task to the registry (idempotent).</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>A task that completes when the registry is durable.</returns>
    Task RegisterTaskAsync(string taskId);

    /// <summary>Every registered task id, in creation order.</summary>
    /// <returns>The ids.</returns>
    [ReadOnly]
    Task<IReadOnlyList<string>> ListTasksAsync();

    /// <summary>Records peers seen in a task (submitters of a published round, peers a coordinator allowed or banned).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="peerIds">The peers.</param>
    /// <returns>A task that completes when the registry is durable.</returns>
    Task NoteParticipantsAsync(string taskId, IReadOnlyList<string> peerIds);

    /// <summary>The peers seen in a task (sorted) with their status.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The participants.</returns>
    [ReadOnly]
    Task<IReadOnlyList<ParticipantStatus>> ListParticipantsAsync(string taskId);

    /// <summary>Opens the task's next round (see <see cref="ITaskGrain.OpenNextRoundAsync"/>).</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The open round.</returns>
    Task<RoundStatus> OpenRoundAsync(string taskId);

    /// <summary>Closes the task's open round now.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="reason">Why (recorded).</param>
    /// <returns>The round.</returns>
    /// <exception cref="InvalidOperationException">The task has no open round, or it has fewer updates than the task's minimum.</exception>
    Task<RoundStatus> CloseRoundAsync(string taskId, string reason);

    /// <summary>Puts a peer on the task's allowlist or takes it off.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="peerId">The peer.</param>
    /// <param name="allowed">On or off.</param>
    /// <returns>The participant.</returns>
    Task<ParticipantStatus> SetAllowedAsync(string taskId, string peerId, bool allowed);

    /// <summary>Bans a peer from a task (or every task when <paramref name="taskId"/> is null), or lifts the ban.</summary>
    /// <param name="taskId">The task, or null for every task.</param>
    /// <param name="peerId">The peer.</param>
    /// <param name="reason">Why; null lifts the ban.</param>
    /// <returns>The participant.</returns>
    Task<ParticipantStatus> SetBannedAsync(string? taskId, string peerId, string? reason);
}
