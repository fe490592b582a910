using System.Buffers;

namespace FedAgg.Aggregation;

/// <summary>A subset of another source's updates, in the given order (used to drop excluded inputs).</summary>
internal sealed class SubsetSource(UpdateSource inner, int[] indices) : UpdateSource
{
    public override int Count => indices.Length;

    public override long Length => inner.Length;

    public override string NameOf(int index) => inner.NameOf(indices[index]);

    public override void ReadRow(int index, long start, Span<float> destination) => inner.ReadRow(indices[index], start, destination);

    internal override nint TryGetRowPointer(int index, long start) => inner.TryGetRowPointer(indices[index], start);
}

/// <summary>Checks every row it reads for NaN/±Inf on behalf of the engine when pre-aggregation steps sit between the raw inputs and the rule.</summary>
internal sealed unsafe class CheckingSource(UpdateSource inner, FiniteTracker tracker) : UpdateSource
{
    public override int Count => inner.Count;

    public override long Length => inner.Length;

    public override string NameOf(int index) => inner.NameOf(index);

    public override void ReadRow(int index, long start, Span<float> destination)
    {
        inner.ReadRow(index, start, destination);
        fixed (float* values = destination)
        {
            tracker.Check(index, start, values, destination.Length);
        }
    }
}

/// <summary>clip-norm: rows whose norm exceeds C are scaled by C/‖x‖ (docs/AGGREGATION.md).</summary>
internal sealed class ClippedSource(UpdateSource inner, double[] scales) : UpdateSource
{
    public override int Count => inner.Count;

    public override long Length => inner.Length;

    public override string NameOf(int index) => inner.NameOf(index);

    public override void ReadRow(int index, long start, Span<float> destination)
    {
        inner.ReadRow(index, start, destination);
        var scale = scales[index];
        if (scale != 1.0)
        {
            for (var c = 0; c < destination.Length; c++)
            {
                destination[c] = (float)(destination[c] * scale);
            }
        }
    }

    internal override nint TryGetRowPointer(int index, long start) =>
        scales[index] == 1.0 ? inner.TryGetRowPointer(index, start) : 0;
}

/// <summary>
/// Rows that are each the mean of a group of the inner rows (bucketing's buckets, nearest-neighbour mixing's
/// neighbourhoods): <c>f32(dsum over the group in its order / size)</c>.
/// </summary>
internal sealed class GroupMeanSource(UpdateSource inner, int[][] groups) : UpdateSource
{
    public override int Count => groups.Length;

    public override long Length => inner.Length;

    public override void ReadRow(int index, long start, Span<float> destination)
    {
        var group = groups[index];
        var length = destination.Length;
        var sums = ArrayPool<double>.Shared.Rent(length);
        var row = ArrayPool<float>.Shared.Rent(length);
        try
        {
            Array.Clear(sums, 0, length);
            foreach (var member in group)
            {
                inner.ReadRow(member, start, row.AsSpan(0, length));
                for (var c = 0; c < length; c++)
                {
                    sums[c] += row[c];
                }
            }

            double size = group.Length;
            for (var c = 0; c < length; c++)
            {
                destination[c] = (float)(sums[c] / size);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(sums);
            ArrayPool<float>.Shared.Return(row);
        }
    }
}
