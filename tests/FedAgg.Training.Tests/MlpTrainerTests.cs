using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Core;
using FedAgg.Training.Data;
using FedAgg.Training.Models;

namespace FedAgg.Training.Tests;

public sealed class MlpTrainerTests
{
    private static readonly int[] Layers = [784, 64, 32, 10];

    [Fact]
    public void Train_SameSeedTwice_BitIdenticalModels()
    {
        var shard = SyntheticDigits(500, seed: 1);
        var options = new LocalTrainingOptions { LocalSteps = 30, BatchSize = 32, Seed = 99 };

        var first = TrainOnce(new MlpTrainer(Mlp.DefaultLayerSizes, shard), options);
        var second = TrainOnce(new MlpTrainer(Mlp.DefaultLayerSizes, shard), options);

        Assert.Equal(Sha256(first), Sha256(second));
    }

    [Fact]
    public void Train_SameSeedOnParallelThreads_SameBitsAsSequential()
    {
        var shard = SyntheticDigits(300, seed: 2);
        var options = new LocalTrainingOptions { LocalSteps = 10, BatchSize = 20, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05f, Seed = 5 };
        var sequential = Sha256(TrainOnce(new MlpTrainer(Layers, shard), options));

        var parallel = new string[4];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Sha256(TrainOnce(new MlpTrainer(Layers, shard), options)));

