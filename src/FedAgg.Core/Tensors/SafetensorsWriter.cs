using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FedAgg.Core.Tensors;

/// <summary>Writes float32 safetensors files.</summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> as F32 in the given order, back to back in the data buffer. The JSON header lists
    /// <c>__metadata__</c> first (keys sorted ordinally; omitted when null or empty), then the tensors, and is padded with
    /// spaces to a multiple of 8 bytes as the reference implementation does.
    /// </summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="tensors">Name, shape and data of each tensor; names must be unique and not <c>__metadata__</c>, and each shape's product must equal its data length.</param>
    /// <param name="metadata">Optional string metadata.</param>
    /// <exception cref="ArgumentException">A name is duplicated or reserved, or a shape does not match its data.</exception>
    public static void Write(
        string path,
        IReadOnlyList<(string Name, IReadOnlyList<long> Shape, ReadOnlyMemory<float> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);

        var shapes = new (string Name, IReadOnlyList<long> Shape)[tensors.Count];
        for (var i = 0; i < tensors.Count; i++)
        {
            var (name, shape, data) = tensors[i];
            ArgumentNullException.ThrowIfNull(shape, nameof(tensors));
            long count = 1;
            foreach (var dim in shape)
            {
                count = dim < 0 || (dim != 0 && count > long.MaxValue / dim) ? -1 : count * dim;
                if (count < 0)
                {
                    throw new ArgumentException($"Tensor '{name}' has an invalid shape.", nameof(tensors));
                }
            }

            if (count != data.Length)
            {
                throw new ArgumentException(
                    $"Tensor '{name}' has shape [{string.Join(", ", shape)}] ({count} elements) but {data.Length} values.", nameof(tensors));
            }

            shapes[i] = (name, shape);
        }

        var header = BuildFloat32Header(shapes, metadata);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(header);
        foreach (var (_, _, data) in tensors)
        {
            ElementCodec.EncodeFloat32(data.Span, stream);
        }
    }

    /// <summary>
    /// Builds the start of a float32 safetensors file whose tensors follow back to back in the given order: the 8-byte
    /// little-endian header length, the JSON header (laid out as <see cref="Write"/> lays it out) and its space padding.
    /// The data buffer (each tensor's float32 little-endian values, in the given order) follows these bytes, so a writer
    /// can stream it without holding the tensors in memory.
    /// </summary>
    /// <param name="tensors">Name and shape of each tensor; names must be unique and not <c>__metadata__</c>, dimensions non-negative, and the total data size must fit in a 64-bit byte count.</param>
    /// <param name="metadata">Optional string metadata.</param>
    /// <returns>The header bytes; the data buffer starts at their length.</returns>
    /// <exception cref="ArgumentException">A name is duplicated or reserved, or a shape is negative or too large.</exception>
    public static byte[] BuildFloat32Header(
        IReadOnlyList<(string Name, IReadOnlyList<long> Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);

        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var key in metadata.Keys.Order(StringComparer.Ordinal))
                {
                    writer.WriteString(key, metadata[key]);
                }

                writer.WriteEndObject();
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var (name, shape) in tensors)
            {
                ArgumentNullException.ThrowIfNull(name, nameof(tensors));
                ArgumentNullException.ThrowIfNull(shape, nameof(tensors));
                if (name == "__metadata__" || !names.Add(name))
                {
                    throw new ArgumentException($"The tensor name '{name}' is reserved or used twice.", nameof(tensors));
                }

                long bytes = sizeof(float);
                foreach (var dim in shape)
                {
                    if (dim < 0 || (dim != 0 && bytes > long.MaxValue / dim))
                    {
                        throw new ArgumentException($"Tensor '{name}' has an invalid shape.", nameof(tensors));
                    }

                    bytes *= dim;
                }

                if (offset > long.MaxValue - bytes)
                {
                    throw new ArgumentException("The tensors hold more than 2^63 bytes.", nameof(tensors));
                }

                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (var dim in shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }

            writer.WriteEndObject();
        }

        var padding = (8 - (json.WrittenCount % 8)) % 8;
        var header = new byte[8 + json.WrittenCount + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)(json.WrittenCount + padding));
        json.WrittenSpan.CopyTo(header.AsSpan(8));
        header.AsSpan(8 + json.WrittenCount).Fill((byte)' ');
        return header;
    }
}
