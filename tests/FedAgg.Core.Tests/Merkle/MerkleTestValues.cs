using System.Numerics;
using FedAgg.Core.Merkle;

namespace FedAgg.Core.Tests.Merkle;

/// <summary>Seeded random rows for the leaf encodings the tests use.</summary>
internal static class MerkleTestValues
{
    public static readonly AbiType[] MixedEncoding = [AbiType.Bool, AbiType.Int(64), AbiType.FixedBytes(4), AbiType.Uint(8), AbiType.Address];

    public static AbiValue[][] Updates(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new[] { AbiValue.FromBytes32(RandomBytes(random, 32)), AbiValue.FromBytes32(RandomBytes(random, 32)) })];

    public static AbiValue[][] Credits(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new[] { AbiValue.FromAddress(RandomBytes(random, 20)), AbiValue.FromUint256(RandomUint(random, 256)) })];

    public static AbiValue[][] Mixed(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new[]
        {
            AbiValue.FromBool(random.Next(2) == 1),
            AbiValue.FromInt(random.NextInt64(long.MinValue, long.MaxValue), 64),
            AbiValue.FromFixedBytes(RandomBytes(random, 4)),
            AbiValue.FromUint(random.Next(256), 8),
            AbiValue.FromAddress(RandomBytes(random, 20)),
        })];

    /// <summary>Rows where some values appear several times (OpenZeppelin keeps every copy).</summary>
    public static AbiValue[][] WithDuplicates(AbiValue[][] distinct, Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => distinct[random.Next(distinct.Length)])];

    /// <summary>Uniform bit length, then uniform bits: small, huge, 0 and 2^bits − 1 all come up.</summary>
    public static BigInteger RandomUint(Random random, int bits)
    {
        switch (random.Next(20))
        {
            case 0:
                return BigInteger.Zero;
            case 1:
                return (BigInteger.One << bits) - 1;
        }

        var bitLength = random.Next(1, bits + 1);
        var bytes = RandomBytes(random, (bitLength + 7) / 8);
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return value & ((BigInteger.One << bitLength) - 1);
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
