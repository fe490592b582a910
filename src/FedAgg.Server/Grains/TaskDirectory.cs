using System.Collections.Concurrent;
using FedAgg.Core.Codecs;
using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;

namespace FedAgg.Server.Grains;

/// <summary>
/// The tasks' current submission targets, answered synchronously for <see cref="Storage.Ingest.UpdateIngest"/>. Task and
/// round grains publish their state here whenever it changes (and when they activate), so the directory never holds
/// anything the grains have not decided; <see cref="EnsureLoadedAsync"/> activates a task that has not published yet.
/// </summary>
public sealed class TaskDirectory : ISubmissionTargets
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _maxPayloadBytes;

    /// <summary>Creates an empty directory.</summary>
    /// <param name="maxPayloadBytes">The largest payload taken for any task (status 8 above it).</param>
    public TaskDirectory(long maxPayloadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 1);
        _maxPayloadBytes = maxPayloadBytes;
    }

    /// <summary>Publishes a task's state (from its grain).</summary>
    /// <param name="task">The task.</param>
    public void Publish(TaskInfo task)
    {
        ArgumentNullException.ThrowIfNull(task);
        _entries.AddOrUpdate(task.TaskId, static (_, t) => new Entry(t.Task, null, t.Self.Build(t.Task, null)),
            static (_, old, t) => new Entry(t.Task, old.Round, t.Self.Build(t.Task, old.Round)), (Task: task, Self: this));
    }

    /// <summary>Publishes a round's state (from its grain); an older round than the one known is ignored.</summary>
    /// <param name="round">The round.</param>
    public void Publish(RoundStatus round)
    {
        ArgumentNullException.ThrowIfNull(round);
        _entries.AddOrUpdate(round.TaskId, static (_, t) => new Entry(null, t.Round, null),
            static (_, old, t) => old.Round is { } known && known.Round > t.Round.Round
                ? old
                : new Entry(old.Task, t.Round, old.Task is null ? null : t.Self.Build(old.Task, t.Round)),
            (Round: round, Self: this));
    }

    /// <summary>The task as last published, or null.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The task or null.</returns>
    public TaskInfo? GetTask(string taskId) => _entries.TryGetValue(taskId, out var entry) ? entry.Task : null;

    /// <summary>The latest round as last published, or null.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The round or null.</returns>
    public RoundStatus? GetLatestRound(string taskId) => _entries.TryGetValue(taskId, out var entry) ? entry.Round : null;

    /// <inheritdoc />
    public SubmissionTarget? Find(string taskId) => _entries.TryGetValue(taskId, out var entry) ? entry.Target : null;

    /// <summary>
    /// Makes sure the task has published (activating its grain if needed); returns it, or null when the task does not
    /// exist.
    /// </summary>
    /// <param name="grains">The grain factory.</param>
    /// <param name="taskId">The task.</param>
    /// <returns>The task or null.</returns>
    public async Task<TaskInfo?> EnsureLoadedAsync(IGrainFactory grains, string taskId)
    {
        ArgumentNullException.ThrowIfNull(grains);
        if (GetTask(taskId) is { } known)
        {
            return known;
        }

        var info = await grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false);
        if (info is not null && GetLatestRound(taskId) is null && info.LatestRound > 0)
        {
            Publish(await grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, info.LatestRound)).GetStatusAsync().ConfigureAwait(false));
        }

        return info;
    }

    private SubmissionTarget Build(TaskInfo task, RoundStatus? round) => new()
    {
        TaskId = task.TaskId,
        ChainId = task.ChainId,
        Ledger = Hex.TryDecode(task.Ledger, 20) ?? new byte[20],
        Codec = task.Settings.Codec,
        NumElements = (ulong)task.Settings.Model.NumElements,
        OpenRound = round is { Phase: RoundPhase.Open } ? round.Round : null,
        OpenRoundBaseModelHash = round is { Phase: RoundPhase.Open } ? Hex.TryDecode(round.BaseModelHash, 32) ?? [] : ReadOnlyMemory<byte>.Empty,
        MaxPayloadBytes = _maxPayloadBytes,
    };

    private sealed record Entry(TaskInfo? Task, RoundStatus? Round, SubmissionTarget? Target);
}
