using FedAgg.Training.Models;
using Xunit.Abstractions;

namespace FedAgg.Training.Tests;

public sealed class CentralisedTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_DefaultMlpOneEpochOnHalfTheTrainingSet_ReachesStatedAccuracyOnHeldOutTestSlice()
    {
        var data = RealData.TryLoad();
        if (data is null)
        {
            return; // dataset-fashion-mnist is not installed here.
        }

        // 30,000 training images, one epoch of AdamW (lr 1e-3, batch 64) from a fixed initialisation; evaluated on
        // the last 5,000 test images, which training never sees. Measured here: 0.836 (loss 0.456) in about 2 s; the
        // thresholds leave margin.
        var train = data.Train.Slice(0, 30_000);
        var heldOut = data.Test.Slice(5_000, 5_000);

        var result = CentralisedTraining.Run(
            Mlp.DefaultLayerSizes, train, heldOut, new LocalTrainingOptions { BatchSize = 64, LearningRate = 1e-3f, Seed = 1 }, epochs: 1, initSeed: 1);

        var epoch = Assert.Single(result.Epochs);
        output.WriteLine($"held-out accuracy {epoch.Test.Accuracy:F4}, loss {epoch.Test.MeanLoss:F4}, {epoch.Seconds:F1} s");
        Assert.Equal(469, epoch.Steps);
        Assert.True(epoch.Test.Accuracy >= 0.80, $"held-out accuracy {epoch.Test.Accuracy:F4} should be at least 0.80");
        Assert.True(epoch.Test.MeanLoss < 0.6, $"held-out loss {epoch.Test.MeanLoss:F4} should be below 0.6");
    }
}