        Assert.All(parallel, hash => Assert.Equal(sequential, hash));
    }

    [Fact]
    public void Train_OtherSeed_DifferentMinibatchOrderDifferentModel()
    {
        var shard = SyntheticDigits(500, seed: 1);

        var a = TrainOnce(new MlpTrainer(Layers, shard), new LocalTrainingOptions { LocalSteps = 5, Seed = 1 });
        var b = TrainOnce(new MlpTrainer(Layers, shard), new LocalTrainingOptions { LocalSteps = 5, Seed = 2 });

        Assert.NotEqual(Sha256(a), Sha256(b));
    }

    [Fact]
    public void Train_Round_LeavesBaseAndReportsWork()
    {
        var shard = SyntheticDigits(100, seed: 3);
        var trainer = new MlpTrainer(Layers, shard);
        var baseModel = new float[trainer.ParameterCount];
        trainer.Model.Initialize(baseModel, 4);
        var baseCopy = (float[])baseModel.Clone();
        var local = new float[trainer.ParameterCount];

        var result = trainer.Train(baseModel, local, new LocalTrainingOptions { LocalSteps = 7, BatchSize = 16 }, CancellationToken.None);

        Assert.Equal(baseCopy, baseModel);
        Assert.NotEqual(baseModel, local);
        Assert.Equal(7, result.Steps);
        Assert.Equal(7 * 16, result.SamplesSeen);
        Assert.InRange(result.MeanLoss, 0.01, 5);
        Assert.True(result.Seconds >= 0);

        var update = new float[local.Length];
        UpdateMath.Subtract(local, baseModel, update);
        var restored = new float[local.Length];
        UpdateMath.Add(baseModel, update, restored);
        for (var i = 0; i < local.Length; i++)
        {
            Assert.Equal(local[i] - baseModel[i], update[i]);
        }

        // base + (local − base) is local up to the two roundings, each at most half an ulp of the larger operand.
        for (var i = 0; i < local.Length; i++)
        {
            var scale = Math.Max(Math.Abs(local[i]), Math.Abs(baseModel[i]));
            Assert.True(Math.Abs(restored[i] - local[i]) <= scale * 1.2e-7, $"element {i}: {restored[i]:R} vs {local[i]:R}");
        }
    }

    [Fact]
    public void Train_ResetOptimizerEachRound_ControlsWhetherStateCarriesOver()
    {
        var shard = SyntheticDigits(200, seed: 4);
        var baseModel = new float[Mlp.CountParameters(Layers)];
        new Mlp(Layers).Initialize(baseModel, 1);

        string TwoRounds(bool reset)
        {
            var trainer = new MlpTrainer(Layers, shard);
            var options = new LocalTrainingOptions { LocalSteps = 5, Seed = 3, ResetOptimizerEachRound = reset };
            var local = new float[baseModel.Length];
            trainer.Train(baseModel, local, options, CancellationToken.None);
            trainer.Train(baseModel, local, options, CancellationToken.None);
            return Sha256(local);
        }

        var fresh = Sha256(TrainOnce(new MlpTrainer(Layers, shard), new LocalTrainingOptions { LocalSteps = 5, Seed = 3 }, baseModel));
        Assert.Equal(fresh, TwoRounds(reset: true));
        Assert.NotEqual(fresh, TwoRounds(reset: false));
    }

    [Fact]
    public void Train_LabelFlipMap_LearnsTheFlippedLabels()
    {
        var shard = SyntheticDigits(400, seed: 5);
        var trainer = new MlpTrainer(Layers, shard);
        var options = new LocalTrainingOptions { LocalSteps = 150, BatchSize = 32, LearningRate = 3e-3f, LabelMap = y => (byte)(9 - y) };

        var model = TrainOnce(trainer, options);

        var flipped = new Dataset(shard.Features, shard.Labels.Select(y => (byte)(9 - y)).ToArray(), shard.FeatureCount);
        Assert.True(trainer.Evaluate(model, flipped).Accuracy > 0.95, "the model should predict 9 − y");
        Assert.True(trainer.Evaluate(model, shard).Accuracy < 0.05, "evaluation uses the true labels");
    }

    [Fact]
    public void Train_BatchLargerThanShard_WrapsAroundReshuffling()
    {
        var shard = SyntheticDigits(5, seed: 6);
        var trainer = new MlpTrainer(Layers, shard);

        var result = trainer.Train(new float[trainer.ParameterCount], new float[trainer.ParameterCount], new LocalTrainingOptions { LocalSteps = 3, BatchSize = 12 }, CancellationToken.None);

        Assert.Equal(36, result.SamplesSeen);
    }

    [Fact]
    public void Train_Cancelled_ThrowsOperationCanceled()
    {
        var trainer = new MlpTrainer(Layers, SyntheticDigits(50, seed: 7));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(() =>
            trainer.Train(new float[trainer.ParameterCount], new float[trainer.ParameterCount], new LocalTrainingOptions(), cancellation.Token));
    }

    [Fact]
    public void Train_InvalidOptions_ThrowNamingTheOption()
    {
        var trainer = new MlpTrainer(Layers, SyntheticDigits(50, seed: 7));
        var model = new float[trainer.ParameterCount];

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            trainer.Train(model, new float[model.Length], new LocalTrainingOptions { BatchSize = 0 }, CancellationToken.None));
        Assert.Contains("LocalTrainingOptions.BatchSize is 0; allowed 1 … 65536", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LocalTrainingOptions { LearningRate = float.NaN }.Validate());
        Assert.Throws<ArgumentException>(() => trainer.Train(model, model, new LocalTrainingOptions(), CancellationToken.None));
        Assert.Throws<InvalidOperationException>(() =>
            trainer.Train(model, new float[model.Length], new LocalTrainingOptions { LabelMap = _ => 10 }, CancellationToken.None));
    }

    [Fact]
    public void Constructor_ShardOfWrongWidth_Throws()
    {
        Assert.Throws<ArgumentException>(() => new MlpTrainer([10, 4, 3], SyntheticDigits(5, seed: 1)));
    }

    private static float[] TrainOnce(MlpTrainer trainer, LocalTrainingOptions options, float[]? baseModel = null)
    {
        if (baseModel is null)
        {
            baseModel = new float[trainer.ParameterCount];
            trainer.Model.Initialize(baseModel, 1234);
        }

        var local = new float[trainer.ParameterCount];
        trainer.Train(baseModel, local, options, CancellationToken.None);
        return local;
    }

    private static string Sha256(float[] values) => Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>784-pixel samples whose class is written as a bright 7×7 block at one of ten positions, plus noise.</summary>
    internal static Dataset SyntheticDigits(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        var features = new float[count * 784];
        var labels = new byte[count];
        for (var s = 0; s < count; s++)
        {
            var label = (byte)(random.NextUInt64() % 10);
            labels[s] = label;
            var row = features.AsSpan(s * 784, 784);
            for (var i = 0; i < 784; i++)
            {
                row[i] = (float)(random.NextDouble() * 0.3);
            }

            var top = (label / 5 * 14) + 3;
            var left = (label % 5 * 5) + 1;
            for (var y = 0; y < 7; y++)
            {
                for (var x = 0; x < 4; x++)
                {
                    row[((top + y) * 28) + left + x] = 1f;
                }
            }
        }

        return new Dataset(features, labels, 784);
    }
}
