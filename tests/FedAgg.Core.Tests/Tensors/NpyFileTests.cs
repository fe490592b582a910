using System.Runtime.InteropServices;
using FedAgg.Core.Tensors;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Core.Tests.Tensors;

public sealed class NpyFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<long[]> Shapes => [[0], [1], [7], [3, 4], []];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WriteFloat32_ThenReadFloat32_RoundTripsBitsAndShape(long[] shape)
    {
        var count = (int)shape.Aggregate(1L, (a, b) => a * b);
        float[] specials = [0f, -0f, 1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, float.MaxValue, -1e-40f, 3.25f, -7f, 1e30f];
        var values = Enumerable.Range(0, count).Select(i => specials[i % specials.Length]).ToArray();
        var path = _directory.File("f32.npy");

        NpyFile.WriteFloat32(path, values, shape);
        var read = NpyFile.ReadFloat32(path);
        using var array = MappedNpyArray.Open(path);

        Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), MemoryMarshal.AsBytes(read.AsSpan()).ToArray());
        Assert.Equal(shape, array.Header.Shape);
        Assert.Equal(TensorDType.Float32, array.Header.DType);
        Assert.Equal(new FileInfo(path).Length, array.Header.DataOffset + (4L * count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void WriteFloat16_ThenReadFloat32_WidensEachValue(int count)
    {
        Half[] specials = [(Half)0, (Half)(-0.0f), (Half)1, Half.MaxValue, Half.Epsilon, Half.NegativeInfinity, (Half)(-3.5f)];
        var values = specials[..count];
        var path = _directory.File("f16.npy");

        NpyFile.WriteFloat16(path, values);
        var read = NpyFile.ReadFloat32(path);
        using var array = MappedNpyArray.Open(path);

        Assert.Equal(values.Select(v => NpyTestFiles.HalfValue(BitConverter.HalfToUInt16Bits(v))).ToArray(), read);
        Assert.Equal([(long)count], array.Header.Shape);
        Assert.Equal(TensorDType.Float16, array.Header.DType);
    }

    [Fact]
    public void WriteFloat32_DefaultShape_IsOneDimensional()
    {
        var path = _directory.File("d.npy");

        NpyFile.WriteFloat32(path, [1f, 2f, 3f]);
        using var array = MappedNpyArray.Open(path);

        Assert.Equal([3L], array.Header.Shape);
    }

    [Fact]
    public void WriteFloat32_ShapeDisagreesWithValues_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => NpyFile.WriteFloat32(_directory.File("x.npy"), [1f, 2f, 3f], [2, 2]));
        Assert.False(File.Exists(_directory.File("x.npy")));
    }

    [Fact]
    public void ReadFloat32_FortranTwoDimensional_ThrowsTensorFormatException()
    {
        var path = _directory.File("f.npy");
        File.WriteAllBytes(path, NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(2, 2)", "True"), NpyTestFiles.Float32Bytes(1, 2, 3, 4)));

        var e = Assert.Throws<TensorFormatException>(() => NpyFile.ReadFloat32(path));

        Assert.Contains("fortran_order", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteFloat32_RandomBitPatterns_RoundTripExactly()
    {
        var gen = Gen.Choose(int.MinValue, int.MaxValue).Select(BitConverter.Int32BitsToSingle).ArrayOf();
        var path = _directory.File("p.npy");
        var property = Prop.ForAll(gen.ToArbitrary(), values =>
        {
            NpyFile.WriteFloat32(path, values);
            var read = NpyFile.ReadFloat32(path);
            return MemoryMarshal.AsBytes(read.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(values.AsSpan()));
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
