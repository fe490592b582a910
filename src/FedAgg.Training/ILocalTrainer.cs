using FedAgg.Training.Data;

namespace FedAgg.Training;

/// <summary>
/// A participant's local trainer: starts from the global model, trains for a number of minibatch steps on local data
/// and leaves the new local model (the node submits <c>local − base</c>). Implementations may wrap anything (the
/// built-in <see cref="MlpTrainer"/>, an external process, another framework) as long as the model is one flat float32
/// vector of <see cref="ParameterCount"/> elements.
/// </summary>
public interface ILocalTrainer
{
    /// <summary>The length of the flat model vector.</summary>
    int ParameterCount { get; }

    /// <summary>Trains from <paramref name="baseModel"/> for <see cref="LocalTrainingOptions.LocalSteps"/> minibatch steps and writes the new local model.</summary>
    /// <param name="baseModel">The global model the round starts from; not modified.</param>
    /// <param name="localModel">Receives the trained model; same length (may not overlap <paramref name="baseModel"/>).</param>
    /// <param name="options">The round's settings.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>What the round did.</returns>
    LocalTrainingResult Train(ReadOnlySpan<float> baseModel, Span<float> localModel, LocalTrainingOptions options, CancellationToken cancellationToken);

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="data"/> (accuracy and mean loss).</summary>
    /// <param name="model">The flat model.</param>
    /// <param name="data">The samples.</param>
    /// <returns>The result.</returns>
    EvaluationResult Evaluate(ReadOnlySpan<float> model, Dataset data);
}

/// <summary>What one local training round did.</summary>
/// <param name="Steps">Minibatch steps taken.</param>
/// <param name="SamplesSeen">Samples processed (steps × batch size).</param>
/// <param name="MeanLoss">The mean of the per-step minibatch losses (on the labels as trained, i.e. after any label map).</param>
/// <param name="Seconds">Wall-clock seconds spent.</param>
public readonly record struct LocalTrainingResult(int Steps, long SamplesSeen, double MeanLoss, double Seconds);

/// <summary>The inner optimizer of a local round.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with optional momentum and weight decay (<see cref="Optimizers.SgdOptimizer"/>).</summary>
    Sgd,

    /// <summary>AdamW (<see cref="Optimizers.AdamWOptimizer"/>).</summary>
    AdamW,
}
