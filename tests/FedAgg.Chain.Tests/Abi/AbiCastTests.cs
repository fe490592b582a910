using System.Text.Json;
using FedAgg.Chain.Abi;
using FedAgg.TestKit;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Primitives;

namespace FedAgg.Chain.Tests.Abi;

[Trait("Category", "Chain")]
public sealed class AbiCastTests
{
    // The ledger's surface (contracts brief) and standard ones.
    private static readonly string[] FunctionSignatures =
    [
        "anchorRound(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)",
        "registerTask(bytes32,bytes32,bytes32)",
        "registerTask(bytes32,bytes32,bytes32,uint64)",
        "claim(bytes32,address,uint256,bytes32[])",
        "lastRound(bytes32)",
        "roundCommitment(bytes32,uint64)",
        "credits(address)",
        "grantRole(bytes32,address)",
        "transfer(address,uint256)",
        "f((uint64,bytes32)[],string,bytes,int256[2][])",
    ];

    private static readonly string[] EventSignatures =
    [
        "RoundAnchored(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)",
        "CreditsClaimed(bytes32,address,uint256,uint256)",
        "Transfer(address,address,uint256)",
        "E((address,uint256[])[],string)",
    ];

    [Fact]
    public void Selector_Signatures_EqualCastSig()
    {
        var expected = CastBatch.Run([.. FunctionSignatures.Select(s => new[] { "sig", s })]);

        for (var i = 0; i < FunctionSignatures.Length; i++)
        {
            var function = AbiFunction.Parse(FunctionSignatures[i]);
            Assert.Equal(FunctionSignatures[i], function.Signature);
            Assert.Equal(expected[i], function.SelectorHex);
        }
    }

    [Fact]
    public void Topic0_Signatures_EqualCastSigEvent()
    {
        var expected = CastBatch.Run([.. EventSignatures.Select(s => new[] { "sig-event", s })]);

        for (var i = 0; i < EventSignatures.Length; i++)
        {
            Assert.Equal(expected[i], AbiEvent.Parse(EventSignatures[i]).Topic0.ToString());
        }
    }

    [Fact]
    public void EncodeCall_LedgerFunctions_EqualCastCalldata()
    {
        var random = new Random(8);
        var invocations = new List<string[]>();
        var ours = new List<string>();
        foreach (var signature in FunctionSignatures)
        {
            var function = AbiFunction.Parse(signature);
            for (var round = 0; round < 3; round++)
            {
                var values = function.Inputs.Select(p => AbiRandom.Value(random, p.Type)).ToArray();
                invocations.Add(["calldata", signature, .. function.Inputs.Select((p, j) => AbiRandom.CastArgument(p.Type, values[j]))]);
                ours.Add("0x" + Convert.ToHexStringLower(function.EncodeCall(values)));
            }
        }

        var expected = CastBatch.Run(invocations);

        Assert.Equal(expected, ours);
    }

