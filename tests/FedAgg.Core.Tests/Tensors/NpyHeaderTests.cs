using System.Text;
using FedAgg.Core.Tensors;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Core.Tests.Tensors;

public class NpyHeaderTests
{
    public static TheoryData<int> Versions => [1, 2, 3];

    [Theory]
    [MemberData(nameof(Versions))]
    public void Parse_HandBuiltHeader_ReadsEveryField(int major)
    {
        var bytes = NpyTestFiles.HandBuilt(major, NpyTestFiles.Dict("<f4", "(3, 4)"));

        var header = NpyHeader.Parse(bytes, "x.npy");

        Assert.Equal(TensorDType.Float32, header.DType);
        Assert.Equal([3L, 4L], header.Shape);
        Assert.False(header.FortranOrder);
        Assert.Equal(bytes.Length, header.DataOffset);
        Assert.Equal(12, header.ElementCount);
        Assert.Equal(0, header.DataOffset % 64);
    }

    [Theory]
    [InlineData("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", TensorDType.Float16, new long[] { 5 })]
    [InlineData("{\"shape\": (5,), \"descr\": \"<f4\", \"fortran_order\": False}", TensorDType.Float32, new long[] { 5 })]
    [InlineData("  {'fortran_order':False,'shape':(2,3,4),'descr':'<f4'}  ", TensorDType.Float32, new long[] { 2, 3, 4 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': ( 2 , 3 , ), }", TensorDType.Float32, new long[] { 2, 3 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", TensorDType.Float32, new long[0])]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", TensorDType.Float32, new long[] { 0 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0, 2), }", TensorDType.Float32, new long[] { 3, 0, 2 })]
    public void Parse_DictionaryVariants_ReadsShapeAndDType(string dict, TensorDType dtype, long[] shape)
    {
        var header = NpyHeader.Parse(NpyTestFiles.HandBuilt(1, dict));

        Assert.Equal(dtype, header.DType);
        Assert.Equal(shape, header.Shape);
        Assert.Equal(shape.Aggregate(1L, (a, b) => a * b), header.ElementCount);
    }

    [Fact]
    public void Parse_UnalignedHeader_DataOffsetFollowsHeader()
    {
        var bytes = NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(1,)"), align: false);

        var header = NpyHeader.Parse(bytes);

        Assert.Equal(bytes.Length, header.DataOffset);
        Assert.NotEqual(0, header.DataOffset % 64);
    }

    [Fact]
    public void Parse_FortranOrderTrue_ReportsFortranOrder()
    {
        var header = NpyHeader.Parse(NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3, 4)", "True")));

        Assert.True(header.FortranOrder);
    }

    public static TheoryData<string, byte[], string> MalformedHeaders()
    {
        var valid = NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3,)"));
        var badMagic = (byte[])valid.Clone();
        badMagic[5] = (byte)'Z';
        var version4 = (byte[])valid.Clone();
        version4[6] = 4;
        var minor1 = (byte[])valid.Clone();
        minor1[7] = 1;
        byte[] absurd = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0xFF, 0xFF, 0xFF, 0x7F, (byte)'{'];
        byte[] justOverLimit = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 3, 0, 0x01, 0x00, 0x10, 0x00];
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "truncated header" },
            { "bad magic", badMagic, "bad magic" },
            { "text file", Encoding.ASCII.GetBytes("hello, world, this is not numpy"), "bad magic" },
            { "magic only", valid[..6], "truncated header" },
            { "no length field", valid[..9], "truncated header" },
            { "header cut short", valid[..40], "truncated header" },
            { "version 4.0", version4, "unsupported .npy format version 4.0" },
            { "version 1.1", minor1, "unsupported .npy format version 1.1" },
            { "header length absurd", absurd, "header length 2147483647 bytes exceeds the limit" },
            { "header length just over 1 MiB", justOverLimit, "header length 1048577 bytes exceeds the limit" },
            { "float64", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f8", "(3,)")), "unsupported descr '<f8'" },
            { "int32", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<i4", "(3,)")), "unsupported descr '<i4'" },
            { "bytes", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("|u1", "(3,)")), "unsupported descr '|u1'" },
            { "big-endian f4", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict(">f4", "(3,)")), "big-endian not supported" },
            { "big-endian f2", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict(">f2", "(3,)")), "big-endian not supported" },
            { "structured", NpyTestFiles.HandBuilt(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }"), "structured dtypes" },
            { "missing shape", NpyTestFiles.HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, }"), "missing key 'shape'" },
            { "missing descr", NpyTestFiles.HandBuilt(1, "{'fortran_order': False, 'shape': (3,), }"), "missing key 'descr'" },
            { "duplicate key", NpyTestFiles.HandBuilt(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), "duplicate key 'descr'" },
            { "extra key", NpyTestFiles.HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1, }"), "unexpected key 'x'" },
            { "shape not a tuple", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3)")), "not a tuple" },
            { "shape a list", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "[3]")), "expected a tuple" },
            { "negative dimension", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(-3,)")), "non-negative integer dimension" },
            { "float dimension", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3.0,)")), "expected ',' or ')'" },
            { "lowercase bool", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3,)", "false")), "True or False" },
            { "dimension overflow", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(99999999999999999999,)")), "too large" },
            { "element count overflow", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(4294967296, 4294967296, 4)")), "more elements than a file can hold" },
            { "garbage after dict", NpyTestFiles.HandBuilt(1, NpyTestFiles.Dict("<f4", "(3,)") + " x"), "after the header dictionary" },
            { "unterminated string", NpyTestFiles.HandBuilt(1, "{'descr: <f4}"), "unterminated string" },
            { "not a dict", NpyTestFiles.HandBuilt(1, "'<f4'"), "expected '{'" },
            { "empty dict text", NpyTestFiles.HandBuilt(1, ""), "expected '{'" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Parse_MalformedHeader_ThrowsTensorFormatExceptionNamingProblem(string scenario, byte[] bytes, string problem)
    {
        var e = Assert.Throws<TensorFormatException>(() => NpyHeader.Parse(bytes, "model.npy"));

        Assert.True(e.Message.Contains(problem, StringComparison.Ordinal), $"{scenario}: '{e.Message}' should contain '{problem}'");
        Assert.StartsWith("model.npy: ", e.Message, StringComparison.Ordinal);
        Assert.Equal("model.npy", e.FileName);
    }

    [Fact]
    public void Parse_NoFileName_MessageIsTheProblem()
    {
        var e = Assert.Throws<TensorFormatException>(() => NpyHeader.Parse("NUMPY!!!!!"u8));

        Assert.StartsWith("bad magic", e.Message, StringComparison.Ordinal);
        Assert.Null(e.FileName);
    }

    [Fact]
    public void Parse_EveryTruncation_ThrowsTensorFormatException()
    {
        var bytes = NpyHeader.Build(TensorDType.Float32, [3, 4]);

        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<TensorFormatException>(() => NpyHeader.Parse(bytes.AsSpan(0, length)));
            Assert.Contains("truncated header", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_RandomByteMutations_SucceedOrThrowTensorFormatException()
    {
        var valid = NpyHeader.Build(TensorDType.Float16, [12, 34]);
        var mutation = Gen.Choose(0, (valid.Length * 256) - 1).Select(x => (Position: x / 256, Value: x % 256)).ArrayOf();
        var property = Prop.ForAll(mutation.ToArbitrary(), edits =>
        {
            var bytes = (byte[])valid.Clone();
            foreach (var (position, value) in edits)
            {
                bytes[position] = (byte)value;
            }

            try
            {
                var header = NpyHeader.Parse(bytes);
                return header.DataOffset <= bytes.Length;
            }
            catch (TensorFormatException)
            {
                return true;
            }
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(5000), property);
    }

    public static TheoryData<long[]> Shapes => [[0], [1], [7], [3, 4], [], [2, 0, 5], [123456789012]];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Build_Shape_ParsesBackIdentically(long[] shape)
    {
        var bytes = NpyHeader.Build(TensorDType.Float32, shape);

        var header = NpyHeader.Parse(bytes);

        Assert.Equal(shape, header.Shape);
        Assert.Equal(TensorDType.Float32, header.DType);
        Assert.False(header.FortranOrder);
        Assert.Equal(bytes.Length, header.DataOffset);
        Assert.Equal(0, bytes.Length % 64);
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.Equal(1, bytes[6]);
    }

    [Fact]
    public void Build_TwoDimensionalFloat32_MatchesNumpyText()
    {
        var bytes = NpyHeader.Build(TensorDType.Float32, [3, 4]);

        const string Dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        var expected = "\u0093NUMPY\u0001\u0000\u0076\u0000" + Dict + new string(' ', 128 - 10 - Dict.Length - 1) + "\n";
        Assert.Equal(Encoding.Latin1.GetBytes(expected), bytes);
    }

    [Fact]
    public void Build_HeaderOver64KiB_UsesVersion2()
    {
        var shape = Enumerable.Repeat(1L, 30_000).ToArray();

        var bytes = NpyHeader.Build(TensorDType.Float16, shape);
        var header = NpyHeader.Parse(bytes);

        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, bytes.Length % 64);
        Assert.Equal(shape, header.Shape);
        Assert.Equal(TensorDType.Float16, header.DType);
        Assert.Equal(1, header.ElementCount);
    }

    [Fact]
    public void Build_BFloat16_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => NpyHeader.Build(TensorDType.BFloat16, [1]));
    }

    [Fact]
    public void Build_NegativeDimension_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NpyHeader.Build(TensorDType.Float32, [3, -1]));
    }
}
