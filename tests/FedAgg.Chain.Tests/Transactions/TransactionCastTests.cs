using System.Globalization;
using System.Numerics;
using System.Text.Json;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Transactions;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Primitives;

namespace FedAgg.Chain.Tests.Transactions;

[Trait("Category", "Chain")]
public sealed class TransactionCastTests
{
    [Fact]
    public void Sign_RandomTransactions_EqualCastMktxByteForByte()
    {
        var random = new Random(2718);
        var cases = Enumerable.Range(0, 30).Select(i => RandomCase(random, i)).ToArray();

        var expected = CastBatch.Run([.. cases.Select(c => MktxArguments(c.Key, c.Transaction))]);

        for (var i = 0; i < cases.Length; i++)
        {
            using var key = Secp256k1PrivateKey.FromBytes(cases[i].Key);
            var signed = cases[i].Transaction.Sign(key);
            Assert.Equal(expected[i], signed.ToHex());
            Assert.Equal(key.Address, signed.RecoverSender());
        }
    }

    [Fact]
    public void Decode_OurRawTransactions_CastDecodeTransactionShowsOurFieldsAndSender()
    {
        var random = new Random(1559);
        var cases = Enumerable.Range(0, 12).Select(i => RandomCase(random, i)).ToArray();
        var signed = cases.Select(c =>
        {
            using var key = Secp256k1PrivateKey.FromBytes(c.Key);
            return (Signed: c.Transaction.Sign(key), Sender: key.Address);
        }).ToArray();

        var outputs = CastBatch.Run([.. signed.Select(s => new[] { "decode-transaction", s.Signed.ToHex() })]);

        for (var i = 0; i < signed.Length; i++)
        {
            using var json = ParseCastJson(outputs[i]);
            var root = json.RootElement;
            var tx = signed[i].Signed.Transaction;
            Assert.Equal(signed[i].Sender.ToLowerHex(), root.GetProperty("signer").GetString()!.ToLowerInvariant());
            Assert.Equal("0x2", root.GetProperty("type").GetString());
            Assert.Equal(tx.ChainId, (ulong)Quantity(root, "chainId"));
            Assert.Equal(tx.Nonce, (ulong)Quantity(root, "nonce"));
            Assert.Equal(tx.GasLimit, (ulong)Quantity(root, "gas"));
            Assert.Equal(tx.MaxFeePerGas, Quantity(root, "maxFeePerGas"));
            Assert.Equal(tx.MaxPriorityFeePerGas, Quantity(root, "maxPriorityFeePerGas"));
            Assert.Equal(tx.Value, Quantity(root, "value"));
            Assert.Equal("0x" + Convert.ToHexStringLower(tx.Data.Span), root.GetProperty("input").GetString());
            var to = root.TryGetProperty("to", out var toElement) ? toElement.GetString() : null;
            Assert.Equal(tx.To?.ToLowerHex(), to?.ToLowerInvariant());
            Assert.Equal(signed[i].Signed.Signature.R, Quantity(root, "r"));
            Assert.Equal(signed[i].Signed.Signature.S, Quantity(root, "s"));
            Assert.Equal(signed[i].Signed.Hash.ToString(), root.GetProperty("hash").GetString());
        }
    }

    [Fact]
    public void Decode_CastMktxOutput_RoundTripsToTheSameBytesAndSender()
    {
        var random = new Random(4844);
        var cases = Enumerable.Range(0, 12).Select(i => RandomCase(random, i)).ToArray();

        var raws = CastBatch.Run([.. cases.Select(c => MktxArguments(c.Key, c.Transaction))]);

        for (var i = 0; i < cases.Length; i++)
        {
            var bytes = Convert.FromHexString(raws[i][2..]);
            var decoded = SignedTransaction.Decode(bytes);
            using var key = Secp256k1PrivateKey.FromBytes(cases[i].Key);
            Assert.Equal(key.Address, decoded.RecoverSender());
            Assert.Equal(cases[i].Transaction.GetSigningHash(), decoded.Transaction.GetSigningHash());
            Assert.Equal(bytes, decoded.RawTransaction);
        }
    }

    [Fact]
    public void ForCreate_RandomSendersAndNonces_EqualCastComputeAddress()
    {
        var random = new Random(42);
        var cases = Enumerable.Range(0, 30).Select(i =>
        {
            var bytes = new byte[20];
            random.NextBytes(bytes);
            ulong nonce = (i % 5) switch
            {
                0 => 0,
                1 => (ulong)random.Next(1, 128),
                2 => (ulong)random.Next(128, 65536),
                3 => (ulong)random.NextInt64(),
                _ => ulong.MaxValue - (ulong)random.Next(1000),
            };
            return (Sender: EthereumAddress.FromBytes(bytes), Nonce: nonce);
        }).ToArray();

        var outputs = CastBatch.Run([.. cases.Select(c => new[] { "compute-address", "--nonce", c.Nonce.ToString(CultureInfo.InvariantCulture), c.Sender.ToLowerHex() })]);

        for (var i = 0; i < cases.Length; i++)
        {
            Assert.Equal(outputs[i].Replace("Computed Address: ", string.Empty, StringComparison.Ordinal), ContractAddress.ForCreate(cases[i].Sender, cases[i].Nonce).ToString());
        }
    }

