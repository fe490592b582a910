using System.Buffers.Binary;

namespace FedAgg.Core.Tensors;

/// <summary>Whole-file <c>.npy</c> reads and writes.</summary>
public static class NpyFile
{
    /// <summary>Reads a whole <c>.npy</c> file as float32: float16 is widened exactly, any shape is flattened in C order.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The elements.</returns>
    /// <exception cref="TensorFormatException">The file is malformed or unsupported (see <see cref="MappedNpyArray.Open"/>).</exception>
    /// <exception cref="NotSupportedException">The array has more elements than a .NET array can hold.</exception>
    public static float[] ReadFloat32(string path)
    {
        using var array = MappedNpyArray.Open(path);
        if (array.Length > Array.MaxLength)
        {
            throw new NotSupportedException($"{path}: {array.Length} elements do not fit in one array; use {nameof(MappedNpyArray)}.");
        }

        var result = new float[array.Length];
        array.Read(0, result);
        return result;
    }

    /// <summary>Writes a float32 <c>.npy</c> file (format 1.0, C order, the same bytes <c>np.save</c> writes).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="values">The elements in C order.</param>
    /// <param name="shape">The shape; defaults to <c>(values.Length,)</c>. Its product must equal <c>values.Length</c>.</param>
    /// <exception cref="ArgumentException">The shape does not match the number of values.</exception>
    public static void WriteFloat32(string path, ReadOnlySpan<float> values, IReadOnlyList<long>? shape = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        shape ??= [values.Length];
        var header = NpyHeader.Build(TensorDType.Float32, shape);
        CheckCount(shape, values.Length);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(header);
        ElementCodec.EncodeFloat32(values, stream);
    }

    /// <summary>Writes a 1-D float16 <c>.npy</c> file (<c>'&lt;f2'</c>).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="values">The elements.</param>
    public static void WriteFloat16(string path, ReadOnlySpan<Half> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var header = NpyHeader.Build(TensorDType.Float16, [values.Length]);
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), values[i]);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(header);
        stream.Write(bytes);
    }

    private static void CheckCount(IReadOnlyList<long> shape, int count)
    {
        long product = 1;
        foreach (var dim in shape)
        {
            product *= dim;
        }

        if (product != count)
        {
            throw new ArgumentException(
                $"The shape {NpyHeader.FormatShape(shape)} holds {product} elements but {count} values were given.", nameof(shape));
        }
    }
}
