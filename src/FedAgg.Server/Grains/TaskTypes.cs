using FedAgg.Core.Rounds;

namespace FedAgg.Server.Grains;

/// <summary>What <see cref="ITaskGrain.CreateAsync"/> needs to create a task.</summary>
/// <param name="Settings">The task's settings (validated by the grain); <see cref="TaskSettings.TaskId"/> must be the grain's key.</param>
/// <param name="InitialModelHash">The initial model's hash (0x-hex, 32 bytes); the model must already be in the model store.</param>
/// <param name="ChainId">The chain the task's rounds are anchored on (0 without a chain).</param>
/// <param name="Ledger">The ledger address (0x-hex, 20 bytes; zeros without a chain).</param>
public sealed record TaskCreation(TaskSettings Settings, string InitialModelHash, ulong ChainId, string Ledger);

/// <summary>A task as its grain holds it.</summary>
/// <param name="TaskId">The task's id.</param>
/// <param name="Settings">The settings.</param>
/// <param name="SettingsHash">SHA-256 of the settings' canonical JSON (0x-hex), what the ledger registers.</param>
/// <param name="ChainId">The chain id updates must name.</param>
/// <param name="Ledger">The ledger address updates must name (0x-hex).</param>
/// <param name="InitialModelHash">The model round 1 starts from (0x-hex).</param>
/// <param name="CurrentModelHash">The latest model (0x-hex): the base of the next round.</param>
/// <param name="CurrentModelRound">The round that produced <paramref name="CurrentModelHash"/> (0 = the initial model).</param>
/// <param name="LatestRound">The last round opened (0 before the first).</param>
/// <param name="CreatedUnixMs">When the task was created.</param>
/// <param name="Models">Every model of the task, oldest first (the protocol serves any of them by hash).</param>
public sealed record TaskInfo(
    string TaskId,
    TaskSettings Settings,
    string SettingsHash,
    ulong ChainId,
    string Ledger,
    string InitialModelHash,
    string CurrentModelHash,
    ulong CurrentModelRound,
    ulong LatestRound,
    long CreatedUnixMs,
    IReadOnlyList<TaskModel> Models);

/// <summary>A model of a task.</summary>
/// <param name="ModelHash">The model hash (0x-hex).</param>
/// <param name="Round">The round that produced it (0 = the initial model).</param>
public sealed record TaskModel(string ModelHash, ulong Round);

/// <summary>The persistent state of a <see cref="TaskGrain"/> (JSON, camelCase).</summary>
public sealed class TaskState
{
    /// <summary>The settings' JSON (<see cref="TaskSettings.ToJsonUtf8"/>); null before the task is created.</summary>
    public string? SettingsJson { get; set; }

    /// <summary>See <see cref="TaskInfo.SettingsHash"/>.</summary>
    public string SettingsHash { get; set; } = "";

    /// <summary>See <see cref="TaskInfo.ChainId"/>.</summary>
    public ulong ChainId { get; set; }

    /// <summary>See <see cref="TaskInfo.Ledger"/>.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>See <see cref="TaskInfo.InitialModelHash"/>.</summary>
    public string InitialModelHash { get; set; } = "";

    /// <summary>See <see cref="TaskInfo.CurrentModelHash"/>.</summary>
    public string CurrentModelHash { get; set; } = "";

    /// <summary>See <see cref="TaskInfo.CurrentModelRound"/>.</summary>
    public ulong CurrentModelRound { get; set; }

    /// <summary>See <see cref="TaskInfo.LatestRound"/>.</summary>
    public ulong LatestRound { get; set; }

    /// <summary>See <see cref="TaskInfo.CreatedUnixMs"/>.</summary>
    public long CreatedUnixMs { get; set; }

    /// <summary>See <see cref="TaskInfo.Models"/>.</summary>
    public List<TaskModel> Models { get; set; } = [];
}
