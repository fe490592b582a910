using FedAgg.Core.Identity;

namespace FedAgg.Core.Tests.Identity;

public sealed class Ed25519KeyTests
{
    [Fact]
    public void Sign_Rfc8032Test1_MatchesPublishedSignature()
    {
        using var key = Ed25519PrivateKey.FromSeed(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));

        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(key.PublicKey.Bytes));
        Assert.Equal(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            Convert.ToHexStringLower(key.Sign([])));
    }

    [Fact]
    public void Sign_Rfc8032Test2_MatchesPublishedSignature()
    {
        using var key = Ed25519PrivateKey.FromSeed(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));

        Assert.Equal("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", Convert.ToHexStringLower(key.PublicKey.Bytes));
        Assert.Equal(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            Convert.ToHexStringLower(key.Sign([0x72])));
    }

    [Fact]
    public void Verify_TamperedMessageSignatureOrKey_ReturnsFalse()
    {
        using var key = Ed25519PrivateKey.Generate();
        using var other = Ed25519PrivateKey.Generate();
        var message = "round 7"u8.ToArray();
        var signature = key.Sign(message);

        Assert.True(key.PublicKey.Verify(message, signature));
        Assert.False(key.PublicKey.Verify("round 8"u8, signature));
        Assert.False(other.PublicKey.Verify(message, signature));
        for (var i = 0; i < signature.Length; i++)
        {
            signature[i] ^= 1;
            Assert.False(key.PublicKey.Verify(message, signature));
            signature[i] ^= 1;
        }

        Assert.False(key.PublicKey.Verify(message, signature.AsSpan(0, 63)));
        Assert.False(key.PublicKey.Verify(message, [.. signature, 0]));
    }

    [Fact]
    public void ToProtobuf_RoundTrips_AndHasLibp2pLayout()
    {
        using var key = Ed25519PrivateKey.Generate();

        var encoded = key.ToProtobuf();

        Assert.Equal(68, encoded.Length);
        Assert.Equal(new byte[] { 0x08, 0x01, 0x12, 0x40 }, encoded[..4]);
        Assert.Equal(key.PublicKey.Bytes.ToArray(), encoded[36..]);
        using var decoded = Ed25519PrivateKey.FromProtobuf(encoded);
        Assert.Equal(key.PeerId, decoded.PeerId);
    }

    [Fact]
    public void FromProtobuf_MismatchedPublicHalf_Throws()
    {
        using var key = Ed25519PrivateKey.Generate();
        var encoded = key.ToProtobuf();
        encoded[^1] ^= 1;

        var error = Assert.Throws<FormatException>(() => Ed25519PrivateKey.FromProtobuf(encoded));
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromProtobuf_OtherKeyType_NamesTheType()
    {
        var secp = LibP2pKeyEncoding.Encode(KeyType.Secp256k1, new byte[32]);

        var error = Assert.Throws<FormatException>(() => Ed25519PrivateKey.FromProtobuf(secp));
        Assert.Contains("Secp256k1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicKeyEncoding_MatchesGoogleProtobuf()
    {
        using var key = Ed25519PrivateKey.Generate();

        // Independent encoder: Google.Protobuf's CodedOutputStream writing the same two fields.
        using var stream = new MemoryStream();
        var output = new Google.Protobuf.CodedOutputStream(stream);
        output.WriteTag(1, Google.Protobuf.WireFormat.WireType.Varint);
        output.WriteEnum((int)KeyType.Ed25519);
        output.WriteTag(2, Google.Protobuf.WireFormat.WireType.LengthDelimited);
        output.WriteBytes(Google.Protobuf.ByteString.CopyFrom(key.PublicKey.Bytes));
        output.Flush();

        Assert.Equal(stream.ToArray(), key.PublicKey.ToProtobuf());
    }

    [Fact]
    public void TryDecode_FieldsInEitherOrder_Accepted_ButRepeatsUnknownsAndTruncationRejected()
    {
        var key = new byte[32];
        key[0] = 9;
        byte[] swapped = [0x12, 0x20, .. key, 0x08, 0x01];
        Assert.True(LibP2pKeyEncoding.TryDecode(swapped, out var type, out var data));
        Assert.Equal(KeyType.Ed25519, type);
        Assert.Equal(key, data.ToArray());

        byte[] canonical = [0x08, 0x01, 0x12, 0x20, .. key];
        Assert.False(LibP2pKeyEncoding.TryDecode([.. canonical, 0x08, 0x01], out _, out _));
        Assert.False(LibP2pKeyEncoding.TryDecode([.. canonical, 0x18, 0x01], out _, out _));
        Assert.False(LibP2pKeyEncoding.TryDecode([0x08, 0x01], out _, out _));
        for (var cut = 0; cut < canonical.Length; cut++)
        {
            Assert.False(LibP2pKeyEncoding.TryDecode(canonical.AsSpan(0, cut), out _, out _));
        }
    }

    [Fact]
    public void TryDecode_RandomBytes_NeverThrows()
    {
        var random = new Random(11);
        var buffer = new byte[80];
        for (var i = 0; i < 50_000; i++)
        {
            random.NextBytes(buffer);
            var length = random.Next(buffer.Length + 1);
            if (random.Next(2) == 0)
            {
                buffer[0] = 0x08;
            }

            _ = LibP2pKeyEncoding.TryDecode(buffer.AsSpan(0, length), out _, out _);
            _ = Ed25519PublicKey.TryFromProtobuf(buffer.AsSpan(0, length), out _, out _);
        }
    }

    [Fact]
    public void ToString_PrivateKey_ShowsPeerIdOnly()
    {
        using var key = Ed25519PrivateKey.Generate();
        var secret = Convert.ToHexStringLower(key.ToProtobuf().AsSpan(4, 32));

        Assert.DoesNotContain(secret, key.ToString(), StringComparison.Ordinal);
        Assert.Contains(key.PeerId.ToString(), key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_ThenSign_Throws()
    {
        var key = Ed25519PrivateKey.Generate();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign([1]));
        Assert.Throws<ObjectDisposedException>(() => key.ToProtobuf());
    }
}
