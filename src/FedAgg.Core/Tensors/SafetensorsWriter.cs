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
            foreach (var (name, shape, data) in tensors)
            {
                ArgumentNullException.ThrowIfNull(name, nameof(tensors));
                ArgumentNullException.ThrowIfNull(shape, nameof(tensors));
                if (name == "__metadata__" || !names.Add(name))
                {
                    throw new ArgumentException($"The tensor name '{name}' is reserved or used twice.", nameof(tensors));
                }

                long count = 1;
                foreach (var dim in shape)
                {
                    if (dim < 0 || (dim != 0 && count > int.MaxValue / dim))
                    {
                        throw new ArgumentException($"Tensor '{name}' has an invalid shape.", nameof(tensors));
                    }

                    count *= dim;
                }

                if (count != data.Length)
                {
                    throw new ArgumentException(
                        $"Tensor '{name}' has shape [{string.Join(", ", shape)}] ({count} elements) but {data.Length} values.", nameof(tensors));
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
                writer.WriteNumberValue(offset + (count * sizeof(float)));
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += count * sizeof(float);
            }

            writer.WriteEndObject();
        }

        var padding = (8 - (json.WrittenCount % 8)) % 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(json.WrittenCount + padding));

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(prefix);
        stream.Write(json.WrittenSpan);
        for (var i = 0; i < padding; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var (_, _, data) in tensors)
        {
            ElementCodec.EncodeFloat32(data.Span, stream);
        }
    }
}
