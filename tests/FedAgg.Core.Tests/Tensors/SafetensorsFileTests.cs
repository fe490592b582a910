using System.Buffers.Binary;
using System.Text;
using FedAgg.Core.Tensors;

namespace FedAgg.Core.Tests.Tensors;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly (string Name, long[] Shape, float[] Data)[] Model =
    [
        ("layer1.weight", [2, 3], [1f, -2f, 3.5f, float.MaxValue, -0f, 1e-40f]),
        ("layer1.bias", [3], [0.25f, float.NegativeInfinity, 7f]),
        ("empty", [0, 4], []),
        ("scale", [], [42f]),
        ("layer2.weight", [1, 1, 2], [float.NaN, -9f]),
    ];

    private string WriteModel(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(
            path,
            Model.Select(t => (t.Name, (IReadOnlyList<long>)t.Shape, (ReadOnlyMemory<float>)t.Data)).ToList(),
            metadata);
        return path;
    }

    [Fact]
    public void Write_ThenOpen_RoundTripsTensorsAndMetadata()
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["round"] = "17", ["note"] = "ünïcode \"quoted\"" };
        var path = WriteModel(metadata);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(Model.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        Assert.Equal(Model.Sum(t => t.Data.Length), file.TotalElements);
        long offset = 0;
        foreach (var (info, expected) in file.Tensors.Zip(Model))
        {
            Assert.Equal(TensorDType.Float32, info.DType);
            Assert.Equal(expected.Shape, info.Shape);
            Assert.Equal(offset, info.Begin);
            Assert.Equal(offset + (4L * expected.Data.Length), info.End);
            offset = info.End;
            var values = new float[expected.Data.Length];
            file.ReadTensor(expected.Name, 0, values);
            Assert.Equal(Bits(expected.Data), Bits(values));
        }
    }

    [Fact]
    public void Write_HeaderLayout_FollowsReferenceImplementation()
    {
        var path = WriteModel(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        var bytes = File.ReadAllBytes(path);

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);

        Assert.Equal(0UL, headerLength % 8);
        Assert.StartsWith("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"},\"layer1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},", header, StringComparison.Ordinal);
        Assert.Equal(header.TrimEnd(' ').Length + (header.Length - header.TrimEnd(' ').Length), header.Length);
        Assert.True(header.Length - header.TrimEnd(' ').Length < 8);
        Assert.EndsWith("}", header.TrimEnd(' '), StringComparison.Ordinal);
        Assert.Equal(8 + (long)headerLength + (4L * Model.Sum(t => t.Data.Length)), bytes.Length);
    }

    [Fact]
    public void Write_NoMetadata_OmitsMetadataKey()
    {
        var path = WriteModel();
        var bytes = File.ReadAllBytes(path);

        Assert.DoesNotContain("__metadata__", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void ReadConcatenated_EveryWindow_MatchesConcatenation()
    {
        var path = WriteModel();
        var expected = Model.SelectMany(t => t.Data).ToArray();
        using var file = SafetensorsFile.Open(path);

        for (var start = 0; start <= expected.Length; start++)
        {
            for (var count = 0; start + count <= expected.Length; count++)
            {
                var window = new float[count];
                file.ReadConcatenated(start, window);
                Assert.Equal(Bits(expected.AsSpan(start, count).ToArray()), Bits(window));
            }
        }
    }

    [Fact]
    public void Open_HandBuiltMixedDTypes_ReadsWidenedInOffsetOrder()
    {
        // Listed out of offset order; F16 and BF16 start at unaligned offsets 16 and 22.
        const string Json =
            "{\"c\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[22,30]}," +
            "\"__metadata__\":{\"format\":\"pt\"}," +
            "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}," +
            "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[16,16]}," +
            "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]}}";
        byte[] data =
        [
            0x00, 0x00, 0x80, 0x3F, // 1.0f
            0x00, 0x00, 0x00, 0xC0, // -2.0f
            0x00, 0x00, 0xC0, 0x7F, // NaN
            0x01, 0x00, 0x00, 0x00, // smallest subnormal
            0x00, 0x3C, // F16 1.0
            0x00, 0xC0, // F16 -2.0
            0x01, 0x00, // F16 2^-24
            0x80, 0x3F, // BF16 1.0
            0x49, 0x40, // BF16 3.140625
            0x80, 0x7F, // BF16 +inf
            0x01, 0x00, // BF16 2^-133
        ];
        var path = _directory.File("hand.safetensors");
        File.WriteAllBytes(path, SafetensorsTestFiles.Build(Json, data, padTo: 1));

        using var file = SafetensorsFile.Open(path);
        var all = new float[file.TotalElements];
        file.ReadConcatenated(0, all);
        var b = new float[2];
        file.ReadTensor("b", 1, b);

        Assert.Equal(["a", "z", "b", "c"], file.Tensors.Select(t => t.Name));
        Assert.Equal([TensorDType.Float32, TensorDType.Float16, TensorDType.Float16, TensorDType.BFloat16], file.Tensors.Select(t => t.DType));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([2L, 2L], file.Tensors[3].Shape);
        Assert.Equal(11, file.TotalElements);
        float[] expected =
        [
            1f, -2f, BitConverter.UInt32BitsToSingle(0x7FC00000), BitConverter.UInt32BitsToSingle(1),
            1f, -2f, (float)Math.Pow(2, -24),
            1f, 3.140625f, float.PositiveInfinity, (float)Math.Pow(2, -133),
        ];
        Assert.Equal(Bits(expected), Bits(all));
        Assert.Equal([-2f, (float)Math.Pow(2, -24)], b);
    }

    [Fact]
    public void Open_EmptyHeaderObject_HasNoTensors()
    {
        var path = _directory.File("empty.safetensors");
        File.WriteAllBytes(path, SafetensorsTestFiles.Build("{}", []));

        using var file = SafetensorsFile.Open(path);

        Assert.Empty(file.Tensors);
        Assert.Equal(0, file.TotalElements);
        file.ReadConcatenated(0, Span<float>.Empty);
    }

    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    public static TheoryData<string, byte[], string> MalformedFiles() => new()
    {
        { "too short", [1, 0, 0], "fewer than the 8-byte header length" },
        { "header length beyond the file", SafetensorsTestFiles.Build("{" + A + "}", new byte[8], headerLengthOverride: 500), "header length 500 bytes extends beyond the end of the file" },
        { "header length absurd", SafetensorsTestFiles.Build("{}", [], headerLengthOverride: 100_000_001), "header length 100000001 bytes exceeds the limit" },
        { "header length huge", SafetensorsTestFiles.Build("{}", [], headerLengthOverride: -1), "exceeds the limit" },
        { "not starting with brace", SafetensorsTestFiles.Build(" {}", [], padTo: 1), "must start with '{'" },
        { "empty header", SafetensorsTestFiles.Build("", [], padTo: 1), "must start with '{'" },
        { "bad json", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",", new byte[8]), "not valid JSON" },
        { "trailing json", SafetensorsTestFiles.Build("{}{}", []), "not valid JSON" },
        { "unknown dtype F64", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'a': unsupported dtype 'F64' (supported: F32, F16, BF16)" },
        { "unknown dtype I8", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"I8\",\"shape\":[8],\"data_offsets\":[0,8]}}", new byte[8]), "unsupported dtype 'I8'" },
        { "overlap", SafetensorsTestFiles.Build("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "overlapping tensors: 'b' data_offsets [4, 12] overlap 'a' [0, 8]" },
        { "gap", SafetensorsTestFiles.Build("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", new byte[16]), "gap in the data buffer: bytes [8, 12) before tensor 'b'" },
        { "gap at start", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "gap in the data buffer: bytes [0, 4)" },
        { "out of range", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]), "tensor 'a': data_offsets [0, 16] are out of range of the 8-byte data buffer" },
        { "wrong byte size", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'a': byte size mismatch: shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8 bytes" },
        { "huge shape", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", new byte[8]), "byte size mismatch" },
        { "reversed offsets", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8]), "end before they begin" },
        { "trailing bytes", SafetensorsTestFiles.Build("{" + A + "}", new byte[9]), "trailing data: the data buffer has 9 bytes but the tensors cover only 8" },
        { "missing field", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8]), "tensor 'a': missing field 'data_offsets'" },
        { "unexpected field", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", new byte[8]), "unexpected field 'x'" },
        { "three offsets", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", new byte[8]), "has 3 entries, not 2" },
        { "negative dimension", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]), "'shape' entry -2 is not a non-negative 64-bit integer" },
        { "fractional offset", SafetensorsTestFiles.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", new byte[8]), "'data_offsets' entry 8.0 is not" },
        { "tensor not an object", SafetensorsTestFiles.Build("{\"a\":[1,2]}", []), "tensor 'a': the entry is a Array, not an object" },
        { "root not an object", SafetensorsTestFiles.Build("{", [], padTo: 1), "not valid JSON" },
        { "metadata not strings", SafetensorsTestFiles.Build("{\"__metadata__\":{\"epoch\":3}}", []), "'__metadata__' entry 'epoch' is a Number, not a string" },
        { "duplicate tensor", SafetensorsTestFiles.Build("{" + A + "," + A + "}", new byte[8]), "duplicate key 'a'" },
        { "invalid utf-8", SafetensorsTestFiles.BuildRaw([.. "{\"a"u8, 0xFF, .. "\":{}}"u8], []), "not valid UTF-8" },
        { "lone surrogate", SafetensorsTestFiles.Build("{\"\\ud800\":{}}", []), "a JSON string cannot be decoded" },
        { "array root", SafetensorsTestFiles.Build("[]", []), "must start with '{'" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Open_MalformedFile_ThrowsTensorFormatExceptionNamingProblem(string scenario, byte[] bytes, string problem)
    {
        var path = _directory.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<TensorFormatException>(() => SafetensorsFile.Open(path));

        Assert.True(e.Message.Contains(problem, StringComparison.Ordinal), $"{scenario}: '{e.Message}' should contain '{problem}'");
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TruncatedAtEveryByteOffset_ThrowsTensorFormatException()
    {
        var bytes = File.ReadAllBytes(WriteModel(new Dictionary<string, string> { ["k"] = "v" }));
        var truncated = _directory.File("truncated.safetensors");

        for (var length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(truncated, bytes[..length]);
            Assert.Throws<TensorFormatException>(() => SafetensorsFile.Open(truncated));
        }
    }

    [Fact]
    public void ReadTensor_UnknownName_ThrowsArgumentException()
    {
        using var file = SafetensorsFile.Open(WriteModel());

        var e = Assert.Throws<ArgumentException>(() => file.ReadTensor("nope", 0, new float[1]));

        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, 4)]
    [InlineData(3L, 1)]
    public void ReadTensor_RangeOutsideTensor_ThrowsArgumentOutOfRange(long start, int count)
    {
        using var file = SafetensorsFile.Open(WriteModel());

        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensor("layer1.bias", start, new float[count]));
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, 13)]
    [InlineData(12L, 1)]
    [InlineData(13L, 0)]
    public void ReadConcatenated_RangeOutsideModel_ThrowsArgumentOutOfRange(long start, int count)
    {
        using var file = SafetensorsFile.Open(WriteModel());

        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadConcatenated(start, new float[count]));
    }

    [Fact]
    public void Write_DuplicateName_ThrowsArgumentException()
    {
        var tensors = new List<(string, IReadOnlyList<long>, ReadOnlyMemory<float>)>
        {
            ("a", [1], new float[1]),
            ("a", [1], new float[1]),
        };

        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(_directory.File("x.safetensors"), tensors));
    }

    [Fact]
    public void Write_ShapeDisagreesWithData_ThrowsArgumentException()
    {
        var tensors = new List<(string, IReadOnlyList<long>, ReadOnlyMemory<float>)> { ("a", [2, 2], new float[3]) };

        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(_directory.File("x.safetensors"), tensors));
    }

    [Fact]
    public void ReadConcatenated_ManyThreadsAtOnce_MatchesSequentialRead()
    {
        var random = new Random(7);
        var tensors = Enumerable.Range(0, 20)
            .Select(i => ($"t{i}", (IReadOnlyList<long>)[1000 + i], (ReadOnlyMemory<float>)Enumerable.Range(0, 1000 + i).Select(_ => (float)random.NextDouble()).ToArray()))
            .ToList();
        var path = _directory.File("many.safetensors");
        SafetensorsWriter.Write(path, tensors);
        using var file = SafetensorsFile.Open(path);
        var sequential = new float[file.TotalElements];
        file.ReadConcatenated(0, sequential);

        const int Threads = 6;
        var failures = new List<string>();
        using var barrier = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var local = new Random(t);
            barrier.SignalAndWait();
            for (var i = 0; i < 300; i++)
            {
                var start = local.Next(sequential.Length);
                var window = new float[local.Next(sequential.Length - start + 1)];
                file.ReadConcatenated(start, window);
                if (!window.AsSpan().SequenceEqual(sequential.AsSpan(start, window.Length)))
                {
                    lock (failures)
                    {
                        failures.Add($"thread {t} read [{start}, {start + window.Length}) differently");
                    }
                }
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        Assert.Empty(failures);
        Assert.Equal(tensors.SelectMany(t => t.Item3.ToArray()).ToArray(), sequential);
    }

    private static uint[] Bits(float[] values) => values.Select(BitConverter.SingleToUInt32Bits).ToArray();
}
