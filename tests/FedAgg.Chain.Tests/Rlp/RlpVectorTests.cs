using System.Numerics;
using System.Text;
using FedAgg.Chain.Rlp;

namespace FedAgg.Chain.Tests.Rlp;

/// <summary>The classic ethereum/tests RLPTests vectors (rlptest.json and invalidRLPTest.json).</summary>
public sealed class RlpVectorTests
{
    private const string Lorem1024 = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Curabitur mauris magna, suscipit sed vehicula non, iaculis faucibus tortor. Proin suscipit ultricies malesuada. Duis tortor elit, dictum quis tristique eu, ultrices at risus. Morbi a est imperdiet mi ullamcorper aliquet suscipit nec lorem. Aenean quis leo mollis, vulputate elit varius, consequat enim. Nulla ultrices turpis justo, et posuere urna consectetur nec. Proin non convallis metus. Donec tempor ipsum in mauris congue sollicitudin. Vestibulum ante ipsum primis in faucibus orci luctus et ultrices posuere cubilia Curae; Suspendisse convallis sem vel massa faucibus, eget lacinia lacus tempor. Nulla quis ultricies purus. Proin auctor rhoncus nibh condimentum mollis. Aliquam consequat enim at metus luctus, a eleifend purus egestas. Curabitur at nibh metus. Nam bibendum, neque at auctor tristique, lorem libero aliquet arcu, non interdum tellus lectus sit amet eros. Cras rhoncus, metus ac ornare cursus, dolor justo ultrices metus, at ullamcorper volutpat";

