namespace FedAgg.Aggregation;

/// <summary>
/// A d-length float32 vector the engine writes block by block (the aggregate, an optimizer's state, a model),
/// and reads back where a rule iterates. Backed by an array or a memory-mapped file, so d may exceed RAM.
/// </summary>
/// <remarks>Implementations must allow concurrent calls on disjoint ranges.</remarks>
public abstract class AggregateBuffer : IDisposable
{
    /// <summary>Number of float32 values.</summary>
    public abstract long Length { get; }

    /// <summary>Copies <c>destination.Length</c> values starting at <paramref name="start"/>.</summary>
    public abstract void Read(long start, Span<float> destination);

    /// <summary>Writes <paramref name="values"/> starting at <paramref name="start"/>.</summary>
    public abstract void Write(long start, ReadOnlySpan<float> values);

    /// <summary>A buffer over an existing array (not copied).</summary>
    public static AggregateBuffer FromArray(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new ArrayAggregateBuffer(values);
    }

    /// <summary>A new zero-filled in-memory buffer.</summary>
    public static AggregateBuffer Allocate(long length) =>
        new ArrayAggregateBuffer(new float[checked((int)length)]);

    /// <summary>Releases what the buffer holds.</summary>
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

internal sealed class ArrayAggregateBuffer(float[] values) : AggregateBuffer
{
    public float[] Values => values;

    public override long Length => values.Length;

    public override void Read(long start, Span<float> destination) =>
        values.AsSpan(checked((int)start), destination.Length).CopyTo(destination);

    public override void Write(long start, ReadOnlySpan<float> source) =>
        source.CopyTo(values.AsSpan(checked((int)start), source.Length));
}
