using System.Numerics;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Rlp;
using FedAgg.Chain.Transactions;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Chain.Tests.Transactions;

public sealed class SignedTransactionTests
{
    private static readonly EthereumAddress Recipient = EthereumAddress.Parse(Foundry.DevAddress1);

    [Fact]
    public void Sign_KnownTransaction_EqualsTheBytesCastMktxProduced()
    {
        // cast mktx --private-key DevKey0 --chain 1 --nonce 3 --gas-limit 21000 --gas-price 100 --priority-gas-price 2 DevAddress1 --value 5
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var transaction = new Eip1559Transaction(1, 3, 2, 100, 21000, Recipient, 5, ReadOnlyMemory<byte>.Empty);

        var signed = transaction.Sign(key);

        Assert.Equal(
            "0x02f862010302648252089470997970c51812dc3a010c7d01b50e0d17dc79c80580c080a0f65dadf2c9975149e80e8a82b3b4991d52dfa1a79eb7aa1c63cd0c0ee8bcf5e7a0278dc039567c0d0fc0cf62e9775566840394bf22bb45dcc4e497b1575c944689",
            signed.ToHex());
        Assert.Equal(Keccak256.HashToBytes32(signed.RawTransaction), signed.Hash);
        Assert.Equal(key.Address, signed.RecoverSender());
    }

    [Fact]
    public void Sign_Creation_EncodesEmptyTo()
    {
        // cast mktx --private-key DevKey0 --chain 1 --nonce 3 --gas-limit 21000 --gas-price 100 --priority-gas-price 2 --value 5 --create 0x6000
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var transaction = new Eip1559Transaction(1, 3, 2, 100, 21000, null, 5, new byte[] { 0x60, 0x00 });

        Assert.Equal(
            "0x02f850010302648252088005826000c001a0e6dfa2acea87adf07badfe282384dcab21508cdbc97005ae6386772f937f0c67a058edc3bc451cac6d1278ed2f6442515e1f583a7d260e59e9ac02978138a618cc",
            transaction.Sign(key).ToHex());
    }

    [Fact]
    public void Decode_RoundTripWithAccessList_PreservesEveryField()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var transaction = new Eip1559Transaction(31337, 9, 3, 1000, 50000, Recipient, 77, new byte[] { 1, 2, 3 })
        {
            AccessList = [new AccessListEntry(Recipient, [Bytes32.Zero, Keccak256.HashToBytes32("slot"u8)]), new AccessListEntry(key.Address, [])],
        };
        var signed = transaction.Sign(key);

        var decoded = SignedTransaction.Decode(signed.RawTransaction);