    public static TheoryData<string, string> ValidVectors()
    {
        var data = new TheoryData<string, string>
        {
            { "emptystring", "80" },
            { "bytestring00", "00" },
            { "bytestring01", "01" },
            { "bytestring7F", "7f" },
            { "shortstring", "83646f67" },
            { "shortstring2", "b74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c69" },
            { "longstring", "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974" },
            { "longstring2", "b90400" + Convert.ToHexStringLower(Encoding.ASCII.GetBytes(Lorem1024)) },
            { "zero", "80" },
            { "smallint", "01" },
            { "smallint2", "10" },
            { "smallint3", "4f" },
            { "smallint4", "7f" },
            { "mediumint1", "8180" },
            { "mediumint2", "8203e8" },
            { "mediumint3", "830186a0" },
            { "mediumint4", "8f102030405060708090a0b0c0d0e0f2" },
            { "mediumint5", "9c0100020003000400050006000700080009000a000b000c000d000e01" },
            { "emptylist", "c0" },
            { "stringlist", "cc83646f6783676f6483636174" },
            { "multilist", "c6827a77c10401" },
            { "shortListMax1", "f784617364668471776572847a78637684617364668471776572847a78637684617364668471776572847a78637684617364668471776572" },
            { "longList1", "f840" + string.Concat(Enumerable.Repeat("cf84617364668471776572847a786376", 4)) },
            { "longList2", "f90200" + string.Concat(Enumerable.Repeat("cf84617364668471776572847a786376", 32)) },
            { "listsoflists", "c4c2c0c0c0" },
            { "listsoflists2", "c7c0c1c0c3c0c1c0" },
            { "dictTest1", "ecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33ca846b6579348476616c34" },
            { "bigint", "a1010000000000000000000000000000000000000000000000000000000000000000" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(ValidVectors))]
    public void Encode_RlptestVectors_ProducesTheExpectedBytes(string name, string expectedHex)
    {
        var item = Input(name);

        Assert.Equal(expectedHex, Convert.ToHexStringLower(item.Encode()));
        Assert.Equal(item, RlpItem.Decode(Convert.FromHexString(expectedHex)));
    }

    [Theory]
    [InlineData("int32Overflow", "bf0f000000000000021111")]
    [InlineData("int32Overflow2", "ff0f000000000000021111")]
    [InlineData("wrongSizeList", "f80180")]
    [InlineData("wrongSizeList2", "f80100")]
    [InlineData("incorrectLengthInArray", "b9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df0")]
    [InlineData("randomRLP", "f861f83eb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df027b90015002d5ef8325ae4d034df55d4b58d0dfba64d61ddd17be00000b9001a00dae30907045a2f66fa36f2bb8aa9029cbb0b8a7b3b5c435ab331")]
    [InlineData("bytesShouldBeSingleByte00", "8100")]
    [InlineData("bytesShouldBeSingleByte01", "8101")]
    [InlineData("bytesShouldBeSingleByte7F", "817F")]
    [InlineData("leadingZerosInLongLengthArray1", "b90040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")]
    [InlineData("leadingZerosInLongLengthArray2", "b800")]
    [InlineData("leadingZerosInLongLengthList1", "fb00000040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")]
    [InlineData("leadingZerosInLongLengthList2", "f800")]
    [InlineData("nonOptimalLongLengthArray1", "b81000112233445566778899aabbccddeeff")]
    [InlineData("nonOptimalLongLengthArray2", "b801ff")]
    [InlineData("nonOptimalLongLengthList1", "f810000102030405060708090a0b0c0d0e0f")]
    [InlineData("nonOptimalLongLengthList2", "f803112233")]
    public void Decode_InvalidRlpTestVectors_ThrowsRlpException(string name, string hex)
    {
        var error = Record.Exception(() => RlpItem.Decode(Convert.FromHexString(hex)));

        Assert.True(error is RlpException, $"{name}: expected RlpException, got {error?.GetType().Name ?? "success"}");
    }

    [Fact]
    public void Decode_LeadingZeroInteger_RejectedWhenReadAsInteger()
    {
        var error = Assert.Throws<RlpException>(() => new RlpReader(Convert.FromHexString("820001")).ReadUInt64());

        Assert.Equal(0, error.Offset);
        Assert.Contains("leading zero", error.Message, StringComparison.Ordinal);
        Assert.Throws<RlpException>(() => new RlpReader([0x00]).ReadUInt64());
        Assert.Equal(0x0001, RlpItem.Decode(Convert.FromHexString("820001")).Bytes.Span[1]);
    }

    [Fact]
    public void Decode_DeepNesting_RejectedBeyondTheLimit()
    {
        var item = RlpItem.List();
        for (var i = 0; i < 40; i++)
        {
            item = RlpItem.List(item);
        }

        var encoded = item.Encode();

        var error = Assert.Throws<RlpException>(() => RlpItem.Decode(encoded));
        Assert.Contains("deeper", error.Message, StringComparison.Ordinal);
        Assert.Equal(item, RlpItem.Decode(encoded, maxDepth: 64));
    }

    [Fact]
    public void ReadUInt64_NineBytes_Rejected()
    {
        var encoded = RlpItem.FromInteger(BigInteger.One << 64).Encode();

        Assert.Throws<RlpException>(() => new RlpReader(encoded).ReadUInt64());
        Assert.Equal(BigInteger.One << 64, new RlpReader(encoded).ReadBigInteger());
    }

    private static RlpItem Input(string name) => name switch
    {
        "emptystring" => Str(string.Empty),
        "bytestring00" => RlpItem.FromBytes([0x00]),
        "bytestring01" => RlpItem.FromBytes([0x01]),
        "bytestring7F" => RlpItem.FromBytes([0x7F]),
        "shortstring" => Str("dog"),
        "shortstring2" => Str("Lorem ipsum dolor sit amet, consectetur adipisicing eli"),
        "longstring" => Str("Lorem ipsum dolor sit amet, consectetur adipisicing elit"),
        "longstring2" => Str(Lorem1024),
        "zero" => RlpItem.FromInteger(0UL),
        "smallint" => RlpItem.FromInteger(1UL),
        "smallint2" => RlpItem.FromInteger(16UL),
        "smallint3" => RlpItem.FromInteger(79UL),
        "smallint4" => RlpItem.FromInteger(127UL),
        "mediumint1" => RlpItem.FromInteger(128UL),
        "mediumint2" => RlpItem.FromInteger(1000UL),
        "mediumint3" => RlpItem.FromInteger(100000UL),
        "mediumint4" => RlpItem.FromInteger(BigInteger.Parse("83729609699884896815286331701780722")),
        "mediumint5" => RlpItem.FromInteger(BigInteger.Parse("105315505618206987246253880190783558935785933862974822347068935681")),
        "emptylist" => RlpItem.List(),
        "stringlist" => RlpItem.List(Str("dog"), Str("god"), Str("cat")),
        "multilist" => RlpItem.List(Str("zw"), RlpItem.List(RlpItem.FromInteger(4UL)), RlpItem.FromInteger(1UL)),
        "shortListMax1" => RlpItem.List([.. "asdf qwer zxcv asdf qwer zxcv asdf qwer zxcv asdf qwer".Split(' ').Select(Str)]),
        "longList1" => RlpItem.List([.. Enumerable.Repeat(0, 4).Select(_ => RlpItem.List(Str("asdf"), Str("qwer"), Str("zxcv")))]),
        "longList2" => RlpItem.List([.. Enumerable.Repeat(0, 32).Select(_ => RlpItem.List(Str("asdf"), Str("qwer"), Str("zxcv")))]),
        "listsoflists" => RlpItem.List(RlpItem.List(RlpItem.List(), RlpItem.List()), RlpItem.List()),
        "listsoflists2" => RlpItem.List(RlpItem.List(), RlpItem.List(RlpItem.List()), RlpItem.List(RlpItem.List(), RlpItem.List(RlpItem.List()))),
        "dictTest1" => RlpItem.List([.. Enumerable.Range(1, 4).Select(i => RlpItem.List(Str($"key{i}"), Str($"val{i}")))]),
        "bigint" => RlpItem.FromInteger(BigInteger.Parse("115792089237316195423570985008687907853269984665640564039457584007913129639936")),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static RlpItem Str(string text) => RlpItem.FromBytes(Encoding.ASCII.GetBytes(text));
}
