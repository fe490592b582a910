using System.IO.MemoryMappedFiles;

namespace FedAgg.Core.Tensors;

/// <summary>A whole file mapped into memory with its base pointer acquired for the lifetime of the view.</summary>
internal sealed unsafe class MappedFileView : IDisposable
{
    private readonly FileStream _stream;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _accessor;
    private byte* _pointer;
    private int _disposed;

    private MappedFileView(FileStream stream, MemoryMappedFileAccess access)
    {
        _stream = stream;
        Length = stream.Length;
        if (Length == 0)
        {
            // A zero-length file cannot be mapped; callers see an empty view.
            return;
        }

        try
        {
            _map = MemoryMappedFile.CreateFromFile(stream, mapName: null, 0, access, HandleInheritability.None, leaveOpen: true);
            _accessor = _map.CreateViewAccessor(0, Length, access);
            byte* pointer = null;
            _accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _pointer = pointer + _accessor.PointerOffset;
        }
        catch
        {
            _accessor?.Dispose();
            _map?.Dispose();
            throw;
        }
    }

    /// <summary>The file length in bytes, fixed when the view was created.</summary>
    public long Length { get; }

    /// <summary>Maps an existing file read-only; others may keep it open for writing (a <see cref="MappedNpyWriter"/> in this process). The stream is owned by the view.</summary>
    public static MappedFileView OpenRead(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.RandomAccess);
        try
        {
            return new MappedFileView(stream, MemoryMappedFileAccess.Read);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Maps a file opened for reading and writing, at its current length. The stream is owned by the view.</summary>
    public static MappedFileView OpenReadWrite(FileStream stream)
    {
        try
        {
            return new MappedFileView(stream, MemoryMappedFileAccess.ReadWrite);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Pointer to byte <paramref name="offset"/> of the file; the caller has checked the range.</summary>
    public byte* At(long offset)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _pointer + offset;
    }

    /// <summary>The first <paramref name="count"/> bytes of the file (at most <see cref="Length"/>).</summary>
    public ReadOnlySpan<byte> Prefix(long count)
    {
        var length = (int)Math.Min(Math.Min(count, Length), int.MaxValue);
        return length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(At(0), length);
    }

    /// <summary>Writes dirty pages back to the file, then flushes the file to the storage device.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _accessor?.Flush();
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_accessor is not null)
        {
            _pointer = null;
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
        }

        _map?.Dispose();
        _stream.Dispose();
    }
}
