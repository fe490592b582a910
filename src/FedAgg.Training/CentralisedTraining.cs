using FedAgg.Training.Data;
using FedAgg.Training.Models;

namespace FedAgg.Training;

/// <summary>
/// Trains one model on a whole data set, the non-federated baseline the federated runs are compared with.
/// </summary>
public static class CentralisedTraining
{
    /// <summary>
    /// Initialises an MLP with <paramref name="initSeed"/> and trains it for <paramref name="epochs"/> epochs with an
    /// <see cref="MlpTrainer"/>, evaluating on <paramref name="test"/> after each. An epoch is one round of
    /// ⌈train.Count / BatchSize⌉ steps seeded with <c>options.Seed XOR epoch</c>; the optimizer state carries over
    /// between epochs (<see cref="LocalTrainingOptions.LocalSteps"/> and <see cref="LocalTrainingOptions.ResetOptimizerEachRound"/> are ignored).
    /// </summary>
    /// <param name="layerSizes">The MLP's layer sizes.</param>
    /// <param name="train">The training samples.</param>
    /// <param name="test">The evaluation samples.</param>
    /// <param name="options">Batch size, optimizer and seed.</param>
    /// <param name="epochs">1 … 1,000.</param>
    /// <param name="initSeed">Seeds <see cref="Mlp.Initialize"/>.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The final parameters and a line per epoch.</returns>
    public static CentralisedTrainingResult Run(
        IReadOnlyList<int> layerSizes, Dataset train, Dataset test, LocalTrainingOptions options, int epochs, ulong initSeed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epochs, 1_000);
        var trainer = new MlpTrainer(layerSizes, train);
        var current = new float[trainer.ParameterCount];
        var next = new float[trainer.ParameterCount];
        trainer.Model.Initialize(current, initSeed);
        var stepsPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var results = new List<EpochResult>(epochs);
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            var epochOptions = new LocalTrainingOptions
            {
                LocalSteps = stepsPerEpoch,
                BatchSize = options.BatchSize,
                Optimizer = options.Optimizer,
                LearningRate = options.LearningRate,
                WeightDecay = options.WeightDecay,
                Momentum = options.Momentum,
                Beta1 = options.Beta1,
                Beta2 = options.Beta2,
                Epsilon = options.Epsilon,
                Seed = options.Seed ^ (ulong)epoch,
                LabelMap = options.LabelMap,
                ResetOptimizerEachRound = false,
            };
            var round = trainer.Train(current, next, epochOptions, cancellationToken);
            (current, next) = (next, current);
            results.Add(new EpochResult(epoch, round.Steps, round.MeanLoss, trainer.Evaluate(current, test), round.Seconds));
        }

        return new CentralisedTrainingResult(current, results);
    }
}

/// <summary>The outcome of <see cref="CentralisedTraining.Run"/>.</summary>
/// <param name="Parameters">The trained flat parameters.</param>
/// <param name="Epochs">One line per epoch.</param>
public sealed record CentralisedTrainingResult(float[] Parameters, IReadOnlyList<EpochResult> Epochs);

/// <summary>One epoch of a centralised run.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Steps">Minibatch steps taken.</param>
/// <param name="TrainLoss">The mean minibatch loss during the epoch.</param>
/// <param name="Test">The evaluation after the epoch.</param>
/// <param name="Seconds">Training seconds (evaluation excluded).</param>
public readonly record struct EpochResult(int Epoch, int Steps, double TrainLoss, EvaluationResult Test, double Seconds);