    [Fact]
    public async Task Sign_PublishedToAnvil_IsMinedFromOurAddress()
    {
        await using var anvil = await AnvilInstance.StartAsync(chainId: 31337);
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var recipient = EthereumAddress.Parse(Foundry.DevAddress1);
        var transaction = new Eip1559Transaction(31337, 0, 1_000_000_000, 100_000_000_000, 21_000, recipient, 12345, ReadOnlyMemory<byte>.Empty);
        var signed = transaction.Sign(key);

        var receiptText = Foundry.Cast("publish", signed.ToHex(), "--rpc-url", anvil.RpcUrl);

        var transactionJson = await anvil.RpcAsync("eth_getTransactionByHash", signed.Hash.ToString());
        Assert.Equal(Foundry.DevAddress0.ToLowerInvariant(), transactionJson.GetProperty("from").GetString()!.ToLowerInvariant());
        Assert.Equal(signed.Hash.ToString(), transactionJson.GetProperty("hash").GetString());
        var receipt = await anvil.RpcAsync("eth_getTransactionReceipt", signed.Hash.ToString());
        Assert.Equal("0x1", receipt.GetProperty("status").GetString());
        var balance = await anvil.RpcAsync("eth_getBalance", recipient.ToLowerHex(), "latest");
        Assert.Equal(BigInteger.Parse("10000000000000000000000", CultureInfo.InvariantCulture) + 12345, ParseQuantity(balance.GetString()!));
        Assert.Contains(signed.Hash.ToString(), receiptText, StringComparison.OrdinalIgnoreCase);

        // A contract creation lands at the address ContractAddress predicts (runtime code: STOP).
        var creation = new Eip1559Transaction(31337, 1, 1_000_000_000, 100_000_000_000, 100_000, null, 0, Convert.FromHexString("600a600c600039600a6000f3" + "00000000000000000000"));
        var created = creation.Sign(key);
        Foundry.Cast("publish", created.ToHex(), "--rpc-url", anvil.RpcUrl);
        var creationReceipt = await anvil.RpcAsync("eth_getTransactionReceipt", created.Hash.ToString());
        Assert.Equal("0x1", creationReceipt.GetProperty("status").GetString());
        Assert.Equal(ContractAddress.ForCreate(key.Address, 1).ToLowerHex(), creationReceipt.GetProperty("contractAddress").GetString()!.ToLowerInvariant());
    }

    internal static (byte[] Key, Eip1559Transaction Transaction) RandomCase(Random random, int i)
    {
        var key = new byte[32];
        random.NextBytes(key);
        key[0] &= 0x7F;
        key[31] |= 1;
        var tip = (i % 4) switch
        {
            0 => BigInteger.Zero,
            1 => new BigInteger(random.Next(1, 128)),
            2 => new BigInteger(random.NextInt64(1, long.MaxValue)),
            _ => RandomUint(random, 15), // alloy (cast) holds fees as u128
        };
        var maxFee = tip + (i % 3 == 0 ? BigInteger.Zero : RandomUint(random, 1 + (i % 12)));
        EthereumAddress? to = null;
        if (i % 5 != 4)
        {
            var address = new byte[20];
            random.NextBytes(address);
            to = EthereumAddress.FromBytes(address);
        }

        var dataLength = (i % 6) switch
        {
            0 => 0,
            1 => 1,
            2 => 55,
            3 => 56,
            _ => random.Next(0, 300),
        };
        var data = new byte[dataLength];
        random.NextBytes(data);
        if (dataLength == 1)
        {
            data[0] &= 0x7F;
        }

        var value = (i % 7) switch
        {
            0 => BigInteger.Zero,
            1 => (BigInteger.One << 256) - 1,
            _ => RandomUint(random, 1 + (i % 31)),
        };
        var chainId = (i % 3) switch
        {
            0 => 1UL,
            1 => 31337UL,
            _ => (ulong)random.NextInt64(1, long.MaxValue),
        };
        var nonce = (i % 4) switch
        {
            0 => 0UL,
            1 => 127UL,
            2 => 128UL,
            _ => (ulong)random.NextInt64(0, long.MaxValue),
        };
        var gas = (ulong)random.NextInt64(21_000, 30_000_000);
        return (key, new Eip1559Transaction(chainId, nonce, tip, maxFee, gas, to, value, data));
    }

    private static BigInteger RandomUint(Random random, int bytes)
    {
        var buffer = new byte[bytes];
        random.NextBytes(buffer);
        return new BigInteger(buffer, isUnsigned: true);
    }

    private static string[] MktxArguments(byte[] key, Eip1559Transaction tx)
    {
        var arguments = new List<string>
        {
            "mktx",
            "--private-key", "0x" + Convert.ToHexStringLower(key),
            "--chain", tx.ChainId.ToString(CultureInfo.InvariantCulture),
            "--nonce", tx.Nonce.ToString(CultureInfo.InvariantCulture),
            "--gas-limit", tx.GasLimit.ToString(CultureInfo.InvariantCulture),
            "--gas-price", tx.MaxFeePerGas.ToString(CultureInfo.InvariantCulture),
            "--priority-gas-price", tx.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture),
            "--value", tx.Value.ToString(CultureInfo.InvariantCulture),
        };
        var data = "0x" + Convert.ToHexStringLower(tx.Data.Span);
        if (tx.To is { } to)
        {
            arguments.Add(to.ToString());
            arguments.Add(data);
        }
        else
        {
            arguments.Add("--create");
            arguments.Add(data);
        }

        return [.. arguments];
    }

    // cast prints the decoded transaction as a JSON string holding the JSON object.
    private static JsonDocument ParseCastJson(string output)
    {
        using var outer = JsonDocument.Parse(output);
        return outer.RootElement.ValueKind == JsonValueKind.String
            ? JsonDocument.Parse(outer.RootElement.GetString()!)
            : JsonDocument.Parse(output);
    }

    private static BigInteger Quantity(JsonElement root, string name) => ParseQuantity(root.GetProperty(name).GetString()!);

    private static BigInteger ParseQuantity(string hex) =>
        BigInteger.Parse("0" + hex[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
