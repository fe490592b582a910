using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;

namespace FedAgg.Server.Grains;

/// <summary>The persistent state of the <see cref="AdminGrain"/> (JSON, camelCase).</summary>
public sealed class AdminState
{
    /// <summary>Registered task ids, in creation order.</summary>
    public List<string> Tasks { get; set; } = [];

    /// <summary>Task id → peers seen (sorted, ordinal).</summary>
    public Dictionary<string, List<string>> Participants { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The admin grain (see <see cref="IAdminGrain"/>); state <c>admin</c> in storage <c>Default</c>.</summary>
[GrainType("admin")]
public sealed class AdminGrain([PersistentState("admin")] IPersistentState<AdminState> state) : Grain, IAdminGrain
{
    /// <summary>The one key this grain is used with.</summary>
    public const string Key = "admin";

    /// <inheritdoc />
    public async Task RegisterTaskAsync(string taskId)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        if (!state.State.Tasks.Contains(taskId))
        {
            state.State.Tasks.Add(taskId);
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListTasksAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Tasks]);

    /// <inheritdoc />
    public async Task NoteParticipantsAsync(string taskId, IReadOnlyList<string> peerIds)
    {
        ArgumentNullException.ThrowIfNull(peerIds);
        if (Note(taskId, peerIds))
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ParticipantStatus>> ListParticipantsAsync(string taskId)
    {
        var peers = state.State.Participants.TryGetValue(taskId, out var list) ? list.ToArray() : [];
        var statuses = new List<ParticipantStatus>(peers.Length);
        foreach (var peer in peers)
        {
            statuses.Add(await GrainFactory.GetGrain<IParticipantGrain>(peer).GetStatusAsync());
        }

        return statuses;
    }

    /// <inheritdoc />
    public async Task<RoundStatus> OpenRoundAsync(string taskId)
    {
        await RequireTaskAsync(taskId);
        return await GrainFactory.GetGrain<ITaskGrain>(taskId).OpenNextRoundAsync();
    }

    /// <inheritdoc />
    public async Task<RoundStatus> CloseRoundAsync(string taskId, string reason)
    {
        var task = await RequireTaskAsync(taskId);
        if (task.LatestRound == 0)
        {
            throw new InvalidOperationException($"Task '{taskId}' has no round yet; open one first.");
        }

        var round = GrainFactory.GetGrain<IRoundGrain>(RoundKey.Of(taskId, task.LatestRound));
        var status = await round.GetStatusAsync();
        if (status.Phase != RoundPhase.Open)
        {
            throw new InvalidOperationException($"Round {status.Round} of task '{taskId}' is {status.Phase.ToString().ToLowerInvariant()}, not open.");
        }

        if (status.Updates.Count < status.MinParticipants)
        {
            throw new InvalidOperationException(
                $"Round {status.Round} of task '{taskId}' has {status.Updates.Count} accepted updates, fewer than the task's minimum of {status.MinParticipants}; wait for more.");
        }

        return await round.CloseAsync(reason);
    }

    /// <inheritdoc />
    public async Task<ParticipantStatus> SetAllowedAsync(string taskId, string peerId, bool allowed)
    {
        await RequireTaskAsync(taskId);
        var participant = GrainFactory.GetGrain<IParticipantGrain>(RequirePeer(peerId));
        await participant.SetAllowedAsync(taskId, allowed);
        await NoteParticipantsAsync(taskId, [peerId]);
        return await participant.GetStatusAsync();
    }

    /// <inheritdoc />
    public async Task<ParticipantStatus> SetBannedAsync(string? taskId, string peerId, string? reason)
    {
        if (taskId is not null)
        {
            await RequireTaskAsync(taskId);
        }

        var participant = GrainFactory.GetGrain<IParticipantGrain>(RequirePeer(peerId));
        if (reason is null)
        {
            await participant.UnbanAsync(taskId);
        }
        else
        {
            await participant.BanAsync(taskId, reason);
        }

        var changed = false;
        foreach (var task in taskId is null ? state.State.Tasks : [taskId])
        {
            changed |= Note(task, [peerId]);
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }

        return await participant.GetStatusAsync();
    }

    private static string RequirePeer(string peerId) =>
        Core.Identity.PeerId.TryParse(peerId, out var parsed)
            ? parsed.ToString()
            : throw new ArgumentException($"'{peerId}' is not a peer id (12D3KooW…).", nameof(peerId));

    private async Task<TaskInfo> RequireTaskAsync(string taskId) =>
        await GrainFactory.GetGrain<ITaskGrain>(taskId).GetInfoAsync() ?? throw new KeyNotFoundException($"There is no task '{taskId}'.");

    private bool Note(string taskId, IReadOnlyList<string> peerIds)
    {
        if (!state.State.Participants.TryGetValue(taskId, out var list))
        {
            state.State.Participants[taskId] = list = [];
        }

        var changed = false;
        foreach (var peer in peerIds)
        {
            var index = list.BinarySearch(peer, StringComparer.Ordinal);
            if (index < 0)
            {
                list.Insert(~index, peer);
                changed = true;
            }
        }

        return changed;
    }
}
