using System.Text;
using FedAgg.Chain.Crypto;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Primitives;

namespace FedAgg.Chain.Tests.Crypto;

[Trait("Category", "Chain")]
public sealed class CastSignatureTests
{
    [Fact]
    public void SignHash_FixedVectors_MatchCastWalletSignNoHash()
    {
        // RFC 6979 with HMAC-SHA256 as alloy/k256 implement it: the signatures are fixed for a key and hash.
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var hash = Convert.FromHexString(new string('a', 64));

        Assert.Equal(
            "0x0cee6dc8908039deccd0bc9897ce8cfc9ab954315c91d279846ed0bb01d2c1be49d41df6d2d0fa99392a09b98e92d39b29612a35c3eaf44e5d6cd937f8d785b21b",
            key.SignHash(hash).ToHex());
        Assert.Equal(
            "0xf16ea9a3478698f695fd1401bfe27e9e4a7e8e3da94aa72b021125e31fa899cc573c48ea3fe1d4ab61a9db10c19032026e3ed2dbccba5a178235ac27f94504311c",
            EthereumMessage.Sign(key, "hello"u8).ToHex());
    }

    [Fact]
    public void SignHash_RandomKeysAndHashes_EqualCastWalletSignNoHash()
    {
        var random = new Random(6979);
        var cases = Enumerable.Range(0, 30).Select(_ => (Key: RandomKey(random), Hash: RandomBytes(random, 32))).ToArray();

        var expected = CastBatch.Run([.. cases.Select(c => new[] { "wallet", "sign", "--no-hash", "--private-key", Hex(c.Key), Hex(c.Hash) })]);

        for (var i = 0; i < cases.Length; i++)
        {
            using var key = Secp256k1PrivateKey.FromBytes(cases[i].Key);
            var signature = key.SignHash(cases[i].Hash);
            Assert.Equal(expected[i], signature.ToHex());
            Assert.Equal(key.Address, Secp256k1.RecoverAddress(cases[i].Hash, Secp256k1Signature.FromBytes65(Convert.FromHexString(expected[i][2..]))));
        }
    }

    [Fact]
    public void PersonalMessage_RandomTextMessages_EqualCastWalletSign()
    {
        var random = new Random(191);
        var cases = Enumerable.Range(0, 25).Select(i => (Key: RandomKey(random), Message: RandomText(random, i * 7))).ToArray();

        var expected = CastBatch.Run([.. cases.Select(c => new[] { "wallet", "sign", "--private-key", Hex(c.Key), c.Message })]);

        for (var i = 0; i < cases.Length; i++)
        {
            using var key = Secp256k1PrivateKey.FromBytes(cases[i].Key);
            var message = Encoding.UTF8.GetBytes(cases[i].Message);
            Assert.Equal(expected[i], EthereumMessage.Sign(key, message).ToHex());
            Assert.Equal(key.Address, EthereumMessage.RecoverSigner(message, Secp256k1Signature.FromBytes65(Convert.FromHexString(expected[i][2..]))));
        }
    }

    [Fact]
    public void PersonalMessageHash_MatchesCastHashMessage()
    {
        string[] messages = ["", "hello", "FedAgg binds a peer ID", new string('x', 300)];

        var expected = CastBatch.Run([.. messages.Select(m => new[] { "hash-message", m })]);

        for (var i = 0; i < messages.Length; i++)
        {
            Assert.Equal(expected[i], Hex(EthereumMessage.PersonalMessageHash(Encoding.UTF8.GetBytes(messages[i]))));
        }
    }

    private static byte[] RandomKey(Random random)
    {
        var key = RandomBytes(random, 32);
        key[0] &= 0x7F;
        key[31] |= 1;
        return key;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomText(Random random, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?-é€";
        return new string([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
    }

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
