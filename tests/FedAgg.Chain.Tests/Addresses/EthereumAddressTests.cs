using FedAgg.Chain.Crypto;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Primitives;

namespace FedAgg.Chain.Tests.Addresses;

public sealed class EthereumAddressTests
{
    // The examples in EIP-55 itself.
    public static TheoryData<string> Eip55Examples => new()
    {
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };

    [Theory]
    [MemberData(nameof(Eip55Examples))]
    public void ToString_Eip55Examples_ProducesTheChecksummedForm(string example)
    {
        var address = EthereumAddress.Parse(example.ToLowerInvariant());

        Assert.Equal(example, address.ToString());
        Assert.Equal(address, EthereumAddress.Parse(example));
        Assert.Equal(address, EthereumAddress.Parse("0x" + example[2..].ToUpperInvariant()));
    }

    [Fact]
    public void Parse_MixedCaseWithWrongChecksum_ThrowsNamingTheChecksum()
    {
        // One letter of a valid checksum flipped.
        var error = Assert.Throws<FormatException>(() => EthereumAddress.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));

        Assert.Contains("EIP-55", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg")]
    [InlineData(" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")]
    public void TryParse_Malformed_ReturnsFalseAndParseThrows(string text)
    {
        Assert.False(EthereumAddress.TryParse(text, out var address));
        Assert.Equal(EthereumAddress.Zero, address);
        Assert.Throws<FormatException>(() => EthereumAddress.Parse(text));
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse() => Assert.False(EthereumAddress.TryParse(null, out _));

    [Fact]
    public void FromBytes_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => EthereumAddress.FromBytes(new byte[19]));
        Assert.Throws<ArgumentException>(() => EthereumAddress.FromBytes(new byte[21]));
    }

    [Fact]
    public void Zero_IsDefaultAndAllZeros()
    {
        Assert.Equal(default, EthereumAddress.Zero);
        Assert.True(EthereumAddress.Zero.IsZero);
        Assert.Equal("0x0000000000000000000000000000000000000000", EthereumAddress.Zero.ToString());
        Assert.Equal(new byte[20], EthereumAddress.Zero.ToArray());
    }

    [Fact]
    public void Equality_SameBytes_EqualAndSameHash()
    {
        var a = EthereumAddress.Parse(Foundry.DevAddress0);
        var b = EthereumAddress.FromBytes(a.AsSpan());

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, EthereumAddress.Parse(Foundry.DevAddress1));
        Assert.Equal(Foundry.DevAddress0.ToLowerInvariant(), a.ToLowerHex());
        Assert.Equal(Foundry.DevAddress0, $"{a}");
    }

    [Fact]
    [Trait("Category", "Chain")]
    public void ToString_RandomAddresses_MatchesCastToCheckSumAddress()
    {
        var random = new Random(55);
        var addresses = Enumerable.Range(0, 30).Select(_ =>
        {
            var bytes = new byte[20];
            random.NextBytes(bytes);
            return EthereumAddress.FromBytes(bytes);
        }).ToArray();

        var expected = CastBatch.Run([.. addresses.Select(a => new[] { "to-check-sum-address", a.ToLowerHex() })]);

        for (var i = 0; i < addresses.Length; i++)
        {
            Assert.Equal(expected[i], addresses[i].ToString());
            Assert.Equal(addresses[i], EthereumAddress.Parse(expected[i]));
        }
    }

    [Fact]
    [Trait("Category", "Chain")]
    public void Address_RandomKeys_MatchesCastWalletAddress()
    {
        var random = new Random(1559);
        var keys = Enumerable.Range(0, 30).Select(_ =>
        {
            var bytes = new byte[32];
            random.NextBytes(bytes);
            bytes[0] &= 0x7F; // below n
            return bytes;
        }).ToArray();

        var expected = CastBatch.Run([.. keys.Select(k => new[] { "wallet", "address", "--private-key", "0x" + Convert.ToHexStringLower(k) })]);

        for (var i = 0; i < keys.Length; i++)
        {
            using var key = Secp256k1PrivateKey.FromBytes(keys[i]);
            Assert.Equal(expected[i], key.Address.ToString());
        }
    }
}
