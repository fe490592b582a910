namespace FedAgg.Core.Tensors;

/// <summary>
/// A read-only, memory-mapped <c>.npy</c> file of float32 or float16 elements in C order. Nothing is loaded up front;
/// <see cref="Read"/> copies (and widens) just the requested range.
/// </summary>
/// <remarks>The file must not be truncated by another process while it is open.</remarks>
public sealed unsafe class MappedNpyArray : IDisposable
{
    private readonly MappedFileView _view;

    private MappedNpyArray(string path, MappedFileView view, NpyHeader header)
    {
        Path = path;
        _view = view;
        Header = header;
    }

    /// <summary>The file path as given to <see cref="Open"/>.</summary>
    public string Path { get; }

    /// <summary>The parsed header.</summary>
    public NpyHeader Header { get; }

    /// <summary>The number of elements (<see cref="NpyHeader.ElementCount"/>).</summary>
    public long Length => Header.ElementCount;

    /// <summary>Opens and validates a <c>.npy</c> file.</summary>
    /// <param name="path">The file to map.</param>
    /// <returns>The open array; dispose it to unmap the file.</returns>
    /// <exception cref="TensorFormatException">
    /// Bad magic or header, a dtype other than <c>'&lt;f4'</c>/<c>'&lt;f2'</c>, Fortran order with more than one dimension,
    /// or a file length other than <see cref="NpyHeader.DataOffset"/> + element count × element size.
    /// </exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static MappedNpyArray Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var view = MappedFileView.OpenRead(path);
        try
        {
            var header = NpyHeader.Parse(view.Prefix(12L + NpyHeader.MaxHeaderLength), path);
            if (header.FortranOrder && header.Shape.Count > 1)
            {
                throw new TensorFormatException(
                    $"fortran_order is True for a {header.Shape.Count}-dimensional array; only C order is supported", path);
            }

            var expected = header.DataOffset + (header.ElementCount * header.DType.ElementSize());
            if (view.Length < expected)
            {
                throw new TensorFormatException(
                    $"truncated data: expected {expected} bytes ({header.DataOffset}-byte header + {header.ElementCount} × {header.DType.ElementSize()}-byte elements) but the file has {view.Length}",
                    path);
            }

            if (view.Length > expected)
            {
                throw new TensorFormatException(
                    $"trailing data: expected {expected} bytes ({header.DataOffset}-byte header + {header.ElementCount} × {header.DType.ElementSize()}-byte elements) but the file has {view.Length}",
                    path);
            }

            return new MappedNpyArray(path, view, header);
        }
        catch
        {
            view.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies elements <c>[start, start + destination.Length)</c> into <paramref name="destination"/>, widening float16
    /// exactly. Safe to call from several threads at once.
    /// </summary>
    /// <param name="start">The first element to read.</param>
    /// <param name="destination">Receives the elements; its length is the count to read.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside <c>[0, Length)</c>.</exception>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public void Read(long start, Span<float> destination)
    {
        CheckRange(start, destination.Length, Length);
        if (destination.IsEmpty)
        {
            return;
        }

        var size = Header.DType.ElementSize();
        ElementCodec.Widen(Header.DType, _view.At(Header.DataOffset + (start * size)), destination);
    }

    /// <summary>
    /// For a float32 file, a pointer to element <paramref name="start"/> that stays valid until the array is disposed, so
    /// the aggregation kernels read the mapped pages in place; zero for other element types or an empty array.
    /// </summary>
    internal nint TryGetFloat32Pointer(long start) =>
        Header.DType == TensorDType.Float32 && Length > 0 ? (nint)_view.At(Header.DataOffset + (start * sizeof(float))) : 0;

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => _view.Dispose();

    internal static void CheckRange(long start, int count, long length)
    {
        if (start < 0 || start > length - count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(start), start, $"The range [{start}, {start + count}) is outside the array of {length} elements.");
        }
    }
}
