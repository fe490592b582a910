namespace FedAgg.Aggregation;

/// <summary>
/// The updates of one aggregation, read block by block so that the engine never holds a whole update:
/// memory stays O(n·block), whatever the number of parameters d.
/// </summary>
/// <remarks>Implementations must allow concurrent <see cref="ReadRow"/> calls for different ranges.</remarks>
public abstract class UpdateSource : IDisposable
{
    /// <summary>Number of updates (n).</summary>
    public abstract int Count { get; }

    /// <summary>Number of float32 parameters in every update (d).</summary>
    public abstract long Length { get; }

    /// <summary>A human-readable name for update <paramref name="index"/> (a file name, say), used in errors.</summary>
    public virtual string NameOf(int index) => $"update {index}";

    /// <summary>The length of update <paramref name="index"/>; sources whose inputs may disagree override this.</summary>
    public virtual long LengthOf(int index) => Length;

    /// <summary>Copies <c>destination.Length</c> values of update <paramref name="index"/>, starting at coordinate <paramref name="start"/>.</summary>
    public abstract void ReadRow(int index, long start, Span<float> destination);

    /// <summary>An in-memory source over arrays, which must all have the same length.</summary>
    public static UpdateSource FromArrays(IReadOnlyList<float[]> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        return new MemoryUpdateSource([.. updates.Select(static u => (ReadOnlyMemory<float>)u)], null);
    }

    /// <summary>An in-memory source over memory regions; <paramref name="names"/> (optional) name them in errors.</summary>
    public static UpdateSource FromMemory(IReadOnlyList<ReadOnlyMemory<float>> updates, IReadOnlyList<string>? names = null)
    {
        ArgumentNullException.ThrowIfNull(updates);
        return new MemoryUpdateSource([.. updates], names);
    }

    /// <summary>Releases what the source holds (mapped files, say).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; called once from <see cref="Dispose()"/>.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

internal sealed class MemoryUpdateSource(ReadOnlyMemory<float>[] updates, IReadOnlyList<string>? names) : UpdateSource
{
    public override int Count => updates.Length;

    public override long Length => updates.Length == 0 ? 0 : updates[0].Length;

    public override long LengthOf(int index) => updates[index].Length;

    public override string NameOf(int index) => names is not null && index < names.Count ? names[index] : base.NameOf(index);

    public override void ReadRow(int index, long start, Span<float> destination) =>
        updates[index].Span.Slice(checked((int)start), destination.Length).CopyTo(destination);
}
