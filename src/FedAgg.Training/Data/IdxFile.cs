using System.Buffers.Binary;
using System.IO.Compression;

namespace FedAgg.Training.Data;

/// <summary>
/// Reads the IDX files of (Fashion-)MNIST, gzip-compressed or not: a big-endian header of magic
/// <c>0x00000803</c> (unsigned bytes, three dimensions: count, rows, columns) for images or <c>0x00000801</c> (one
/// dimension: count) for labels, then the bytes. Every length is checked before allocating and trailing bytes are
/// rejected; any problem is a <see cref="DatasetException"/> naming the file.
/// </summary>
internal static class IdxFile
{
    /// <summary>The magic of an unsigned-byte array with three dimensions.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic of an unsigned-byte array with one dimension.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>The most samples a file may declare.</summary>
    public const int MaxCount = 10_000_000;

    /// <summary>The largest image side a file may declare.</summary>
    public const int MaxSide = 1024;

    /// <summary>Reads an image file.</summary>
    /// <param name="path">The file (gzip-compressed or raw).</param>
    /// <param name="content">The file's bytes as stored.</param>
    /// <returns>The images, row-major <c>[count, rows·columns]</c>.</returns>
    public static IdxImages ParseImages(string path, byte[] content)
    {
        using var stream = Open(path, content);
        Span<byte> header = stackalloc byte[16];
        ReadHeader(stream, header, path);
        CheckMagic(header, ImagesMagic, path);
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        var columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count is < 0 or > MaxCount)
        {
            throw new DatasetException($"the header declares {count} images; allowed 0 … {MaxCount}", path, null);
        }

        if (rows is < 1 or > MaxSide || columns is < 1 or > MaxSide)
        {
            throw new DatasetException($"the header declares {rows}×{columns} images; each side must be 1 … {MaxSide}", path, null);
        }

        var total = (long)count * rows * columns;
        if (total > Array.MaxLength)
        {
            throw new DatasetException($"{count} images of {rows}×{columns} bytes do not fit in memory as one array", path, null);
        }

        var pixels = new byte[total];
        ReadPayload(stream, pixels, path, "pixels");
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file.</summary>
    /// <param name="path">The file (gzip-compressed or raw).</param>
    /// <param name="content">The file's bytes as stored.</param>
    /// <returns>The labels.</returns>
    public static byte[] ParseLabels(string path, byte[] content)
    {
        using var stream = Open(path, content);
        Span<byte> header = stackalloc byte[8];
        ReadHeader(stream, header, path);
        CheckMagic(header, LabelsMagic, path);
        var count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count is < 0 or > MaxCount)
        {
            throw new DatasetException($"the header declares {count} labels; allowed 0 … {MaxCount}", path, null);
        }

        var labels = new byte[count];
        ReadPayload(stream, labels, path, "labels");
        return labels;
    }

    private static Stream Open(string path, byte[] content)
    {
        var raw = new MemoryStream(content, writable: false);
        return content.Length >= 2 && content[0] == 0x1F && content[1] == 0x8B
            ? new GZipStream(raw, CompressionMode.Decompress)
            : raw;
    }

    private static void ReadHeader(Stream stream, Span<byte> header, string path)
    {
        var read = Fill(stream, header, path);
        if (read < header.Length)
        {
            throw new DatasetException($"truncated: the header needs {header.Length} bytes, the file has {read}", path, null);
        }
    }

    private static void CheckMagic(ReadOnlySpan<byte> header, int expected, string path)
    {
        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expected)
        {
            throw new DatasetException(
                $"bad magic number 0x{magic:X8}; expected 0x{expected:X8} ({(expected == ImagesMagic ? "an IDX image file" : "an IDX label file")})", path, null);
        }
    }

    private static void ReadPayload(Stream stream, byte[] destination, string path, string what)
    {
        var read = Fill(stream, destination, path);
        if (read < destination.Length)
        {
            throw new DatasetException($"truncated: the header declares {destination.Length} bytes of {what}, the file has {read}", path, null);
        }

        Span<byte> probe = stackalloc byte[1];
        if (Fill(stream, probe, path) != 0)
        {
            throw new DatasetException($"trailing bytes after the {destination.Length} bytes of {what} the header declares", path, null);
        }
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the stream ends; returns the bytes read.</summary>
    private static int Fill(Stream stream, Span<byte> destination, string path)
    {
        try
        {
            return stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException exception)
        {
            throw new DatasetException($"corrupt gzip data: {exception.Message}", path, exception);
        }
    }
}

/// <summary>The content of an IDX image file.</summary>
/// <param name="Count">The number of images.</param>
/// <param name="Rows">Rows per image.</param>
/// <param name="Columns">Columns per image.</param>
/// <param name="Pixels">Row-major <c>[Count, Rows·Columns]</c>.</param>
internal sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);
