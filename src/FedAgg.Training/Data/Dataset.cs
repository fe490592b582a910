namespace FedAgg.Training.Data;

/// <summary>
/// Labelled samples in memory: features row-major <c>[Count, FeatureCount]</c> as float32 and one class label per
/// sample. The arrays are shared, not copied; treat them as read-only.
/// </summary>
public sealed class Dataset
{
    /// <summary>Wraps existing arrays.</summary>
    /// <param name="features">Row-major <c>[labels.Length, featureCount]</c>.</param>
    /// <param name="labels">One label per sample.</param>
    /// <param name="featureCount">Features per sample, at least 1.</param>
    /// <exception cref="ArgumentException">The lengths do not agree.</exception>
    public Dataset(float[] features, byte[] labels, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        if ((long)labels.Length * featureCount != features.Length)
        {
            throw new ArgumentException(
                $"{labels.Length} samples of {featureCount} features need {(long)labels.Length * featureCount} values; got {features.Length}.", nameof(features));
        }

        Features = features;
        Labels = labels;
        FeatureCount = featureCount;
    }

    /// <summary>The features, row-major <c>[Count, FeatureCount]</c>.</summary>
    public float[] Features { get; }

    /// <summary>The labels.</summary>
    public byte[] Labels { get; }

    /// <summary>The number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Features per sample.</summary>
    public int FeatureCount { get; }

    /// <summary>The features of one sample.</summary>
    /// <param name="index">0 … <see cref="Count"/> − 1.</param>
    public ReadOnlySpan<float> Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Features.AsSpan(index * FeatureCount, FeatureCount);
    }

    /// <summary>A copy of the samples <c>start … start + count − 1</c>.</summary>
    /// <param name="start">The first sample.</param>
    /// <param name="count">How many.</param>
    public Dataset Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - start);
        return new Dataset(
            Features.AsSpan(start * FeatureCount, count * FeatureCount).ToArray(), Labels.AsSpan(start, count).ToArray(), FeatureCount);
    }

    /// <summary>A copy of the samples at <paramref name="indices"/>, in that order (repeats allowed).</summary>
    /// <param name="indices">Sample indices, each in 0 … <see cref="Count"/> − 1.</param>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var features = new float[(long)indices.Length * FeatureCount];
        var labels = new byte[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} at position {i} is outside 0 … {Count - 1}.");
            }

            Features.AsSpan(index * FeatureCount, FeatureCount).CopyTo(features.AsSpan(i * FeatureCount));
            labels[i] = Labels[index];
        }

        return new Dataset(features, labels, FeatureCount);
    }

    /// <summary>How many samples carry each label <c>0 … classCount − 1</c>; labels at or above <paramref name="classCount"/> are not counted.</summary>
    /// <param name="classCount">The number of classes.</param>
    public int[] ClassHistogram(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classCount);
        var histogram = new int[classCount];
        foreach (var label in Labels)
        {
            if (label < classCount)
            {
                histogram[label]++;
            }
        }

        return histogram;
    }
}
