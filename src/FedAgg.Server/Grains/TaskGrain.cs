using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Rounds;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Grains;

/// <summary>The task grain (see <see cref="ITaskGrain"/>); its state is stored as <c>task</c> in storage <c>Default</c>.</summary>
[GrainType("task")]
public sealed class TaskGrain(
    [PersistentState("task")] IPersistentState<TaskState> state,
    TaskDirectory directory,
    TimeProvider timeProvider,
    ILogger<TaskGrain> logger) : Grain, ITaskGrain
{
    private TaskSettings? _settings;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.SettingsJson is not { } json)
        {
            return;
        }

        _settings = TaskSettings.FromJson(Encoding.UTF8.GetBytes(json));
        directory.Publish(ToInfo());
        if (state.State.LatestRound > 0)
        {
            // Activating the round publishes its phase; the directory then knows the task's open round.
            directory.Publish(await Round(state.State.LatestRound).GetStatusAsync());
        }
    }

    /// <inheritdoc />
    public async Task<TaskInfo> CreateAsync(TaskCreation creation)
    {
        ArgumentNullException.ThrowIfNull(creation);
        var taskId = this.GetPrimaryKeyString();
        var settings = creation.Settings ?? throw new ArgumentException("The task's settings are missing.", nameof(creation));
        if (settings.TaskId != taskId)
        {
            throw new ArgumentException($"The settings are for task '{settings.TaskId}', not '{taskId}'.", nameof(creation));
        }

        settings.Validate();
        var modelHash = NormalizeHash(creation.InitialModelHash, 32, "initial model hash");
        var ledger = NormalizeHash(creation.Ledger, 20, "ledger address");
        var settingsHash = settings.ComputeHash().ToString();
        if (_settings is not null)
        {
            if (state.State.SettingsHash != settingsHash || state.State.InitialModelHash != modelHash
                || state.State.ChainId != creation.ChainId || state.State.Ledger != ledger)
            {
                throw new InvalidOperationException(
                    $"Task '{taskId}' already exists with settings {state.State.SettingsHash}, initial model {state.State.InitialModelHash}, chain {state.State.ChainId} ledger {state.State.Ledger}.");
            }

            return ToInfo();
        }

        state.State = new TaskState
        {
            SettingsJson = Encoding.UTF8.GetString(settings.ToJsonUtf8()),
            SettingsHash = settingsHash,
            ChainId = creation.ChainId,
            Ledger = ledger,
            InitialModelHash = modelHash,
            CurrentModelHash = modelHash,
            CurrentModelRound = 0,
            LatestRound = 0,
            CreatedUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            Models = [new TaskModel(modelHash, 0)],
        };
        await state.WriteStateAsync();
        _settings = settings;
        var info = ToInfo();
        directory.Publish(info);
        Log.TaskCreated(logger, taskId, settingsHash, modelHash, settings.Admission);
        return info;
    }

    /// <inheritdoc />
    public Task<TaskInfo?> GetInfoAsync()
    {
        if (_settings is null)
        {
            // An unknown task id (any peer can name one): do not keep an empty activation around.
            DeactivateOnIdle();
            return Task.FromResult<TaskInfo?>(null);
        }

        return Task.FromResult<TaskInfo?>(ToInfo());
    }

    /// <inheritdoc />
    public async Task<RoundStatus> OpenNextRoundAsync()
    {
        var settings = _settings ?? throw new InvalidOperationException($"Task '{this.GetPrimaryKeyString()}' does not exist.");
        var round = state.State.LatestRound;
        if (round > 0)
        {
            var latest = await Round(round).GetStatusAsync();
            switch (latest.Phase)
            {
                case RoundPhase.Open:
                    directory.Publish(latest);
                    return latest;
                case RoundPhase.Closing:
                    throw new InvalidOperationException($"Round {round} of task '{latest.TaskId}' is closing; open the next round once it has closed.");
                case RoundPhase.Closed when state.State.CurrentModelRound < round:
                    // Its model is the next round's base: opening from the older model would fork the task.
                    throw new InvalidOperationException($"Round {round} of task '{latest.TaskId}' is closed but not published yet; the next round opens from its model once it is.");
                case RoundPhase.Closed:
                    round++;
                    break;
                default:
                    // Opened in the task's state but the round's own state never became durable: open it now.
                    break;
            }
        }
        else
        {
            round = 1;
        }

        var deadline = timeProvider.GetUtcNow().AddSeconds(settings.RoundDurationSeconds).ToUnixTimeMilliseconds();
        var status = await Round(round).OpenAsync(new RoundOpening(state.State.CurrentModelHash, deadline, settings.MinParticipants, settings.MaxParticipants));
        if (state.State.LatestRound != round)
        {
            state.State.LatestRound = round;
            await state.WriteStateAsync();
        }

        directory.Publish(ToInfo());
        directory.Publish(status);
        return status;
    }

    /// <inheritdoc />
    public async Task<TaskInfo> RecordModelAsync(TaskModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_settings is null)
        {
            throw new InvalidOperationException($"Task '{this.GetPrimaryKeyString()}' does not exist.");
        }

        var hash = NormalizeHash(model.ModelHash, 32, "model hash");
        if (state.State.CurrentModelHash == hash && state.State.CurrentModelRound == model.Round)
        {
            return ToInfo();
        }

        if (model.Round <= state.State.CurrentModelRound)
        {
            throw new InvalidOperationException(
                $"The current model of task '{this.GetPrimaryKeyString()}' is from round {state.State.CurrentModelRound}; round {model.Round} is not newer.");
        }

        state.State.CurrentModelHash = hash;
        state.State.CurrentModelRound = model.Round;
        state.State.Models.Add(new TaskModel(hash, model.Round));
        await state.WriteStateAsync();
        var info = ToInfo();
        directory.Publish(info);
        Log.ModelRecorded(logger, info.TaskId, hash, model.Round);
        return info;
    }

    private IRoundGrain Round(ulong round) => GrainFactory.GetGrain<IRoundGrain>(RoundKey.Of(this.GetPrimaryKeyString(), round));

    private TaskInfo ToInfo()
    {
        var s = state.State;
        return new TaskInfo(this.GetPrimaryKeyString(), _settings!, s.SettingsHash, s.ChainId, s.Ledger, s.InitialModelHash, s.CurrentModelHash,
            s.CurrentModelRound, s.LatestRound, s.CreatedUnixMs, [.. s.Models]);
    }

    private static string NormalizeHash(string? text, int length, string what) =>
        Hex.TryDecode(text ?? "", length) is { } bytes
            ? Hex.Encode(bytes)
            : throw new ArgumentException($"The {what} must be 0x followed by {length * 2} hex digits; it is '{text}'.");
}
