using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace FedAgg.Core.Tensors;

/// <summary>One tensor of a safetensors file.</summary>
/// <param name="Name">The tensor name (the JSON key).</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The shape; empty for a scalar.</param>
/// <param name="Begin">The first byte, relative to the start of the data buffer.</param>
/// <param name="End">One past the last byte, relative to the start of the data buffer.</param>
public sealed record SafetensorsTensorInfo(string Name, TensorDType DType, IReadOnlyList<long> Shape, long Begin, long End);

/// <summary>
/// A memory-mapped safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length
/// N, N bytes of JSON, then the data buffer. Tensors of type F32, F16 and BF16 are read widened to float32.
/// </summary>
/// <remarks>The file must not be truncated by another process while it is open.</remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The largest header accepted, in bytes (100,000,000, the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MappedFileView _view;
    private readonly long _dataStart;
    private readonly Dictionary<string, int> _indexByName;

    // _elementStarts[i] is the index of tensor i's first element in the concatenated model vector; one extra entry holds the total.
    private readonly long[] _elementStarts;

    private SafetensorsFile(
        MappedFileView view, long dataStart, IReadOnlyDictionary<string, string> metadata, SafetensorsTensorInfo[] tensors)
    {
        _view = view;
        _dataStart = dataStart;
        Metadata = metadata;
        Tensors = Array.AsReadOnly(tensors);
        _indexByName = new Dictionary<string, int>(tensors.Length, StringComparer.Ordinal);
        _elementStarts = new long[tensors.Length + 1];
        for (var i = 0; i < tensors.Length; i++)
        {
            _indexByName.Add(tensors[i].Name, i);
            _elementStarts[i + 1] = _elementStarts[i] + ElementCount(tensors[i]);
        }
    }

    /// <summary>The <c>__metadata__</c> entries; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in ascending data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The total element count of all tensors: the length of the model vector.</summary>
    public long TotalElements => _elementStarts[^1];

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">The file to map.</param>
    /// <returns>The open file; dispose it to unmap.</returns>
    /// <exception cref="TensorFormatException">
    /// The header length is over 100 MB or runs past the end of the file; the header is not a JSON object; a dtype is
    /// not F32/F16/BF16; offsets are out of range, disagree with the shape, overlap, leave gaps, or leave trailing bytes.
    /// </exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var view = MappedFileView.OpenRead(path);
        try
        {
            if (view.Length < 8)
            {
                throw Error($"truncated header: the file has {view.Length} bytes, fewer than the 8-byte header length", path);
            }

            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(view.Prefix(8));
            if (headerLength > MaxHeaderLength)
            {
                throw Error($"header length {headerLength} bytes exceeds the limit of {MaxHeaderLength} bytes", path);
            }

            if ((long)headerLength > view.Length - 8)
            {
                throw Error($"header length {headerLength} bytes extends beyond the end of the file ({view.Length} bytes)", path);
            }

            var dataStart = 8 + (long)headerLength;
            var dataLength = view.Length - dataStart;
            var (metadata, tensors) = ParseHeader(view.Prefix(dataStart)[8..], dataLength, path);
            return new SafetensorsFile(view, dataStart, metadata, tensors);
        }
        catch
        {
            view.Dispose();
            throw;
        }
    }

    /// <summary>Reads elements <c>[start, start + destination.Length)</c> of one tensor (flattened, C order), widened to float32.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="start">The first element to read.</param>
    /// <param name="destination">Receives the elements.</param>
    /// <exception cref="ArgumentException">No tensor has that name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    public void ReadTensor(string name, long start, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_indexByName.TryGetValue(name, out var index))
        {
            throw new ArgumentException($"The file has no tensor named '{name}'.", nameof(name));
        }

        var info = Tensors[index];
        MappedNpyArray.CheckRange(start, destination.Length, _elementStarts[index + 1] - _elementStarts[index]);
        ReadElements(info, start, destination);
    }

    /// <summary>
    /// Reads elements <c>[start, start + destination.Length)</c> of the model vector: every tensor flattened and
    /// concatenated in data-offset order, widened to float32. Safe to call from several threads at once.
    /// </summary>
    /// <param name="start">The first element to read.</param>
    /// <param name="destination">Receives the elements.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside <c>[0, TotalElements)</c>.</exception>
    public void ReadConcatenated(long start, Span<float> destination)
    {
        MappedNpyArray.CheckRange(start, destination.Length, TotalElements);
        if (destination.IsEmpty)
        {
            return;
        }

        // The last tensor whose first element is at or before start; zero-length tensors share a start with their successor.
        var index = Array.BinarySearch(_elementStarts, 0, Tensors.Count, start);
        if (index < 0)
        {
            index = ~index - 1;
        }

        while (!destination.IsEmpty)
        {
            var available = _elementStarts[index + 1] - start;
            if (available > 0)
            {
                var n = (int)Math.Min(available, destination.Length);
                ReadElements(Tensors[index], start - _elementStarts[index], destination[..n]);
                destination = destination[n..];
                start += n;
            }

            index++;
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => _view.Dispose();

    private void ReadElements(SafetensorsTensorInfo info, long start, Span<float> destination)
    {
        if (!destination.IsEmpty)
        {
            ElementCodec.Widen(info.DType, _view.At(_dataStart + info.Begin + (start * info.DType.ElementSize())), destination);
        }
    }

    private static long ElementCount(SafetensorsTensorInfo info) => (info.End - info.Begin) / info.DType.ElementSize();

    private static (IReadOnlyDictionary<string, string> Metadata, SafetensorsTensorInfo[] Tensors) ParseHeader(
        ReadOnlySpan<byte> header, long dataLength, string path)
    {
        if (header.IsEmpty || header[0] != (byte)'{')
        {
            throw Error("bad header: the JSON header must start with '{'", path);
        }

        if (!Utf8.IsValid(header))
        {
            throw Error("bad header: the JSON header is not valid UTF-8", path);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Error($"bad header: the header is not valid JSON ({e.Message})", path, e);
        }

        try
        {
            return ReadDocument(document, dataLength, path);
        }
        catch (InvalidOperationException e)
        {
            // GetString throws this for escapes that decode to invalid UTF-16 (a lone surrogate).
            throw Error($"bad header: a JSON string cannot be decoded ({e.Message})", path, e);
        }
        finally
        {
            document.Dispose();
        }
    }

    private static (IReadOnlyDictionary<string, string> Metadata, SafetensorsTensorInfo[] Tensors) ReadDocument(
        JsonDocument document, long dataLength, string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw Error($"bad header: the JSON header is a {document.RootElement.ValueKind}, not an object", path);
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                throw Error($"bad header: duplicate key '{property.Name}'", path);
            }

            if (property.Name == MetadataKey)
            {
                ReadMetadata(property.Value, metadata, path);
            }
            else
            {
                tensors.Add(ReadTensorInfo(property.Name, property.Value, dataLength, path));
            }
        }

        var sorted = tensors.ToArray();
        Array.Sort(sorted, static (a, b) =>
        {
            var byBegin = a.Begin.CompareTo(b.Begin);
            if (byBegin != 0)
            {
                return byBegin;
            }

            var byEnd = a.End.CompareTo(b.End);
            return byEnd != 0 ? byEnd : string.CompareOrdinal(a.Name, b.Name);
        });
        CheckCoverage(sorted, dataLength, path);
        return (metadata.AsReadOnly(), sorted);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error($"bad header: '{MetadataKey}' is a {value.ValueKind}, not an object of strings", path);
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw Error($"bad header: '{MetadataKey}' entry '{entry.Name}' is a {entry.Value.ValueKind}, not a string", path);
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw Error($"bad header: duplicate '{MetadataKey}' key '{entry.Name}'", path);
            }
        }
    }

    private static SafetensorsTensorInfo ReadTensorInfo(string name, JsonElement value, long dataLength, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error($"tensor '{name}': the entry is a {value.ValueKind}, not an object", path);
        }

        string? dtypeName = null;
        long[]? shape = null;
        long[]? offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeName is null:
                    dtypeName = field.Value.ValueKind == JsonValueKind.String
                        ? field.Value.GetString()!
                        : throw Error($"tensor '{name}': 'dtype' is a {field.Value.ValueKind}, not a string", path);
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(name, "shape", field.Value, path);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(name, "data_offsets", field.Value, path);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Error($"tensor '{name}': duplicate field '{field.Name}'", path);
                default:
                    throw Error($"tensor '{name}': unexpected field '{field.Name}' (expected dtype, shape, data_offsets)", path);
            }
        }

        if (dtypeName is null || shape is null || offsets is null)
        {
            var missing = dtypeName is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Error($"tensor '{name}': missing field '{missing}'", path);
        }

        var dtype = dtypeName switch
        {
            "F32" => TensorDType.Float32,
            "F16" => TensorDType.Float16,
            "BF16" => TensorDType.BFloat16,
            _ => throw Error($"tensor '{name}': unsupported dtype '{dtypeName}' (supported: F32, F16, BF16)", path),
        };

        if (offsets.Length != 2)
        {
            throw Error($"tensor '{name}': 'data_offsets' has {offsets.Length} entries, not 2", path);
        }

        long begin = offsets[0], end = offsets[1];
        if (end < begin)
        {
            throw Error($"tensor '{name}': data_offsets [{begin}, {end}] end before they begin", path);
        }

        if (end > dataLength)
        {
            throw Error($"tensor '{name}': data_offsets [{begin}, {end}] are out of range of the {dataLength}-byte data buffer", path);
        }

        var size = dtype.ElementSize();
        long count = shape.Contains(0) ? 0 : 1;
        var tooLarge = false;
        for (var i = 0; i < shape.Length && count != 0; i++)
        {
            if (count > long.MaxValue / size / shape[i])
            {
                tooLarge = true;
                break;
            }

            count *= shape[i];
        }

        if (tooLarge || count * size != end - begin)
        {
            var expected = tooLarge ? "more than 2^63 bytes" : $"{count * size} bytes";
            throw Error(
                $"tensor '{name}': byte size mismatch: shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected} but data_offsets [{begin}, {end}] span {end - begin} bytes",
                path);
        }

        return new SafetensorsTensorInfo(name, dtype, Array.AsReadOnly(shape), begin, end);
    }

    private static long[] ReadIntegers(string name, string field, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error($"tensor '{name}': '{field}' is a {value.ValueKind}, not an array of integers", path);
        }

        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
            {
                throw Error($"tensor '{name}': '{field}' entry {item.GetRawText()} is not a non-negative 64-bit integer", path);
            }

            result[i++] = number;
        }

        return result;
    }

    private static void CheckCoverage(SafetensorsTensorInfo[] sorted, long dataLength, string path)
    {
        long covered = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var tensor in sorted)
        {
            if (tensor.Begin > covered)
            {
                throw Error(
                    $"gap in the data buffer: bytes [{covered}, {tensor.Begin}) before tensor '{tensor.Name}' belong to no tensor", path);
            }

            if (tensor.Begin < covered)
            {
                throw Error(
                    $"overlapping tensors: '{tensor.Name}' data_offsets [{tensor.Begin}, {tensor.End}] overlap '{previous!.Name}' [{previous.Begin}, {previous.End}]",
                    path);
            }

            covered = tensor.End;
            previous = tensor;
        }

        if (covered != dataLength)
        {
            throw Error($"trailing data: the data buffer has {dataLength} bytes but the tensors cover only {covered}", path);
        }
    }

    private static TensorFormatException Error(string problem, string path, Exception? inner = null) => new(problem, path, inner);
}
