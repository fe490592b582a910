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

    /// <summary>
    /// Where the source keeps update <paramref name="index"/> as float32 in memory that stays valid and unmoved until the
    /// source is disposed, returns a pointer to coordinate <paramref name="start"/> so that kernels read it in place;
    /// otherwise returns zero and the engine copies through <see cref="ReadRow"/>.
    /// </summary>
    internal virtual nint TryGetRowPointer(int index, long start) => 0;

    /// <summary>
    /// Whether <see cref="ReadRows"/> is cheaper than one <see cref="ReadRow"/> per update (derived sources whose rows
    /// share inputs, such as nearest-neighbour mixing).
    /// </summary>
    internal virtual bool PrefersBatchReads => false;

    /// <summary>
    /// Copies coordinates [start, start+length) of each update in <paramref name="indices"/> into consecutive
    /// <paramref name="length"/>-long slices of <paramref name="destination"/>.
    /// </summary>
    internal virtual void ReadRows(ReadOnlySpan<int> indices, long start, int length, Span<float> destination)
    {
        for (var k = 0; k < indices.Length; k++)
        {
            ReadRow(indices[k], start, destination.Slice(k * length, length));
        }
    }

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
    private readonly System.Buffers.MemoryHandle[] _pins = new System.Buffers.MemoryHandle[updates.Length];
    private readonly Lock _pinLock = new();
    private bool _pinned;

    public override int Count => updates.Length;

    internal override unsafe nint TryGetRowPointer(int index, long start)
    {
        if (!_pinned)
        {
            PinAll();
        }

        return (nint)((float*)_pins[index].Pointer + start);
    }

    private void PinAll()
    {
        lock (_pinLock)
        {
            if (_pinned)
            {
                return;
            }

            for (var i = 0; i < updates.Length; i++)
            {
                _pins[i] = updates[i].Pin();
            }

            Volatile.Write(ref _pinned, true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_pinned)
        {
            foreach (var pin in _pins)
            {
                pin.Dispose();
            }

            _pinned = false;
        }

        base.Dispose(disposing);
    }

    public override long Length => updates.Length == 0 ? 0 : updates[0].Length;

    public override long LengthOf(int index) => updates[index].Length;

    public override string NameOf(int index) => names is not null && index < names.Count ? names[index] : base.NameOf(index);

    public override void ReadRow(int index, long start, Span<float> destination) =>
        updates[index].Span.Slice(checked((int)start), destination.Length).CopyTo(destination);
}
