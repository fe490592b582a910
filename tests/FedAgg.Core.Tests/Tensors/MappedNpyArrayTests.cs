using System.Runtime.InteropServices;
using FedAgg.Core.Tensors;

namespace FedAgg.Core.Tests.Tensors;

public sealed class MappedNpyArrayTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Open_HandBuiltFloat32_ExposesHeaderAndValues()
    {
        var path = _directory.File("a.npy");
        File.WriteAllBytes(path, NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(2, 3)"), NpyTestFiles.Float32Bytes(1, 2, 3, -4, 0.5f, float.MaxValue)));

        using var array = MappedNpyArray.Open(path);
        var values = new float[6];
        array.Read(0, values);

        Assert.Equal(path, array.Path);
        Assert.Equal(6, array.Length);
        Assert.Equal([2L, 3L], array.Header.Shape);
        Assert.Equal([1, 2, 3, -4, 0.5f, float.MaxValue], values);
    }

    [Fact]
    public void Read_EveryFloat16Pattern_WidensExactly()
    {
        var patterns = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var path = _directory.File("all.npy");
        File.WriteAllBytes(path, NpyTestFiles.HandBuilt(2, NpyTestFiles.Dict("<f2", "(65536,)"), NpyTestFiles.UInt16Bytes(patterns)));

        using var array = MappedNpyArray.Open(path);
        var values = new float[array.Length];
        array.Read(0, values);

        Assert.Equal(TensorDType.Float16, array.Header.DType);
        for (var i = 0; i < patterns.Length; i++)
        {
            var expected = NpyTestFiles.HalfValue(patterns[i]);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(values[i]), $"pattern 0x{i:X4} should widen to NaN, got {values[i]}");
            }
            else
            {
                Assert.True(
                    BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(values[i]),
                    $"pattern 0x{i:X4}: expected {expected} got {values[i]}");
            }
        }
    }

    [Fact]
    public void Read_SubRanges_MatchWholeRead()
    {
        var values = Enumerable.Range(0, 100).Select(i => i * 1.5f).ToArray();
        var path = _directory.File("r.npy");
        NpyFile.WriteFloat32(path, values);
        using var array = MappedNpyArray.Open(path);

        for (var start = 0; start <= 100; start += 7)
        {
            for (var count = 0; start + count <= 100; count += 13)
            {
                var window = new float[count];
                array.Read(start, window);
                Assert.Equal(values.AsSpan(start, count).ToArray(), window);
            }
        }
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, 11)]
    [InlineData(10L, 1)]
    [InlineData(11L, 0)]
    [InlineData(long.MaxValue, 1)]
    [InlineData(long.MinValue, 0)]
    public void Read_RangeOutsideArray_ThrowsArgumentOutOfRange(long start, int count)
    {
        var path = _directory.File("ten.npy");
        NpyFile.WriteFloat32(path, new float[10]);
        using var array = MappedNpyArray.Open(path);

        Assert.Throws<ArgumentOutOfRangeException>(() => array.Read(start, new float[count]));
    }

    [Fact]
    public void Read_EmptyRangeAtEnd_ReadsNothing()
    {
        var path = _directory.File("ten.npy");
        NpyFile.WriteFloat32(path, new float[10]);
        using var array = MappedNpyArray.Open(path);

        array.Read(10, Span<float>.Empty);
    }

    [Fact]
    public void Read_AfterDispose_ThrowsObjectDisposed()
    {
        var path = _directory.File("d.npy");
        NpyFile.WriteFloat32(path, [1f, 2f]);
        var array = MappedNpyArray.Open(path);
        array.Dispose();

        Assert.Throws<ObjectDisposedException>(() => array.Read(0, new float[1]));
        array.Dispose();
    }

    public static TheoryData<string, byte[], string> MalformedFiles()
    {
        var header = NpyHeader.Build(TensorDType.Float32, [3]);
        var data = NpyTestFiles.Float32Bytes(1, 2, 3);
        return new TheoryData<string, byte[], string>
        {
            { "empty file", [], "truncated header" },
            { "bad magic", [.. "PK\u0003\u0004"u8, .. header[4..], .. data], "bad magic" },
            { "truncated data", [.. header, .. data[..11]], "truncated data: expected 140 bytes (128-byte header + 3 × 4-byte elements) but the file has 139" },
            { "header only", header, "truncated data: expected 140 bytes" },
            { "trailing data", [.. header, .. data, 0], "trailing data: expected 140 bytes (128-byte header + 3 × 4-byte elements) but the file has 141" },
            { "fortran 2-D", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(1, 3)", "True"), data), "fortran_order is True for a 2-dimensional array" },
            { "big-endian", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict(">f4", "(3,)"), data), "big-endian not supported" },
            { "float64", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f8", "(3,)"), [.. data, .. data]), "unsupported descr '<f8'" },
            { "float16 truncated", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f2", "(3,)"), [0, 0, 0, 0, 0]), "truncated data" },
            { "huge shape", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(1000000000000,)"), data), "truncated data: expected 4000000000128 bytes" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Open_MalformedFile_ThrowsTensorFormatExceptionNamingFileAndProblem(string scenario, byte[] bytes, string problem)
    {
        var path = _directory.File("bad.npy");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(path));

        Assert.True(e.Message.Contains(problem, StringComparison.Ordinal), $"{scenario}: '{e.Message}' should contain '{problem}'");
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FortranOrderOneDimensional_Accepted()
    {
        var path = _directory.File("f1.npy");
        File.WriteAllBytes(path, NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(2,)", "True"), NpyTestFiles.Float32Bytes(5, 6)));

        using var array = MappedNpyArray.Open(path);
        var values = new float[2];
        array.Read(0, values);

        Assert.True(array.Header.FortranOrder);
        Assert.Equal([5f, 6f], values);
    }

    [Theory]
    [InlineData(TensorDType.Float32)]
    [InlineData(TensorDType.Float16)]
    public void Open_TruncatedAtEveryByteOffset_ThrowsTensorFormatException(TensorDType dtype)
    {
        var path = _directory.File("full.npy");
        if (dtype == TensorDType.Float32)
        {
            NpyFile.WriteFloat32(path, [1f, -2f, 3.5f], [3]);
        }
        else
        {
            NpyFile.WriteFloat16(path, [(Half)1, (Half)(-2), (Half)3.5]);
        }

        var bytes = File.ReadAllBytes(path);
        var truncated = _directory.File("truncated.npy");
        for (var length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(truncated, bytes[..length]);
            var e = Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(truncated));
            Assert.Contains(length < 128 ? "truncated header" : "truncated data", e.Message, StringComparison.Ordinal);
        }

        using var whole = MappedNpyArray.Open(path);
        Assert.Equal(3, whole.Length);
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => MappedNpyArray.Open(_directory.File("missing.npy")));
    }

    [Theory]
    [InlineData(TensorDType.Float32)]
    [InlineData(TensorDType.Float16)]
    public void Read_ManyThreadsAtOnce_MatchesSequentialRead(TensorDType dtype)
    {
        const int Length = 1 << 20;
        var random = new Random(20240501);
        var path = _directory.File("big.npy");
        if (dtype == TensorDType.Float32)
        {
            NpyFile.WriteFloat32(path, Enumerable.Range(0, Length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
        }
        else
        {
            NpyFile.WriteFloat16(path, Enumerable.Range(0, Length).Select(_ => (Half)(random.NextDouble() - 0.5)).ToArray());
        }

        using var array = MappedNpyArray.Open(path);
        var sequential = new float[Length];
        array.Read(0, sequential);

        const int Threads = 8;
        var failures = new List<string>();
        using var barrier = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var local = new Random(t);
            barrier.SignalAndWait();
            for (var i = 0; i < 200; i++)
            {
                var start = local.Next(Length);
                var window = new float[local.Next(Length - start + 1)];
                array.Read(start, window);
                if (!MemoryMarshal.AsBytes(window.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(sequential.AsSpan(start, window.Length))))
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
    }
}
