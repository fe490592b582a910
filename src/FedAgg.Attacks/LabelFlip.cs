namespace FedAgg.Attacks;

/// <summary>
/// The label map of the <see cref="AttackKind.LabelFlip"/> attack on a 10-class task: <c>y → 9 − y</c>. The attack
/// lives in training: the node trains on the mapped labels and submits the resulting update as is, so the update
/// attack itself passes the (label-flipped-trained) update through unchanged.
/// </summary>
public static class LabelFlip
{
    /// <summary>Number of classes the map is defined for (10).</summary>
    public const int ClassCount = 10;

    /// <summary>The flipped label <c>9 − label</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="label"/> is 10 or more.</exception>
    public static byte Map(byte label)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, ClassCount);
        return (byte)(ClassCount - 1 - label);
    }

    /// <summary>Replaces every label in <paramref name="labels"/> by <see cref="Map(byte)"/> of it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is 10 or more (labels before it are already mapped).</exception>
    public static void MapInPlace(Span<byte> labels)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = Map(labels[i]);
        }
    }
}