        var tx = decoded.Transaction;
        Assert.Equal((31337UL, 9UL, new BigInteger(3), new BigInteger(1000), 50000UL, (EthereumAddress?)Recipient, new BigInteger(77)), (tx.ChainId, tx.Nonce, tx.MaxPriorityFeePerGas, tx.MaxFeePerGas, tx.GasLimit, tx.To, tx.Value));
        Assert.Equal(new byte[] { 1, 2, 3 }, tx.Data.ToArray());
        Assert.Equal(2, tx.AccessList.Count);
        Assert.Equal(transaction.AccessList[0].StorageKeys, tx.AccessList[0].StorageKeys);
        Assert.Equal(key.Address, tx.AccessList[1].Address);
        Assert.Equal(signed.Signature, decoded.Signature);
        Assert.Equal(signed.Hash, decoded.Hash);
        Assert.Equal(key.Address, decoded.RecoverSender());
    }

    [Theory]
    [InlineData("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83", "legacy")]
    [InlineData("01c0", "type 0x01")]
    [InlineData("03c0", "type 0x03")]
    [InlineData("", "empty")]
    public void Decode_OtherTransactionTypes_ThrowsNamingTheType(string hex, string expected)
    {
        var error = Assert.ThrowsAny<FormatException>(() => SignedTransaction.Decode(Convert.FromHexString(hex)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TruncatedAtEveryOffset_Throws()
    {
        var raw = SignedRaw();

        for (var length = 0; length < raw.Length; length++)
        {
            Assert.ThrowsAny<FormatException>(() => SignedTransaction.Decode(raw.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Decode_TrailingByte_ThrowsRlpException()
    {
        var raw = SignedRaw();

        var error = Assert.Throws<RlpException>(() => SignedTransaction.Decode([.. raw, 0x00]));

        Assert.Contains("trailing", error.Message, StringComparison.Ordinal);
        Assert.Equal(raw.Length, error.Offset);
    }

    [Fact]
    public void Decode_NonCanonicalOrOutOfRangeFields_Throws()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var tx = new Eip1559Transaction(1, 3, 2, 100, 21000, Recipient, 5, ReadOnlyMemory<byte>.Empty);
        var signature = key.SignHash(tx.GetSigningHash());

        // Rebuild the field list with one field replaced.
        RlpItem[] Fields() =>
        [
            RlpItem.FromInteger(1UL), RlpItem.FromInteger(3UL), RlpItem.FromInteger(2UL), RlpItem.FromInteger(100UL), RlpItem.FromInteger(21000UL),
            RlpItem.FromBytes(Recipient.AsSpan()), RlpItem.FromInteger(5UL), RlpItem.FromBytes([]), RlpItem.List(),
            RlpItem.FromInteger((ulong)signature.YParity), RlpItem.FromInteger(signature.R), RlpItem.FromInteger(signature.S),
        ];
        byte[] Raw(RlpItem[] fields) => [0x02, .. RlpItem.List(fields).Encode()];

        Assert.Equal(tx.Sign(key).RawTransaction, Raw(Fields()));
        var cases = new List<(string Name, RlpItem[] Fields)>();
        var f = Fields();
        f[1] = RlpItem.FromBytes([0x00, 0x03]);
        cases.Add(("nonce with a leading zero", f));
        f = Fields();
        f[0] = RlpItem.FromBytes(new byte[9] { 1, 0, 0, 0, 0, 0, 0, 0, 0 });
        cases.Add(("chain id over 64 bits", f));
        f = Fields();
        f[5] = RlpItem.FromBytes(new byte[19]);
        cases.Add(("19-byte to", f));
        f = Fields();
        f[9] = RlpItem.FromInteger(2UL);
        cases.Add(("yParity 2", f));
        f = Fields();
        f[11] = RlpItem.FromInteger(Secp256k1.Order - signature.S);
        cases.Add(("high s", f));
        f = Fields();
        f[10] = RlpItem.FromInteger(BigInteger.Zero);
        cases.Add(("r zero", f));
        f = Fields();
        f[3] = RlpItem.FromBytes(new byte[33] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        cases.Add(("fee over 256 bits", f));
        f = Fields();
        f[8] = RlpItem.FromBytes([]);
        cases.Add(("access list as a string", f));
        f = Fields();
        f[8] = RlpItem.List(RlpItem.List(RlpItem.FromBytes(new byte[20]), RlpItem.List(RlpItem.FromBytes(new byte[31]))));
        cases.Add(("31-byte storage key", f));
        cases.Add(("thirteen fields", [.. Fields(), RlpItem.FromBytes([])]));
        cases.Add(("eleven fields", Fields()[..11]));

        foreach (var (name, fields) in cases)
        {
            var error = Record.Exception(() => SignedTransaction.Decode(Raw(fields)));
            Assert.True(error is RlpException, $"{name}: expected an RlpException, got {error?.GetType().Name ?? "none"}");
        }
    }

    [Fact]
    public void Decode_MutatedRawTransactions_OnlyEverThrowsFormatException()
    {
        var raw = SignedRaw();
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            var mutated = (byte[])raw.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            }

            try
            {
                var decoded = SignedTransaction.Decode(mutated);
                Assert.Equal(mutated, decoded.RawTransaction);
            }
            catch (FormatException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void GetSigningHash_ValueOver256Bits_Throws()
    {
        var tx = new Eip1559Transaction(1, 0, 0, 0, 21000, Recipient, BigInteger.One << 256, ReadOnlyMemory<byte>.Empty);

        Assert.Throws<ArgumentOutOfRangeException>(() => tx.GetSigningHash());
        Assert.Throws<ArgumentOutOfRangeException>(() => (tx with { Value = -1 }).GetSigningHash());
    }

    [Fact]
    public void ForCreate_KnownVector_MatchesCast()
    {
        // cast compute-address --nonce 5 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
        Assert.Equal("0x59F2f1fCfE2474fD5F0b9BA1E73ca90b143Eb8d0", ContractAddress.ForCreate(Recipient, 5).ToString());
    }

    [Fact]
    public void ForCreate2_Eip1014Example_MatchesTheEip()
    {
        // EIP-1014 example 1: deployer 0x0, salt 0x0, init code 0x00.
        var address = ContractAddress.ForCreate2(EthereumAddress.Zero, Bytes32.Zero, Keccak256.HashToBytes32([0x00]));

        Assert.Equal("0x4D1A2e2bB4F88F0250f26Ffff098B0b30B26BF38", address.ToString());
    }

    private static byte[] SignedRaw()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        return new Eip1559Transaction(1, 3, 2, 100, 21000, Recipient, 5, new byte[] { 0xAB, 0xCD }).Sign(key).RawTransaction;
    }
}
