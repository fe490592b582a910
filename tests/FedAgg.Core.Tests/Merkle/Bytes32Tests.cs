using FedAgg.Core.Merkle;

namespace FedAgg.Core.Tests.Merkle;

public class Bytes32Tests
{
    private const string SampleHex = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    [Fact]
    public void Parse_LowerUpperOrNoPrefix_SameBytesAndLowercaseText()
    {
        var lower = Bytes32.Parse(SampleHex);

        Assert.Equal(lower, Bytes32.Parse(SampleHex.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal)));
        Assert.Equal(lower, Bytes32.Parse(SampleHex[2..]));
        Assert.Equal(SampleHex, lower.ToString());
        Assert.Equal(Convert.FromHexString(SampleHex[2..]), lower.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeef")] // 63 digits
    [InlineData("0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00")] // 33 bytes
    [InlineData("0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeegg")]
    [InlineData(" 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")]
    public void TryParse_Malformed_ReturnsFalseAndParseThrowsFormatException(string text)
    {
        Assert.False(Bytes32.TryParse(text, out var value));
        Assert.Equal(default, value);
        Assert.Throws<FormatException>(() => Bytes32.Parse(text));
    }

    [Fact]
    public void Constructor_WrongLength_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new Bytes32(new byte[31]));
        Assert.Throws<ArgumentException>(() => new Bytes32(new byte[33]));
    }

    [Fact]
    public void CompareTo_DiffersInHighBit_OrdersUnsigned()
    {
        var small = new byte[32];
        small[0] = 0x7F;
        var large = new byte[32];
        large[0] = 0x80;

        Assert.True(new Bytes32(small) < new Bytes32(large));
        Assert.True(new Bytes32(large).CompareTo(new Bytes32(small)) > 0);
        Assert.True(Bytes32.Zero <= new Bytes32(small));
    }

    [Fact]
    public void CompareTo_RandomPairs_MatchesOrderOfHexText()
    {
        var random = new Random(11);
        for (var i = 0; i < 1000; i++)
        {
            var a = RandomBytes32(random);
            var b = RandomBytes32(random);
            if (i % 10 == 0)
            {
                // Long shared prefixes find comparisons that stop too early.
                var bytes = a.ToArray();
                bytes[31] ^= 1;
                b = new Bytes32(bytes);
            }

            Assert.Equal(Math.Sign(string.CompareOrdinal(a.ToString(), b.ToString())), Math.Sign(a.CompareTo(b)));
        }
    }

    [Fact]
    public void Equals_SameBytes_EqualWithEqualHashCodes()
    {
        var a = Bytes32.Parse(SampleHex);
        var b = new Bytes32(a.AsSpan());

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, Bytes32.Zero);
    }

    [Fact]
    public void TryFormat_ShortDestination_ReturnsFalse()
    {
        var value = Bytes32.Parse(SampleHex);

        Assert.False(value.TryFormat(new char[65], out var written, default, null));
        Assert.Equal(0, written);
        Assert.Equal(SampleHex, $"{value}");
    }

    internal static Bytes32 RandomBytes32(Random random)
    {
        Span<byte> bytes = stackalloc byte[32];
        random.NextBytes(bytes);
        return new Bytes32(bytes);
    }
}
