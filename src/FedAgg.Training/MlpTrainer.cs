using FedAgg.Core;
using FedAgg.Training.Data;
using FedAgg.Training.Models;
using FedAgg.Training.Optimizers;

namespace FedAgg.Training;

/// <summary>
/// The built-in trainer: an <see cref="Mlp"/> trained with minibatch SGD or AdamW on one participant's shard.
/// Deterministic: the same base model, shard and options give the same local model, bit for bit, on a machine.
/// </summary>
/// <remarks>
/// A round copies the base model, then takes <see cref="LocalTrainingOptions.LocalSteps"/> steps. Minibatches come
/// from a <see cref="SplitMix64"/> Fisher–Yates shuffle of the shard seeded with <see cref="LocalTrainingOptions.Seed"/>
/// (the permutation restarts from the identity every round, so a round depends only on its seed); when the shuffle is
/// used up the shard is reshuffled and the batch continues from the new order, so any batch size works with any shard.
/// Not safe for concurrent use; one instance per participant.
/// </remarks>
public sealed class MlpTrainer : ILocalTrainer
{
    private readonly Mlp _model;
    private readonly Dataset _shard;
    private readonly TimeProvider _timeProvider;
    private readonly int[] _order;
    private readonly float[] _gradient;
    private float[] _batchFeatures = [];
    private byte[] _batchLabels = [];
    private IOptimizer? _optimizer;
    private OptimizerSettings _optimizerSettings;

    /// <summary>Creates a trainer for one shard.</summary>
    /// <param name="layerSizes">The MLP's layer sizes (see <see cref="Mlp.DefaultLayerSizes"/>); the first must equal the shard's feature count.</param>
    /// <param name="shard">The participant's training samples; at least one.</param>
    /// <param name="timeProvider">Times the rounds; defaults to <see cref="TimeProvider.System"/>.</param>
    public MlpTrainer(IReadOnlyList<int> layerSizes, Dataset shard, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(shard);
        _model = new Mlp(layerSizes);
        if (shard.FeatureCount != _model.InputSize)
        {
            throw new ArgumentException($"The shard has {shard.FeatureCount} features per sample; the first layer takes {_model.InputSize}.", nameof(shard));
        }

        if (shard.Count == 0)
        {
            throw new ArgumentException("The shard is empty.", nameof(shard));
        }

        _shard = shard;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _order = new int[shard.Count];
        _gradient = new float[_model.ParameterCount];
    }

    /// <inheritdoc/>
    public int ParameterCount => _model.ParameterCount;

    /// <summary>The network (layout, initialisation, forward and gradient).</summary>
    public Mlp Model => _model;

    /// <inheritdoc/>
    public LocalTrainingResult Train(ReadOnlySpan<float> baseModel, Span<float> localModel, LocalTrainingOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (baseModel.Length != ParameterCount || localModel.Length != ParameterCount)
        {
            throw new ArgumentException($"Models must have {ParameterCount} parameters; got {baseModel.Length} and {localModel.Length}.");
        }

        if (baseModel.Overlaps(localModel))
        {
            throw new ArgumentException("The local model may not overlap the base model.", nameof(localModel));
        }

        var started = _timeProvider.GetTimestamp();
        baseModel.CopyTo(localModel);
        var optimizer = PrepareOptimizer(options);
        var batch = options.BatchSize;
        EnsureBatch(batch);
        var features = _shard.FeatureCount;
        var classes = _model.OutputSize;
        var random = new SplitMix64(options.Seed);
        for (var i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        Partitioner.Shuffle(_order, ref random);
        var position = 0;
        var totalLoss = 0.0;
        for (var step = 0; step < options.LocalSteps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var s = 0; s < batch; s++)
            {
                if (position == _order.Length)
                {
                    Partitioner.Shuffle(_order, ref random);
                    position = 0;
                }

                var index = _order[position++];
                _shard.Features.AsSpan(index * features, features).CopyTo(_batchFeatures.AsSpan(s * features));
                var label = _shard.Labels[index];
                if (options.LabelMap is { } map)
                {
                    label = map(label);
                    if (label >= classes)
                    {
                        throw new InvalidOperationException($"The label map turned a label into {label}, which is not one of the {classes} classes.");
                    }
                }

                _batchLabels[s] = label;
            }

            totalLoss += _model.ComputeGradient(localModel, _batchFeatures.AsSpan(0, batch * features), _batchLabels.AsSpan(0, batch), _gradient);
            optimizer.Step(localModel, _gradient);
        }

        return new LocalTrainingResult(
            options.LocalSteps, (long)options.LocalSteps * batch, totalLoss / options.LocalSteps, _timeProvider.GetElapsedTime(started).TotalSeconds);
    }

    /// <inheritdoc/>
    public EvaluationResult Evaluate(ReadOnlySpan<float> model, Dataset data) => _model.Evaluate(model, data);

    private IOptimizer PrepareOptimizer(LocalTrainingOptions options)
    {
        var settings = new OptimizerSettings(
            options.Optimizer, options.LearningRate, options.WeightDecay, options.Momentum, options.Beta1, options.Beta2, options.Epsilon);
        if (_optimizer is null || settings != _optimizerSettings)
        {
            _optimizer = settings.Kind == OptimizerKind.Sgd
                ? new SgdOptimizer(ParameterCount, settings.LearningRate, settings.Momentum, settings.WeightDecay)
                : new AdamWOptimizer(ParameterCount, settings.LearningRate, settings.Beta1, settings.Beta2, settings.Epsilon, settings.WeightDecay);
            _optimizerSettings = settings;
        }
        else if (options.ResetOptimizerEachRound)
        {
            _optimizer.Reset();
        }

        return _optimizer;
    }

    private void EnsureBatch(int batch)
    {
        if (_batchLabels.Length < batch)
        {
            _batchFeatures = new float[batch * _shard.FeatureCount];
            _batchLabels = new byte[batch];
        }
    }

    private readonly record struct OptimizerSettings(
        OptimizerKind Kind, float LearningRate, float WeightDecay, float Momentum, float Beta1, float Beta2, float Epsilon);
}
