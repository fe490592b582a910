using FedAgg.Core.Codecs;

namespace FedAgg.Core.Tests.Codecs;

public sealed class TextCodecTests
{
    [Fact]
    public void Base58_RandomBytes_MatchesSimpleBaseBothWays()
    {
        var random = new Random(3);
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 60)];
            random.NextBytes(bytes);
            for (var z = 0; z < bytes.Length && random.Next(3) == 0; z++)
            {
                bytes[z] = 0;
            }

            var expected = SimpleBase.Base58.Bitcoin.Encode(bytes);
            Assert.Equal(expected, Base58.Encode(bytes));
            if (bytes.Length > 0)
            {
                Assert.Equal(bytes, Base58.TryDecode(expected));
            }
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("O")]
    [InlineData("I")]
    [InlineData("l")]
    [InlineData("abc def")]
    [InlineData("é")]
    [InlineData("")]
    public void Base58_TryDecode_Invalid_ReturnsNull(string text) => Assert.Null(Base58.TryDecode(text));

    [Fact]
    public void Base58_TryDecode_OverLong_ReturnsNull() => Assert.Null(Base58.TryDecode(new string('2', Base58.MaxEncodedLength + 1)));

    [Fact]
    public void Base32_RandomBytes_MatchesSimpleBaseBothWays()
    {
        var random = new Random(5);
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 50)];
            random.NextBytes(bytes);

            var expected = SimpleBase.Base32.Rfc4648.Encode(bytes, padding: false).ToLowerInvariant();
            Assert.Equal(expected, Base32.Encode(bytes));
            Assert.Equal(bytes, Base32.TryDecode(expected));
            Assert.Equal(bytes, Base32.TryDecode(expected.ToUpperInvariant()));
        }
    }

    [Theory]
    [InlineData("a")]
    [InlineData("abc")]
    [InlineData("abcdef")]
    [InlineData("ab1")]
    [InlineData("ab=")]
    [InlineData("ab")] // 'b' leaves non-zero padding bits
    public void Base32_TryDecode_Invalid_ReturnsNull(string text) => Assert.Null(Base32.TryDecode(text));

    [Fact]
    public void Hex_RoundTripAndInvalid()
    {
        Assert.Equal("0x00ff10", Hex.Encode([0x00, 0xFF, 0x10]));
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x10 }, Hex.TryDecode("0x00FF10"));
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x10 }, Hex.TryDecode("00ff10"));
        Assert.Null(Hex.TryDecode("0x0"));
        Assert.Null(Hex.TryDecode("0xzz"));
        Assert.Null(Hex.TryDecode("0x00ff", expectedLength: 3));
    }

    [Fact]
    public void UnsignedVarint_MatchesSpecExamplesAndRejectsNonMinimal()
    {
        // multiformats/unsigned-varint README examples.
        (ulong Value, byte[] Bytes)[] examples =
        [
            (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (255, [0xff, 0x01]), (300, [0xac, 0x02]), (16384, [0x80, 0x80, 0x01]),
        ];
        foreach (var (value, bytes) in examples)
        {
            var buffer = new byte[UnsignedVarint.MaxLength];
            Assert.Equal(bytes, buffer[..UnsignedVarint.Write(value, buffer)]);
            Assert.Equal(VarintStatus.Done, UnsignedVarint.TryRead(bytes, out var read, out var consumed));
            Assert.Equal((value, bytes.Length), (read, consumed));
            Assert.Equal(VarintStatus.NeedMoreData, UnsignedVarint.TryRead(bytes.AsSpan(0, bytes.Length - 1), out _, out _));
        }

        Assert.Equal(VarintStatus.Invalid, UnsignedVarint.TryRead([0x81, 0x00], out _, out _));
        Assert.Equal(VarintStatus.Invalid, UnsignedVarint.TryRead(Enumerable.Repeat((byte)0xff, 10).ToArray(), out _, out _));
        Assert.Equal(VarintStatus.Done, UnsignedVarint.TryRead([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], out var max, out _));
        Assert.Equal((1UL << 63) - 1, max);
    }
}
