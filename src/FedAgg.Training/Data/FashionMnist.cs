namespace FedAgg.Training.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28×28 grey-scale images of ten kinds of clothing, 60,000 for
/// training and 10,000 for testing, as shipped by Debian's <c>dataset-fashion-mnist</c> package.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The training images file name.</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";

    /// <summary>The training labels file name.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";

    /// <summary>The test images file name.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";

    /// <summary>The test labels file name.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>Image side in pixels.</summary>
    public const int ImageSide = 28;

    /// <summary>Features per sample (28·28).</summary>
    public const int FeatureCount = ImageSide * ImageSide;

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Training samples.</summary>
    public const int TrainCount = 60_000;

    /// <summary>Test samples.</summary>
    public const int TestCount = 10_000;

    /// <summary>What to do when the files are missing; part of every "not found" message.</summary>
    public const string InstallHint = "install with `apt-get install dataset-fashion-mnist` (or pass --data-dir)";

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads the training and test sets from <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory holding the four <c>.gz</c> files; defaults to <see cref="DefaultDirectory"/>.</param>
    /// <param name="cancellationToken">Cancels the file reads.</param>
    /// <returns>The two sets, pixels scaled to [0, 1].</returns>
    /// <exception cref="DatasetException">A file is missing (<see cref="DatasetException.IsMissing"/>, message says how to install it) or malformed.</exception>
    public static async Task<FashionMnistData> LoadAsync(string? directory = null, CancellationToken cancellationToken = default)
    {
        directory = CheckDirectory(directory);
        var train = await LoadSetAsync(
            Path.Combine(directory, TrainImagesFile), Path.Combine(directory, TrainLabelsFile), cancellationToken).ConfigureAwait(false);
        var test = await LoadSetAsync(
            Path.Combine(directory, TestImagesFile), Path.Combine(directory, TestLabelsFile), cancellationToken).ConfigureAwait(false);
        return Check(train, test, directory);
    }

    /// <summary>Loads the training and test sets from <paramref name="directory"/> synchronously.</summary>
    /// <param name="directory">The directory holding the four <c>.gz</c> files; defaults to <see cref="DefaultDirectory"/>.</param>
    /// <returns>The two sets, pixels scaled to [0, 1].</returns>
    /// <exception cref="DatasetException">A file is missing (<see cref="DatasetException.IsMissing"/>, message says how to install it) or malformed.</exception>
    public static FashionMnistData Load(string? directory = null)
    {
        directory = CheckDirectory(directory);
        var train = LoadSet(Path.Combine(directory, TrainImagesFile), Path.Combine(directory, TrainLabelsFile));
        var test = LoadSet(Path.Combine(directory, TestImagesFile), Path.Combine(directory, TestLabelsFile));
        return Check(train, test, directory);
    }

    /// <summary>Loads one pair of IDX files (images and labels, gzip-compressed or raw) of 28×28 images with labels 0 … 9.</summary>
    /// <param name="imagesPath">The image file.</param>
    /// <param name="labelsPath">The label file.</param>
    /// <param name="cancellationToken">Cancels the file reads.</param>
    /// <returns>The samples, pixels scaled to [0, 1] (<c>byte / 255f</c>).</returns>
    /// <exception cref="DatasetException">A file is missing or malformed, or the two files disagree.</exception>
    public static async Task<Dataset> LoadSetAsync(string imagesPath, string labelsPath, CancellationToken cancellationToken = default)
    {
        var images = await ReadFileAsync(imagesPath, cancellationToken).ConfigureAwait(false);
        var labels = await ReadFileAsync(labelsPath, cancellationToken).ConfigureAwait(false);
        return Build(imagesPath, images, labelsPath, labels);
    }

    /// <summary>Loads one pair of IDX files synchronously; see <see cref="LoadSetAsync"/>.</summary>
    /// <param name="imagesPath">The image file.</param>
    /// <param name="labelsPath">The label file.</param>
    /// <returns>The samples, pixels scaled to [0, 1].</returns>
    /// <exception cref="DatasetException">A file is missing or malformed, or the two files disagree.</exception>
    public static Dataset LoadSet(string imagesPath, string labelsPath)
    {
        var images = ReadFile(imagesPath);
        var labels = ReadFile(labelsPath);
        return Build(imagesPath, images, labelsPath, labels);
    }

    private static string CheckDirectory(string? directory)
    {
        directory ??= DefaultDirectory;
        return Directory.Exists(directory)
            ? directory
            : throw new DatasetException($"Fashion-MNIST directory not found: {directory}; {InstallHint}.") { IsMissing = true };
    }

    private static FashionMnistData Check(Dataset train, Dataset test, string directory)
    {
        if (train.Count != TrainCount || test.Count != TestCount)
        {
            throw new DatasetException(
                $"expected {TrainCount} training and {TestCount} test images, found {train.Count} and {test.Count}", directory, null);
        }

        return new FashionMnistData(train, test);
    }

    private static async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Missing(path, exception);
        }
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Missing(path, exception);
        }
    }

    private static DatasetException Missing(string path, Exception inner) =>
        new($"file not found; {InstallHint}", path, inner) { IsMissing = true };

    private static Dataset Build(string imagesPath, byte[] imageBytes, string labelsPath, byte[] labelBytes)
    {
        var images = IdxFile.ParseImages(imagesPath, imageBytes);
        var labels = IdxFile.ParseLabels(labelsPath, labelBytes);
        if (images.Rows != ImageSide || images.Columns != ImageSide)
        {
            throw new DatasetException($"images are {images.Rows}×{images.Columns}; Fashion-MNIST images are {ImageSide}×{ImageSide}", imagesPath, null);
        }

        if (labels.Length != images.Count)
        {
            throw new DatasetException($"{labels.Length} labels for {images.Count} images in {imagesPath}", labelsPath, null);
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= ClassCount)
            {
                throw new DatasetException($"label {labels[i]} at index {i} is not a class 0 … {ClassCount - 1}", labelsPath, null);
            }
        }

        var features = new float[images.Pixels.Length];
        var pixels = images.Pixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            features[i] = pixels[i] / 255f;
        }

        return new Dataset(features, labels, FeatureCount);
    }
}

/// <summary>The Fashion-MNIST training and test sets.</summary>
/// <param name="Train">60,000 training samples.</param>
/// <param name="Test">10,000 test samples.</param>
public sealed record FashionMnistData(Dataset Train, Dataset Test);
