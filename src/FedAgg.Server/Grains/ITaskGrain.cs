using FedAgg.Grains.Runtime;

namespace FedAgg.Server.Grains;

/// <summary>A federated-training task (key: the task id): its settings, its models and its round sequence.</summary>
public interface ITaskGrain : IGrainWithStringKey
{
    /// <summary>Creates the task. Idempotent: creating it again with the same settings, model and chain returns the existing task.</summary>
    /// <param name="creation">The settings, initial model and chain binding.</param>
    /// <returns>The task.</returns>
    /// <exception cref="ArgumentException">The settings are invalid or name another task id, or a hash is malformed.</exception>
    /// <exception cref="InvalidOperationException">The task exists with different settings, model or chain.</exception>
    Task<TaskInfo> CreateAsync(TaskCreation creation);

    /// <summary>The task, or null when it does not exist.</summary>
    /// <returns>The task or null.</returns>
    [ReadOnly]
    Task<TaskInfo?> GetInfoAsync();

    /// <summary>
    /// Opens the next round (the latest round + 1) from the current model, with the deadline and participant bounds of
    /// the settings. Returns the open round when it is still open (idempotent for retries).
    /// </summary>
    /// <returns>The open round's status.</returns>
    /// <exception cref="InvalidOperationException">The task does not exist, or the latest round is closing (wait for it to close).</exception>
    Task<RoundStatus> OpenNextRoundAsync();

    /// <summary>
    /// Records a new model of the task (e.g. what a round's aggregation produced) and makes it the current one, the base
    /// of the next round. Idempotent. The model must be in the model store.
    /// </summary>
    /// <param name="model">The model and the round that produced it.</param>
    /// <returns>The task.</returns>
    /// <exception cref="InvalidOperationException">The task does not exist, or the round is not newer than the current model's.</exception>
    Task<TaskInfo> RecordModelAsync(TaskModel model);
}
