using FedAgg.Training;
using FedAgg.Training.Data;

namespace FedAgg.Node.Tests;

public sealed class TrainingTests
{
    [Fact]
    public void Train_MlpTrainer_ReturnsLocalMinusBaseBitExactly()
    {
        var random = new Random(5);
        var features = new float[40 * 6];
        var labels = new byte[40];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = (byte)(i % 3);
            for (var j = 0; j < 6; j++)
            {
                features[(i * 6) + j] = (float)random.NextDouble() + (j == labels[i] ? 1f : 0f);
            }
        }

        var shard = new Dataset(features, labels, 6);
        int[] layers = [6, 5, 3];
        var trainer = new MlpTrainer(layers, shard);
        var baseModel = new float[trainer.ParameterCount];
        trainer.Model.Initialize(baseModel, 11);
        var options = new LocalTrainingOptions { LocalSteps = 7, BatchSize = 8, Seed = 3 };

        var trained = ParticipantNode.Train(trainer, baseModel, options);

        var local = new float[trainer.ParameterCount];
        new MlpTrainer(layers, shard).Train(baseModel, local, options, CancellationToken.None);
        Assert.Equal(7, trained.Training.Steps);
        Assert.Equal(56, trained.Training.SamplesSeen);
        for (var i = 0; i < local.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(local[i] - baseModel[i]), BitConverter.SingleToInt32Bits(trained.Update[i]));
        }

        Assert.Contains(trained.Update, static v => v != 0);
    }
}
