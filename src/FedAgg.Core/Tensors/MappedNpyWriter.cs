namespace FedAgg.Core.Tensors;

/// <summary>
/// A pre-sized, 1-D float32 <c>.npy</c> file written in place through a memory map. Disposing unmaps the file without
/// forcing it to disk; call <see cref="Flush"/> for durability.
/// </summary>
public sealed unsafe class MappedNpyWriter : IDisposable
{
    private readonly MappedFileView _view;
    private readonly long _dataOffset;

    private MappedNpyWriter(MappedFileView view, long dataOffset, long length)
    {
        _view = view;
        _dataOffset = dataOffset;
        Length = length;
    }

    /// <summary>The number of float32 elements.</summary>
    public long Length { get; }

    /// <summary>Creates (or overwrites) <paramref name="path"/> as a zero-filled float32 array of shape <c>(length,)</c>.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="length">The element count; may be 0.</param>
    /// <returns>The open writer; dispose it to unmap the file.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or too large.</exception>
    public static MappedNpyWriter Create(string path, long length)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, long.MaxValue / 8);
        var header = NpyHeader.Build(TensorDType.Float32, [length]);
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        try
        {
            stream.Write(header);
            stream.SetLength(header.Length + (length * sizeof(float)));
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new MappedNpyWriter(MappedFileView.OpenReadWrite(stream), header.Length, length);
    }

    /// <summary>Writes <paramref name="values"/> at element <paramref name="start"/>. Safe from several threads on disjoint ranges.</summary>
    /// <param name="start">The first element to write.</param>
    /// <param name="values">The values.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside <c>[0, Length)</c>.</exception>
    public void Write(long start, ReadOnlySpan<float> values)
    {
        MappedNpyArray.CheckRange(start, values.Length, Length);
        if (!values.IsEmpty)
        {
            ElementCodec.EncodeFloat32(values, _view.At(_dataOffset + (start * sizeof(float))));
        }
    }

    /// <summary>Reads elements <c>[start, start + destination.Length)</c>.</summary>
    /// <param name="start">The first element to read.</param>
    /// <param name="destination">Receives the elements.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside <c>[0, Length)</c>.</exception>
    public void Read(long start, Span<float> destination)
    {
        MappedNpyArray.CheckRange(start, destination.Length, Length);
        if (!destination.IsEmpty)
        {
            ElementCodec.Widen(TensorDType.Float32, _view.At(_dataOffset + (start * sizeof(float))), destination);
        }
    }

    /// <summary>Writes the mapped pages back to the file and flushes the file to the storage device (fsync).</summary>
    public void Flush() => _view.Flush();

    /// <summary>Unmaps and closes the file.</summary>
    public void Dispose() => _view.Dispose();
}
