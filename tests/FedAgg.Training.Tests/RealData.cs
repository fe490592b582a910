using FedAgg.Training.Data;

namespace FedAgg.Training.Tests;

/// <summary>The installed Fashion-MNIST files, loaded once for all tests that use them.</summary>
internal static class RealData
{
    private static readonly Lazy<FashionMnistData?> Data = new(() =>
        File.Exists(Path.Combine(FashionMnist.DefaultDirectory, FashionMnist.TrainImagesFile)) ? FashionMnist.Load() : null);

    /// <summary>The data, or null when the dataset-fashion-mnist package is not installed (the test then has nothing to check).</summary>
    public static FashionMnistData? TryLoad() => Data.Value;
}
