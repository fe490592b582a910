using FedAgg.Core.Identity;

namespace FedAgg.Core.Tests.Identity;

public sealed class PeerIdTests
{
    // Vectors from the libp2p peer-id spec (peer-ids.md, "Test vectors") and RFC 8032 section 7.1.
    private const string SeedOnesPublicKey = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
    private const string SeedOnesPeerId = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5";
    private const string SpecPublicKeyProtobuf = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string SpecPublicKeyPeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

    [Fact]
    public void EqualityOperators_SameIdParsedTwice_CompareByValue()
    {
        using var key = Ed25519PrivateKey.Generate();
        var text = key.PeerId.ToString();
        var first = PeerId.Parse(text);
        var second = PeerId.Parse(text);
        using var other = Ed25519PrivateKey.Generate();

        Assert.False(ReferenceEquals(first, second));
        Assert.True(first == second);
        Assert.False(first != second);
        Assert.True(first != other.PeerId);
        Assert.False(first == null);
        Assert.True((PeerId?)null == null);
    }

    [Fact]
    public void FromSeed_AllOnesSeed_MatchesSpecPublicKeyAndPeerId()
    {
        using var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());

        Assert.Equal(SeedOnesPublicKey, Convert.ToHexStringLower(key.PublicKey.Bytes));
        Assert.Equal(SeedOnesPeerId, key.PeerId.ToString());
    }

    [Fact]
    public void FromPublicKeyProtobuf_SpecVector_GivesSpecPeerId()
    {
        var protobuf = Convert.FromHexString(SpecPublicKeyProtobuf);

        Assert.Equal(SpecPublicKeyPeerId, PeerId.FromPublicKeyProtobuf(protobuf).ToString());
        Assert.True(Ed25519PublicKey.TryFromProtobuf(protobuf, out var key, out _));
        Assert.Equal(SpecPublicKeyPeerId, key.PeerId.ToString());
        Assert.Equal(protobuf, key.ToProtobuf());
    }

    [Fact]
    public void Parse_SpecPeerId_RecoversInlinedPublicKey()
    {
        var peerId = PeerId.Parse(SpecPublicKeyPeerId);

        Assert.True(peerId.TryGetPublicKey(out var key));
        Assert.Equal(SpecPublicKeyProtobuf, Convert.ToHexStringLower(key.ToProtobuf()));
    }

    [Fact]
    public void Parse_SpecCidAndBase58Forms_AreTheSamePeer()
    {
        // peer-ids.md lists these two as encodings of the same SHA-256 peer ID.
        var cid = PeerId.Parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
        var base58 = PeerId.Parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");

        Assert.Equal(base58, cid);
        Assert.Equal("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", cid.ToString());
        Assert.Equal("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe", base58.ToCidString());
        Assert.False(cid.TryGetPublicKey(out _));
    }

    [Fact]
    public void ToCidString_Ed25519PeerId_IsBase32OfVersionCodecAndMultihash()
    {
        var peerId = PeerId.Parse(SeedOnesPeerId);

        // Independent encoder: SimpleBase's RFC 4648 base32.
        var expected = "b" + SimpleBase.Base32.Rfc4648.Encode([0x01, 0x72, .. peerId.Multihash], padding: false).ToLowerInvariant();
        Assert.Equal(expected, peerId.ToCidString());
        Assert.StartsWith("bafzaa", peerId.ToCidString(), StringComparison.Ordinal);
        Assert.Equal(peerId, PeerId.Parse(peerId.ToCidString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12D3KooW")]
    [InlineData("12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH")]
    [InlineData("0OIl")]
    [InlineData("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5")]
    [InlineData("bafybeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe")]
    [InlineData("x12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(PeerId.TryParse(text, out _));
        Assert.Throws<FormatException>(() => PeerId.Parse(text));
    }

    [Fact]
    public void TryParse_RandomStrings_NeverThrows()
    {
        const string characters = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl+/=";
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 140)).Select(_ => characters[random.Next(characters.Length)]).ToArray());
            _ = PeerId.TryParse(text, out _);
        }
    }

    [Fact]
    public void TryParse_EveryMutationOfAValidId_NeverThrowsAndNeverGivesTheSamePeer()
    {
        var original = PeerId.Parse(SeedOnesPeerId);
        var text = SeedOnesPeerId.ToCharArray();
        for (var i = 0; i < text.Length; i++)
        {
            var saved = text[i];
            text[i] = saved == 'a' ? 'b' : 'a';
            if (PeerId.TryParse(new string(text), out var mutated))
            {
                Assert.NotEqual(original, mutated);
            }

            text[i] = saved;
        }
    }

    [Fact]
    public void FromPublicKeyProtobuf_LongKey_UsesSha256Multihash()
    {
        var longKey = LibP2pKeyEncoding.Encode(KeyType.Rsa, new byte[300]);

        var peerId = PeerId.FromPublicKeyProtobuf(longKey);

        Assert.Equal(0x12, peerId.Multihash[0]);
        Assert.Equal(32, peerId.Multihash[1]);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(longKey), peerId.Multihash[2..].ToArray());
        Assert.StartsWith("Qm", peerId.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Equality_SamePeerFromDifferentForms_IsEqualWithEqualHashCodes()
    {
        using var key = Ed25519PrivateKey.Generate();
        var fromText = PeerId.Parse(key.PeerId.ToString());
        var fromCid = PeerId.Parse(key.PeerId.ToCidString());

        Assert.Equal(key.PeerId, fromText);
        Assert.Equal(fromText, fromCid);
        Assert.Equal(fromText.GetHashCode(), fromCid.GetHashCode());
        Assert.Equal(key.PeerId.ToString(), fromCid.ToString());
    }
}
