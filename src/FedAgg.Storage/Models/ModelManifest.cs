using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FedAgg.Storage.Models;

/// <summary>One tensor of a model: its name and shape (float32, C order). Equality compares the shape's values.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
public sealed record ModelTensor(string Name, IReadOnlyList<long> Shape)
{
    /// <summary>The number of elements: the product of the dimensions (1 for a scalar).</summary>
    /// <exception cref="OverflowException">The product does not fit in 64 bits (a manifest never holds such a tensor).</exception>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Shape)
            {
                count = checked(count * dim);
            }

            return count;
        }
    }

    /// <summary>Whether the name and every dimension are equal.</summary>
    /// <param name="other">The tensor to compare with.</param>
    /// <returns>True when equal.</returns>
    public bool Equals(ModelTensor? other) =>
        other is not null && Name == other.Name && Shape.SequenceEqual(other.Shape);

    /// <summary>A hash of the name and the dimensions.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        foreach (var dim in Shape)
        {
            hash.Add(dim);
        }

        return hash.ToHashCode();
    }
}

/// <summary>
/// The tensors of a model, in order. The model vector (what a model hash covers and what updates are deltas of) is
/// every tensor's float32 values flattened in C order and concatenated in this order.
/// </summary>
/// <remarks>
/// JSON form (camelCase, compact): <c>{"tensors":[{"name":"w","dtype":"F32","shape":[2,3]},…]}</c>. Names are unique,
/// 1 to <see cref="MaxNameBytes"/> UTF-8 bytes and not <c>__metadata__</c> (reserved by safetensors); dimensions are
/// non-negative; at most <see cref="MaxTensors"/> tensors of rank at most <see cref="MaxRank"/>; the payload size
/// (4 bytes per element) fits in a signed 64-bit integer.
/// </remarks>
public sealed record ModelManifest
{
    /// <summary>The most tensors a manifest may hold.</summary>
    public const int MaxTensors = 1_000_000;

    /// <summary>The highest tensor rank.</summary>
    public const int MaxRank = 64;

    /// <summary>The longest tensor name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 1024;

