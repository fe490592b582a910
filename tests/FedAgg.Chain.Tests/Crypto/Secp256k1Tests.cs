using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Chain.Crypto;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Chain.Tests.Crypto;

public sealed class Secp256k1Tests
{
    [Theory]
    [InlineData("", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void Keccak256_KnownAnswers_Match(string input, string expected) =>
        Assert.Equal(expected, Keccak256.HashToBytes32(Encoding.ASCII.GetBytes(input)).ToString());

    [Fact]
    public void Address_AnvilDevKeys_AreTheWellKnownAddresses()
    {
        using var key0 = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        using var key1 = Secp256k1PrivateKey.FromHex(Foundry.DevKey1[2..]);

        Assert.Equal(Foundry.DevAddress0, key0.Address.ToString());
        Assert.Equal(Foundry.DevAddress1, key1.Address.ToString());
        Assert.Equal(65, key0.PublicKeyUncompressed.Length);
        Assert.Equal(0x04, key0.PublicKeyUncompressed[0]);
        Assert.Equal(key0.Address, EthereumAddress.FromPublicKey(key0.PublicKeyUncompressed));
    }

    [Fact]
    public void FromBytes_ZeroOrAtLeastOrder_Throws()
    {
        var order = Secp256k1.Order.ToByteArray(isUnsigned: true, isBigEndian: true);
        var orderMinusOne = (Secp256k1.Order - 1).ToByteArray(isUnsigned: true, isBigEndian: true);

        Assert.Throws<ArgumentException>(() => Secp256k1PrivateKey.FromBytes(new byte[32]));
        Assert.Throws<ArgumentException>(() => Secp256k1PrivateKey.FromBytes(order));
        Assert.Throws<ArgumentException>(() => Secp256k1PrivateKey.FromBytes(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Throws<ArgumentException>(() => Secp256k1PrivateKey.FromBytes(new byte[31]));
        using var largest = Secp256k1PrivateKey.FromBytes(orderMinusOne);
        Assert.False(largest.Address.IsZero);
    }

    [Fact]
    public void FromHex_Malformed_ThrowsWithoutEchoingTheText()
    {
        var secretish = Foundry.DevKey0[..^1] + "z";

        var error = Assert.Throws<FormatException>(() => Secp256k1PrivateKey.FromHex(secretish));

        Assert.DoesNotContain(Foundry.DevKey0[2..20], error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ToString_NeverShowsTheKey()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);

        Assert.DoesNotContain(Foundry.DevKey0[2..], key.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Foundry.DevAddress0, key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExportTo_AfterDispose_Throws()
    {
        var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var exported = new byte[32];
        key.ExportTo(exported);
        Assert.Equal(Foundry.DevKey0[2..], Convert.ToHexStringLower(exported));

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.ExportTo(exported));
        Assert.Throws<ObjectDisposedException>(() => key.SignHash(new byte[32]));
    }

    [Fact]
    public void Generate_GivesDistinctValidKeys()
    {
        using var a = Secp256k1PrivateKey.Generate();
        using var b = Secp256k1PrivateKey.Generate();

        Assert.NotEqual(a.Address, b.Address);
        var hash = Keccak256.Hash("x"u8);
        Assert.Equal(a.Address, Secp256k1.RecoverAddress(hash, a.SignHash(hash)));
    }

    [Fact]
    public void SignHash_RandomKeysAndHashes_LowSDeterministicAndRecoversSigner()
    {
        var cases = from key in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), 32)
                    from hash in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), 32)
                    select (key, hash);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var keyBytes = c.key;
            keyBytes[0] &= 0x7F;
            keyBytes[31] |= 1;
            using var key = Secp256k1PrivateKey.FromBytes(keyBytes);

            var signature = key.SignHash(c.hash);

            Assert.True(signature.IsLowS);
            Assert.True(signature.RecoveryId <= 1);
            Assert.Equal(signature, key.SignHash(c.hash));
            Assert.Equal(key.Address, Secp256k1.RecoverAddress(c.hash, signature));
            Assert.Equal(key.PublicKeyUncompressed, Secp256k1.RecoverPublicKey(c.hash, signature));
            Assert.True(Secp256k1.Verify(c.hash, signature, key.Address));
            Assert.True(Secp256k1.Verify(c.hash, signature, key.PublicKeyUncompressed));
            Assert.Equal(signature, Secp256k1Signature.FromBytes65(signature.ToBytes65()));

            // Another hash or the other parity names someone else.
            var other = (byte[])c.hash.Clone();
            other[5] ^= 1;
            Assert.False(Secp256k1.Verify(other, signature, key.Address));
            Assert.False(Secp256k1.Verify(other, signature, key.PublicKeyUncompressed));
            Assert.NotEqual(key.Address, Secp256k1.RecoverAddress(c.hash, signature with { RecoveryId = (byte)(signature.RecoveryId ^ 1) }));
        });

        // Each case is about ten curve multiplications; 40 keep the test quick on a loaded machine.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), property);
    }

    [Fact]
    public void RecoverAddress_HighSTwin_RecoversTheSameSigner()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var hash = Keccak256.Hash("twin"u8);
        var low = key.SignHash(hash);

        var high = low with { S = Secp256k1.Order - low.S, RecoveryId = (byte)(low.RecoveryId ^ 1) };

        Assert.False(high.IsLowS);
        Assert.Equal(key.Address, Secp256k1.RecoverAddress(hash, high));
    }

    [Fact]
    public void RecoverPublicKey_OutOfRangeSignature_Throws()
    {
        var hash = new byte[32];

        Assert.Throws<CryptographicException>(() => Secp256k1.RecoverPublicKey(hash, new Secp256k1Signature(BigInteger.Zero, BigInteger.One, 0)));
        Assert.Throws<CryptographicException>(() => Secp256k1.RecoverPublicKey(hash, new Secp256k1Signature(BigInteger.One, Secp256k1.Order, 0)));
        Assert.False(Secp256k1.TryRecoverAddress(hash, new Secp256k1Signature(Secp256k1.Order, BigInteger.One, 0), out _));
        Assert.Throws<ArgumentException>(() => Secp256k1.RecoverPublicKey(new byte[31], new Secp256k1Signature(BigInteger.One, BigInteger.One, 0)));
    }

    [Fact]
    public void FromBytes65_BadV_Throws()
    {
        var bytes = new byte[65];
        bytes[31] = 1;
        bytes[63] = 1;
        bytes[64] = 29;

        Assert.Throws<FormatException>(() => Secp256k1Signature.FromBytes65(bytes));
        bytes[64] = 1;
        Assert.Equal(1, Secp256k1Signature.FromBytes65(bytes).RecoveryId);
        Assert.Throws<FormatException>(() => Secp256k1Signature.FromBytes65(bytes.AsSpan(0, 64)));
    }
}