    [Fact]
    public void Encode_RandomDynamicTypes_EqualCastCalldataAndAbiEncode_AndDecodeBothWays()
    {
        var random = new Random(20240);
        var cases = Enumerable.Range(0, 30).Select(i =>
        {
            var types = Enumerable.Range(0, random.Next(1, 5)).Select(_ => AbiRandom.Type(random, i % 3 + 1)).ToArray();
            var values = types.Select(t => AbiRandom.Value(random, t)).ToArray();
            return (Types: types, Values: values, Signature: $"f({AbiRandom.SignatureTypes(types)})");
        }).ToArray();
        var arguments = cases.Select(c => c.Types.Select((t, j) => AbiRandom.CastArgument(t, c.Values[j])).ToArray()).ToArray();

        var calldata = CastBatch.Run([.. cases.Select((c, i) => (string[])["calldata", c.Signature, .. arguments[i]])]);
        var encoded = CastBatch.Run([.. cases.Select((c, i) => (string[])["abi-encode", c.Signature, .. arguments[i]])]);
        var ourEncodings = cases.Select(c => AbiCodec.Encode(c.Types, c.Values)).ToArray();
        var decodedByCast = CastBatch.Run([.. cases.Select((c, i) => new[] { "abi-decode", "--json", $"f()({AbiRandom.SignatureTypes(c.Types)})", "0x" + Convert.ToHexStringLower(ourEncodings[i]) })]);

        for (var i = 0; i < cases.Length; i++)
        {
            var (types, values, signature) = cases[i];
            Assert.Equal(calldata[i], "0x" + Convert.ToHexStringLower(AbiFunction.Parse(signature).EncodeCall(values)));
            Assert.Equal(encoded[i], "0x" + Convert.ToHexStringLower(ourEncodings[i]));

            // cast reads our encoding as the values we encoded.
            using var json = JsonDocument.Parse(decodedByCast[i]);
            Assert.Equal(AbiRandom.Canonical(values), AbiRandom.Canonical(json.RootElement));

            // We read cast's encoding as the values it was given.
            var decoded = AbiCodec.Decode(types, Convert.FromHexString(encoded[i][2..]));
            Assert.Equal(AbiRandom.Canonical(values), AbiRandom.Canonical(decoded.ToArray()));
        }
    }

    [Fact]
    public void DecodeInput_CastDecodeCalldata_Agrees()
    {
        var function = AbiFunction.Parse("claim(bytes32 taskKey, address account, uint256 cumulativeAmount, bytes32[] proof)");
        var random = new Random(3);
        var values = function.Inputs.Select(p => AbiRandom.Value(random, p.Type)).ToArray();
        var calldata = function.EncodeCall(values);

        var castJson = Foundry.Cast("decode-calldata", "--json", function.Signature, "0x" + Convert.ToHexStringLower(calldata));

        using var json = JsonDocument.Parse(castJson);
        Assert.Equal(AbiRandom.Canonical(values), AbiRandom.Canonical(json.RootElement));
        Assert.Equal(AbiRandom.Canonical(values), AbiRandom.Canonical(function.DecodeCall(calldata).ToArray()));
    }

    [Fact]
    public void ErrorSelectors_EqualCastSig()
    {
        string[] errors = ["RoundOutOfOrder(uint64,uint64)", "ParentModelMismatch(bytes32,bytes32)", "InvalidProof()", "AccessControlUnauthorizedAccount(address,bytes32)", "Error(string)", "Panic(uint256)"];

        var expected = CastBatch.Run([.. errors.Select(e => new[] { "sig", e })]);

        for (var i = 0; i < errors.Length; i++)
        {
            Assert.Equal(expected[i], AbiError.Parse(errors[i]).SelectorHex);
        }

        Assert.Equal("0x08c379a0", AbiError.ErrorString.SelectorHex);
        Assert.Equal("0x4e487b71", AbiError.Panic.SelectorHex);
    }

    [Fact]
    public void ContractAbi_CompiledLedgerArtifact_SelectorsEqualCastSig()
    {
        // The compiled FedAggLedger (contracts/artifacts, committed): every function, event and error agrees with cast.
        var path = Path.Combine(RepositoryRoot.Path, "contracts", "artifacts", "FedAggLedger.json");
        Assert.True(File.Exists(path), $"{path} is missing: run `node contracts/compile.mjs`.");
        var abi = ContractAbi.Parse(File.ReadAllText(path));
        Assert.NotEmpty(abi.Functions);

        var functions = CastBatch.Run([.. abi.Functions.Select(f => new[] { "sig", f.Signature })]);
        var events = CastBatch.Run([.. abi.Events.Select(e => new[] { "sig-event", e.Signature })]);
        var errors = CastBatch.Run([.. abi.Errors.Select(e => new[] { "sig", e.Signature })]);

        Assert.Equal(functions, abi.Functions.Select(f => f.SelectorHex));
        Assert.Equal(events, abi.Events.Select(e => e.Topic0.ToString()));
        Assert.Equal(errors, abi.Errors.Select(e => e.SelectorHex));
    }
}
