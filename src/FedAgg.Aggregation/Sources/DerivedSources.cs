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

    internal override bool PrefersBatchReads => inner.PrefersBatchReads;

    internal override void ReadRows(ReadOnlySpan<int> rows, long start, int length, Span<float> destination)
    {
        var mapped = new int[rows.Length];
        for (var k = 0; k < rows.Length; k++)
        {
            mapped[k] = indices[rows[k]];
        }

        inner.ReadRows(mapped, start, length, destination);
    }
}

/// <summary>
/// Checks the rows it reads for NaN/±Inf during the first pass, on behalf of the engine, when pre-aggregation steps sit
/// between the raw inputs and the rule; after that pass it is a plain pass-through.
/// </summary>
internal sealed unsafe class CheckingSource(UpdateSource inner, FiniteTracker tracker) : UpdateSource
{
    public override int Count => inner.Count;

    public override long Length => inner.Length;

    public override string NameOf(int index) => inner.NameOf(index);

    public override void ReadRow(int index, long start, Span<float> destination)
    {
        inner.ReadRow(index, start, destination);
        if (!tracker.IsActive)
        {
            return;
        }

        fixed (float* values = destination)
        {
            tracker.Check(index, start, values, destination.Length);
        }
    }

    // While checking, rows go through ReadRow so that each one is scanned; afterwards they are read in place again.
    internal override nint TryGetRowPointer(int index, long start) => tracker.IsActive ? 0 : inner.TryGetRowPointer(index, start);
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
/// neighbourhoods): <c>f32(dsum over the group in its order / size)</c>. Batch reads fetch every inner row a block
/// needs once, however many groups share it.
/// </summary>
internal sealed class GroupMeanSource(UpdateSource inner, int[][] groups) : UpdateSource
{
    public override int Count => groups.Length;

    public override long Length => inner.Length;

    internal override bool PrefersBatchReads => true;

    public override void ReadRow(int index, long start, Span<float> destination) =>
        ReadRows([index], start, destination.Length, destination);

    internal override void ReadRows(ReadOnlySpan<int> indices, long start, int length, Span<float> destination)
    {
        // Slot of each inner row in the batch, in first-use order.
        var slotOf = new Dictionary<int, int>();
        var needed = new List<int>();
        foreach (var index in indices)
        {
            foreach (var member in groups[index])
            {
                if (slotOf.TryAdd(member, needed.Count))
                {
                    needed.Add(member);
                }
            }
        }

        var innerRows = ArrayPool<float>.Shared.Rent(needed.Count * length);
        var sums = ArrayPool<double>.Shared.Rent(length);
        try
        {
            inner.ReadRows(needed.ToArray(), start, length, innerRows.AsSpan(0, needed.Count * length));
            for (var k = 0; k < indices.Length; k++)
            {
                var group = groups[indices[k]];
                Array.Clear(sums, 0, length);
                foreach (var member in group)
                {
                    var row = innerRows.AsSpan(slotOf[member] * length, length);
                    for (var c = 0; c < length; c++)
                    {
                        sums[c] += row[c];
                    }
                }

                double size = group.Length;
                var target = destination.Slice(k * length, length);
                for (var c = 0; c < length; c++)
                {
                    target[c] = (float)(sums[c] / size);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(innerRows);
            ArrayPool<double>.Shared.Return(sums);
        }
    }
}
