using System.Numerics;
using FedAgg.Core.Crypto;
using BouncyX25519 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace FedAgg.Core.Tests.Crypto;

public sealed class Curve25519Tests
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;

    [Fact]
    public void ScalarMult_Rfc7748Section52Vector_MatchesPublishedOutput()
    {
        var result = new byte[32];

        Curve25519.ScalarMult(
            Convert.FromHexString("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            Convert.FromHexString("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            result);

        Assert.Equal("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", Convert.ToHexStringLower(result));
    }

    [Fact]
    public void ScalarMult_Rfc7748IteratedTest_MatchesPublishedOutputsAfter1And1000Iterations()
    {
        var k = new byte[32];
        var u = new byte[32];
        k[0] = 9;
        u[0] = 9;
        var next = new byte[32];
        string? afterOne = null;

        for (var i = 0; i < 1000; i++)
        {
            Curve25519.ScalarMult(k, u, next);
            k.CopyTo(u, 0);
            next.CopyTo(k, 0);
            afterOne ??= Convert.ToHexStringLower(k);
        }

        Assert.Equal("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", afterOne);
        Assert.Equal("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", Convert.ToHexStringLower(k));
    }

    [Fact]
    public void ScalarMultBase_Rfc7748DiffieHellmanExample_GivesPublishedKeysAndSharedSecret()
    {
        var alice = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bob = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        var alicePublic = new byte[32];
        var bobPublic = new byte[32];
        var aliceShared = new byte[32];
        var bobShared = new byte[32];

        Curve25519.ScalarMultBase(alice, alicePublic);
        Curve25519.ScalarMultBase(bob, bobPublic);
        Curve25519.ScalarMult(alice, bobPublic, aliceShared);
        Curve25519.ScalarMult(bob, alicePublic, bobShared);

        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alicePublic));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bobPublic));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Convert.ToHexStringLower(aliceShared));
        Assert.Equal(aliceShared, bobShared);
    }

    [Fact]
    public void ScalarMult_RandomInputs_MatchesBouncyCastleAndTheRfcReferenceLadder()
    {
        var random = new Random(7748);
        var scalar = new byte[32];
        var u = new byte[32];
        var ours = new byte[32];
        var bouncy = new byte[32];

        for (var i = 0; i < 300; i++)
        {
            random.NextBytes(scalar);
            random.NextBytes(u);

            Curve25519.ScalarMult(scalar, u, ours);
            BouncyX25519.ScalarMult(scalar, 0, u, 0, bouncy, 0);

            Assert.Equal(Convert.ToHexStringLower(bouncy), Convert.ToHexStringLower(ours));
            if (i < 30)
            {
                Assert.Equal(Convert.ToHexStringLower(ReferenceX25519(scalar, u)), Convert.ToHexStringLower(ours));
            }
        }
    }

    [Fact]
    public void ScalarMultBase_RandomScalars_MatchesBouncyCastle()
    {
        var random = new Random(9);
        var scalar = new byte[32];
        var ours = new byte[32];
        var bouncy = new byte[32];

        for (var i = 0; i < 200; i++)
        {
            random.NextBytes(scalar);

            Curve25519.ScalarMultBase(scalar, ours);
            BouncyX25519.ScalarMultBase(scalar, 0, bouncy, 0);

            Assert.Equal(Convert.ToHexStringLower(bouncy), Convert.ToHexStringLower(ours));
        }
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // 0
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // 1
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p − 1 (order 2)
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p, non-canonical 0
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p + 1, non-canonical 1
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    [InlineData("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")] // order 8
    public void ScalarMult_SmallOrderPoint_GivesAllZeros(string uHex)
    {
        var scalar = new byte[32];
        new Random(3).NextBytes(scalar);
        var result = new byte[32];
        result.AsSpan().Fill(0xAA);

        Curve25519.ScalarMult(scalar, Convert.FromHexString(uHex), result);

        Assert.All(result, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ScalarMult_TopBitAndNonCanonicalU_AreReducedAsTheRfcRequires()
    {
        var scalar = Convert.FromHexString("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
        var u = Convert.FromHexString("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
        var masked = (byte[])u.Clone();
        masked[31] &= 0x7F;
        var withTopBit = new byte[32];
        var withoutTopBit = new byte[32];
        var nonCanonical = new byte[32];
        var canonical = new byte[32];

        Curve25519.ScalarMult(scalar, u, withTopBit);
        Curve25519.ScalarMult(scalar, masked, withoutTopBit);
        // p + 9 encodes the same field element as 9.
        Curve25519.ScalarMult(scalar, Convert.FromHexString("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), nonCanonical);
        Curve25519.ScalarMultBase(scalar, canonical);

        Assert.Equal(withoutTopBit, withTopBit);
        Assert.Equal(Convert.ToHexStringLower(ReferenceX25519(scalar, u)), Convert.ToHexStringLower(withTopBit));
        Assert.Equal(canonical, nonCanonical);
    }

    [Fact]
    public void ScalarMult_WrongLengths_Throw()
    {
        var key = new byte[32];

        Assert.Throws<ArgumentException>(() => Curve25519.ScalarMult(new byte[31], key, new byte[32]));
        Assert.Throws<ArgumentException>(() => Curve25519.ScalarMult(key, new byte[33], new byte[32]));
        Assert.Throws<ArgumentException>(() => Curve25519.ScalarMult(key, key, new byte[31]));
    }

    [Fact]
    public void ScalarMult_DoesNotChangeTheCallersScalar()
    {
        var scalar = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        var u = new byte[32];
        u[0] = 9;

        Curve25519.ScalarMult(scalar, u, new byte[32]);

        Assert.All(scalar, b => Assert.Equal(0xFF, b));
    }

    /// <summary>RFC 7748 §5's pseudo-code, line by line, over BigInteger.</summary>
    private static byte[] ReferenceX25519(byte[] scalar, byte[] u)
    {
        var k = (byte[])scalar.Clone();
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        var kValue = new BigInteger(k, isUnsigned: true, isBigEndian: false);
        var uBytes = (byte[])u.Clone();
        uBytes[31] &= 127;
        var x1 = new BigInteger(uBytes, isUnsigned: true, isBigEndian: false) % P;

        BigInteger x2 = 1, z2 = 0, x3 = x1, z3 = 1;
        var swap = 0;
        for (var t = 254; t >= 0; t--)
        {
            var kt = (int)((kValue >> t) & 1);
            swap ^= kt;
            if (swap == 1)
            {
                (x2, x3) = (x3, x2);
                (z2, z3) = (z3, z2);
            }

            swap = kt;
            var a = Mod(x2 + z2);
            var aa = Mod(a * a);
            var b = Mod(x2 - z2);
            var bb = Mod(b * b);
            var e = Mod(aa - bb);
            var c = Mod(x3 + z3);
            var d = Mod(x3 - z3);
            var da = Mod(d * a);
            var cb = Mod(c * b);
            x3 = Mod((da + cb) * (da + cb));
            z3 = Mod(x1 * Mod((da - cb) * (da - cb)));
            x2 = Mod(aa * bb);
            z2 = Mod(e * (aa + (121665 * e)));
        }

        if (swap == 1)
        {
            (x2, x3) = (x3, x2);
            (z2, z3) = (z3, z2);
        }

        var result = Mod(x2 * BigInteger.ModPow(z2, P - 2, P));
        var bytes = new byte[32];
        result.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return bytes;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