    /// <summary>The longest manifest JSON <see cref="FromJson(ReadOnlySpan{byte})"/> accepts: 64 MiB.</summary>
    public const int MaxJsonBytes = 64 << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Creates and validates a manifest.</summary>
    /// <param name="tensors">The tensors in model-vector order.</param>
    /// <exception cref="ArgumentException">A name is empty, too long, reserved or repeated; a dimension is negative; there are too many tensors or dimensions; or the payload size overflows.</exception>
    public ModelManifest(IEnumerable<ModelTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<ModelTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var tensor in tensors)
        {
            if (list.Count == MaxTensors)
            {
                throw new ArgumentException($"A manifest holds at most {MaxTensors} tensors.", nameof(tensors));
            }

            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor.Name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor.Shape, nameof(tensors));
            var nameBytes = NameByteCount(tensor.Name);
            if (nameBytes is < 1 or > MaxNameBytes || tensor.Name == "__metadata__")
            {
                throw new ArgumentException(
                    $"Tensor {list.Count}: a name is 1 to {MaxNameBytes} UTF-8 bytes and not '__metadata__'; '{tensor.Name}' is not.", nameof(tensors));
            }

            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"The tensor name '{tensor.Name}' is used twice.", nameof(tensors));
            }

            if (tensor.Shape.Count > MaxRank)
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Shape.Count} dimensions; at most {MaxRank} are allowed.", nameof(tensors));
            }

            long count = 1;
            foreach (var dim in tensor.Shape)
            {
                if (dim < 0)
                {
                    throw new ArgumentException($"Tensor '{tensor.Name}' has the negative dimension {dim}.", nameof(tensors));
                }

                if (dim != 0 && count > long.MaxValue / sizeof(float) / dim)
                {
                    throw new ArgumentException($"Tensor '{tensor.Name}' is too large: its size overflows 64 bits.", nameof(tensors));
                }

                count *= dim;
            }

            if (total > (long.MaxValue / sizeof(float)) - count)
            {
                throw new ArgumentException("The model is too large: its payload size overflows 64 bits.", nameof(tensors));
            }

            total += count;
            list.Add(new ModelTensor(tensor.Name, Array.AsReadOnly(tensor.Shape.ToArray())));
        }

        Tensors = list.AsReadOnly();
        TotalElements = total;
    }

    /// <summary>The tensors in model-vector order.</summary>
    public IReadOnlyList<ModelTensor> Tensors { get; }

    /// <summary>The length of the model vector: the sum of the tensors' element counts.</summary>
    public long TotalElements { get; }

    /// <summary>The payload size in bytes: 4 per element (float32).</summary>
    public long PayloadBytes => TotalElements * sizeof(float);

    /// <summary>The compact JSON form (see the remarks on <see cref="ModelManifest"/>).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => Encoding.UTF8.GetString(ToJsonUtf8());

    /// <summary>The compact JSON form as UTF-8.</summary>
    /// <returns>The JSON bytes.</returns>
    public byte[] ToJsonUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("tensors");
            foreach (var tensor in Tensors)
            {
                writer.WriteStartObject();
                writer.WriteString("name", tensor.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (var dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses the JSON form.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The validated manifest.</returns>
    /// <exception cref="FormatException">The text is not a valid manifest.</exception>
    public static ModelManifest FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxJsonBytes)
        {
            throw new FormatException($"The manifest JSON is over {MaxJsonBytes} bytes.");
        }

        return FromJson(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses the JSON form from UTF-8. Unknown properties, a dtype other than F32 and trailing data are rejected.</summary>
    /// <param name="utf8Json">The JSON bytes: at most <see cref="MaxJsonBytes"/>.</param>
    /// <returns>The validated manifest.</returns>
    /// <exception cref="FormatException">The bytes are not a valid manifest.</exception>
    public static ModelManifest FromJson(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxJsonBytes)
        {
            throw new FormatException($"The manifest JSON is {utf8Json.Length} bytes, over {MaxJsonBytes}.");
        }

        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 4 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed != utf8Json.Length && !IsWhitespace(utf8Json[(int)reader.BytesConsumed..]))
            {
                throw new FormatException("The manifest JSON has trailing data.");
            }

            return FromElement(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"Not a model manifest: {e.Message}", e);
        }
    }

    /// <summary>Whether the tensors (names and shapes, in order) are equal.</summary>
    /// <param name="other">The manifest to compare with.</param>
    /// <returns>True when equal.</returns>
    public bool Equals(ModelManifest? other) => other is not null && Tensors.SequenceEqual(other.Tensors);

    /// <summary>A hash of the tensors.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var tensor in Tensors)
        {
            hash.Add(tensor);
        }

        return hash.ToHashCode();
    }

    private static ModelManifest FromElement(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"The manifest is a {root.ValueKind}, not an object.");
        }

        JsonElement? tensorsElement = null;
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "tensors" || tensorsElement is not null)
            {
                throw new FormatException($"Unexpected or repeated property '{property.Name}' (expected only 'tensors').");
            }

            tensorsElement = property.Value;
        }

        if (tensorsElement is not { ValueKind: JsonValueKind.Array } array)
        {
            throw new FormatException("'tensors' must be an array.");
        }

        if (array.GetArrayLength() > MaxTensors)
        {
            throw new FormatException($"A manifest holds at most {MaxTensors} tensors.");
        }

        var tensors = new List<ModelTensor>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            tensors.Add(ReadTensor(item, tensors.Count));
        }

        return new ModelManifest(tensors);
    }

    private static ModelTensor ReadTensor(JsonElement item, int index)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Tensor {index} is a {item.ValueKind}, not an object.");
        }

        string? name = null;
        List<long>? shape = null;
        var dtypeSeen = false;
        foreach (var field in item.EnumerateObject())
        {
            switch (field.Name)
            {
                case "name" when name is null && field.Value.ValueKind == JsonValueKind.String:
                    name = field.Value.GetString()!;
                    break;
                case "dtype" when !dtypeSeen && field.Value.ValueKind == JsonValueKind.String && field.Value.ValueEquals("F32"):
                    dtypeSeen = true;
                    break;
                case "shape" when shape is null && field.Value.ValueKind == JsonValueKind.Array:
                    if (field.Value.GetArrayLength() > MaxRank)
                    {
                        throw new FormatException($"Tensor {index} has more than {MaxRank} dimensions.");
                    }

                    shape = [];
                    foreach (var dim in field.Value.EnumerateArray())
                    {
                        if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var value) || value < 0)
                        {
                            throw new FormatException($"Tensor {index}: the dimension {dim.GetRawText()} is not a non-negative 64-bit integer.");
                        }

                        shape.Add(value);
                    }

                    break;
                default:
                    throw new FormatException(
                        $"Tensor {index}: unexpected, repeated or invalid field '{field.Name}' (expected name, dtype \"F32\", shape).");
            }
        }

        if (name is null || shape is null)
        {
            throw new FormatException($"Tensor {index} lacks '{(name is null ? "name" : "shape")}'.");
        }

        return new ModelTensor(name, shape);
    }

    private static int NameByteCount(string name)
    {
        try
        {
            return StrictUtf8.GetByteCount(name);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"The tensor name '{name}' is not valid Unicode.", nameof(name), e);
        }
    }

    private static bool IsWhitespace(ReadOnlySpan<byte> rest)
    {
        foreach (var b in rest)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}
