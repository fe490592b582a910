using System.Buffers;
using System.Numerics;
using FedAgg.Core.Merkle;

namespace FedAgg.Core.Tests.Merkle;

public class AbiEncodingTests
{
    private static readonly BigInteger TwoTo256 = BigInteger.One << 256;

    [Fact]
    public void WriteAddress_TwentyBytes_LeftPaddedWithZeros()
    {
        var address = Convert.FromHexString("5B38Da6a701c568545dCfcB03FcB875f56beddC4");
        var word = new byte[32];
        Array.Fill(word, (byte)0xEE);

        AbiEncoding.WriteAddress(address, word);

        Assert.Equal("0000000000000000000000005b38da6a701c568545dcfcb03fcb875f56beddc4", Convert.ToHexStringLower(word));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    [InlineData(32)]
    public void WriteAddress_WrongLength_ThrowsArgumentException(int length)
    {
        Assert.Throws<ArgumentException>(() => AbiEncoding.WriteAddress(new byte[length], new byte[32]));
        Assert.Throws<ArgumentException>(() => AbiValue.FromAddress(new byte[length]));
    }

    [Theory]
    [InlineData("0", "0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("1", "0000000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("255", "00000000000000000000000000000000000000000000000000000000000000ff")]
    [InlineData("256", "0000000000000000000000000000000000000000000000000000000000000100")]
    [InlineData("5000000000000000000", "0000000000000000000000000000000000000000000000004563918244f40000")]
    [InlineData("115792089237316195423570985008687907853269984665640564039457584007913129639935", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void WriteUint256_Value_BigEndianWord(string value, string expectedHex)
    {
        var word = new byte[32];
        Array.Fill(word, (byte)0xEE);

        AbiEncoding.WriteUint256(BigInteger.Parse(value), word);

        Assert.Equal(expectedHex, Convert.ToHexStringLower(word));
        Assert.Equal(BigInteger.Parse(value), AbiValue.FromUint256(BigInteger.Parse(value)).ToBigInteger());
    }

    [Fact]
    public void WriteUint256_NegativeOrTooLarge_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiEncoding.WriteUint256(BigInteger.MinusOne, new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiEncoding.WriteUint256(TwoTo256, new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromUint256(TwoTo256 + 12345));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromUint(256, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromUint(1, 12));
    }

    [Fact]
    public void WriteUint64AndUint32_Max_LowBytesSet()
    {
        Assert.Equal(new string('0', 48) + "ffffffffffffffff", Convert.ToHexStringLower(AbiValue.FromUint64(ulong.MaxValue).Word.AsSpan()));
        Assert.Equal(new string('0', 56) + "deadbeef", Convert.ToHexStringLower(AbiValue.FromUint32(0xDEADBEEF).Word.AsSpan()));
        Assert.Equal(AbiValue.FromUint(ulong.MaxValue, 64), AbiValue.FromUint64(ulong.MaxValue));
        Assert.Equal(AbiType.Uint64, AbiValue.FromUint64(1).Type);
        Assert.Equal(AbiType.Uint32, AbiValue.FromUint32(1).Type);
    }

    [Theory]
    [InlineData("-1", 8, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("-128", 8, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80")]
    [InlineData("127", 8, "000000000000000000000000000000000000000000000000000000000000007f")]
    [InlineData("-256", 256, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00")]
    public void WriteInt_Value_SignExtendedWord(string value, int bits, string expectedHex)
    {
        var abiValue = AbiValue.FromInt(BigInteger.Parse(value), bits);

        Assert.Equal(expectedHex, Convert.ToHexStringLower(abiValue.Word.AsSpan()));
        Assert.Equal(BigInteger.Parse(value), abiValue.ToBigInteger());
        Assert.Equal(value, abiValue.ToString());
    }

    [Fact]
    public void WriteInt_OutOfRange_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromInt(128, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromInt(-129, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbiValue.FromInt(BigInteger.One << 255, 256));
    }

    [Fact]
    public void WriteFixedBytes_ShortValue_RightPadded()
    {
        var value = AbiValue.FromFixedBytes([0xDE, 0xAD, 0xBE, 0xEF]);

        Assert.Equal("deadbeef" + new string('0', 56), Convert.ToHexStringLower(value.Word.AsSpan()));
        Assert.Equal(AbiType.FixedBytes(4), value.Type);
        Assert.Equal("0xdeadbeef", value.ToString());
        Assert.Throws<ArgumentException>(() => AbiValue.FromFixedBytes([]));
        Assert.Throws<ArgumentException>(() => AbiValue.FromFixedBytes(new byte[33]));
        Assert.Throws<ArgumentException>(() => AbiValue.FromBytes32(new byte[20]));
    }

    [Fact]
    public void Encode_Tuple_ConcatenatesWords()
    {
        var address = Convert.FromHexString("1111111111111111111111111111111111111111");
        AbiValue[] tuple = [AbiValue.FromAddress(address), AbiValue.FromUint256(5), AbiValue.FromBool(true)];

        var encoded = AbiEncoding.Encode(tuple);
        var writer = new ArrayBufferWriter<byte>();
        var written = AbiEncoding.Encode(tuple, writer);

        Assert.Equal(
            "0000000000000000000000001111111111111111111111111111111111111111"
            + "0000000000000000000000000000000000000000000000000000000000000005"
            + "0000000000000000000000000000000000000000000000000000000000000001",
            Convert.ToHexStringLower(encoded));
        Assert.Equal(96, written);
        Assert.Equal(encoded, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Encode_DefaultValueOrShortDestination_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => AbiEncoding.Encode([AbiValue.FromBool(true), default]));
        Assert.Throws<ArgumentException>(() => AbiEncoding.Encode([AbiValue.FromBool(true)], new byte[31]));
        Assert.Throws<ArgumentException>(() => AbiEncoding.WriteUint64(1, new byte[31]));
    }

    [Theory]
    [InlineData("address", AbiTypeKind.Address, "address")]
    [InlineData("bool", AbiTypeKind.Bool, "bool")]
    [InlineData("uint", AbiTypeKind.Uint, "uint256")]
    [InlineData("uint8", AbiTypeKind.Uint, "uint8")]
    [InlineData("uint256", AbiTypeKind.Uint, "uint256")]
    [InlineData("int", AbiTypeKind.Int, "int256")]
    [InlineData("int64", AbiTypeKind.Int, "int64")]
    [InlineData("bytes1", AbiTypeKind.FixedBytes, "bytes1")]
    [InlineData("bytes32", AbiTypeKind.FixedBytes, "bytes32")]
    public void AbiTypeParse_SupportedName_CanonicalName(string name, AbiTypeKind kind, string canonical)
    {
        var type = AbiType.Parse(name);

        Assert.Equal(kind, type.Kind);
        Assert.Equal(canonical, type.ToString());
        Assert.Equal(type, AbiType.Parse(canonical));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bytes")]
    [InlineData("string")]
    [InlineData("uint7")]
    [InlineData("uint264")]
    [InlineData("uint08")]
    [InlineData("bytes0")]
    [InlineData("bytes33")]
    [InlineData("address[]")]
    [InlineData("(address,uint256)")]
    [InlineData("Address")]
    public void AbiTypeParse_Unsupported_ThrowsFormatException(string name)
    {
        Assert.False(AbiType.TryParse(name, out _));
        Assert.Throws<FormatException>(() => AbiType.Parse(name));
    }

    [Theory]
    [InlineData("address", "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "0x5b38da6a701c568545dcfcb03fcb875f56beddc4")]
    [InlineData("uint256", "0x10", "16")]
    [InlineData("uint256", "0xff", "255")]
    [InlineData("uint256", "007", "7")]
    [InlineData("int8", "-128", "-128")]
    [InlineData("bool", "true", "true")]
    [InlineData("bytes4", "0xDEADbeef", "0xdeadbeef")]
    public void AbiValueParse_AcceptedText_CanonicalText(string type, string text, string canonical)
    {
        var value = AbiValue.Parse(AbiType.Parse(type), text);

        Assert.Equal(canonical, value.ToString());
        Assert.Equal(value, AbiValue.Parse(AbiType.Parse(type), canonical));
    }

    [Theory]
    [InlineData("address", "5b38da6a701c568545dcfcb03fcb875f56beddc4")] // no 0x: OpenZeppelin would read it as UTF-8
    [InlineData("address", "0x5b38da6a701c568545dcfcb03fcb875f56beddc")]
    [InlineData("bytes32", "0x1234")] // OpenZeppelin would right-pad it
    [InlineData("uint256", "-1")]
    [InlineData("uint256", "115792089237316195423570985008687907853269984665640564039457584007913129639936")]
    [InlineData("uint8", "256")]
    [InlineData("uint256", "")]
    [InlineData("uint256", "0x")]
    [InlineData("uint256", "1.5")]
    [InlineData("uint256", " 1")]
    [InlineData("uint256", "+1")]
    [InlineData("int8", "--1")]
    [InlineData("bool", "1")]
    public void AbiValueParse_RejectedText_ThrowsFormatException(string type, string text)
    {
        Assert.False(AbiValue.TryParse(AbiType.Parse(type), text, out _));
        Assert.Throws<FormatException>(() => AbiValue.Parse(AbiType.Parse(type), text));
    }

    [Fact]
    public void AbiValueParse_HugeNumber_RejectedQuickly()
    {
        Assert.Throws<FormatException>(() => AbiValue.Parse(AbiType.Uint256, new string('9', 1_000_000)));
    }

    [Fact]
    public void ToBigInteger_FixedBytes_ThrowsInvalidOperation()
    {
        Assert.Throws<InvalidOperationException>(() => AbiValue.FromBytes32(Bytes32.Zero).ToBigInteger());
    }
}
