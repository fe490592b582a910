using FedAgg.Core.Tensors;

namespace FedAgg.Aggregation;

/// <summary>Updates read from memory-mapped <c>.npy</c> files (1-D float32 or float16), one file per update.</summary>
public sealed class NpyUpdateSource : UpdateSource
{
    private readonly MappedNpyArray[] _arrays;

    private NpyUpdateSource(MappedNpyArray[] arrays) => _arrays = arrays;

    /// <summary>Maps every file; the order of <paramref name="paths"/> is the update index.</summary>
    /// <exception cref="TensorFormatException">A file is not a valid 1-D float32/float16 <c>.npy</c>.</exception>
    public static NpyUpdateSource Open(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var arrays = new List<MappedNpyArray>(paths.Count);
        try
        {
            foreach (var path in paths)
            {
                var array = MappedNpyArray.Open(path);
                arrays.Add(array);
                if (array.Header.Shape.Count != 1)
                {
                    throw new TensorFormatException($"an update must be 1-D, but the shape is ({string.Join(", ", array.Header.Shape)})", path);
                }
            }
        }
        catch
        {
            foreach (var array in arrays)
            {
                array.Dispose();
            }

            throw;
        }

        return new NpyUpdateSource([.. arrays]);
    }

    /// <inheritdoc/>
    public override int Count => _arrays.Length;

    /// <inheritdoc/>
    public override long Length => _arrays.Length == 0 ? 0 : _arrays[0].Length;

    /// <inheritdoc/>
    public override long LengthOf(int index) => _arrays[index].Length;

    /// <inheritdoc/>
    public override string NameOf(int index) => _arrays[index].Path;

    /// <inheritdoc/>
    public override void ReadRow(int index, long start, Span<float> destination) => _arrays[index].Read(start, destination);

    internal override nint TryGetRowPointer(int index, long start) => _arrays[index].TryGetFloat32Pointer(start);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var array in _arrays)
            {
                array.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}

/// <summary>An <see cref="AggregateBuffer"/> backed by a memory-mapped 1-D float32 <c>.npy</c> file, so d may exceed RAM.</summary>
public sealed class NpyAggregateBuffer : AggregateBuffer
{
    private readonly MappedNpyWriter _writer;

    private NpyAggregateBuffer(MappedNpyWriter writer) => _writer = writer;

    /// <summary>Creates (or overwrites) <paramref name="path"/> sized for <paramref name="length"/> float32 values.</summary>
    public static NpyAggregateBuffer Create(string path, long length) => new(MappedNpyWriter.Create(path, length));

    /// <inheritdoc/>
    public override long Length => _writer.Length;

    /// <inheritdoc/>
    public override void Read(long start, Span<float> destination) => _writer.Read(start, destination);

    /// <inheritdoc/>
    public override void Write(long start, ReadOnlySpan<float> values) => _writer.Write(start, values);

    /// <summary>Flushes the mapped pages and the file to disk.</summary>
    public void Flush() => _writer.Flush();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writer.Dispose();
        }

        base.Dispose(disposing);
    }
}
