using System.Numerics;
using FedAgg.Chain.Abi;
using FedAgg.Core.Merkle;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Chain.Tests.Abi;

public sealed class AbiDecoderTests
{
    private static readonly AbiParameterType[] Mixed = [.. new[] { "uint64", "bytes32[]", "string", "(address,bytes)[]", "int16[2]" }.Select(AbiParameterType.Parse)];

    [Fact]
    public void EncodeDecode_RandomTypesAndValues_RoundTrip()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            var types = Enumerable.Range(0, random.Next(0, 5)).Select(_ => AbiRandom.Type(random, 3)).ToArray();
            var values = types.Select(t => AbiRandom.Value(random, t)).ToArray();

            var encoded = AbiCodec.Encode(types, values);
            var decoded = AbiCodec.Decode(types, encoded);

            Assert.Equal(AbiCodec.GetEncodedLength(types, values), encoded.Length);
            Assert.Equal(AbiRandom.Canonical(values), AbiRandom.Canonical(decoded.ToArray()));
            Assert.Equal(encoded, AbiCodec.Encode(types, decoded.ToArray()));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_TruncatedOrTrailing_Rejected()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            var types = Enumerable.Range(0, random.Next(1, 4)).Select(_ => AbiRandom.Type(random, 2)).ToArray();
            var encoded = AbiCodec.Encode(types, types.Select(t => AbiRandom.Value(random, t)).ToArray());

            for (var length = 0; length < encoded.Length; length += 1 + (length % 7))
            {
                var prefix = encoded[..length];
                Assert.Throws<AbiDecodingException>(() => AbiCodec.Decode(types, prefix));
            }

            Assert.Throws<AbiDecodingException>(() => AbiCodec.Decode(types, [.. encoded, 0]));
            Assert.Equal(types.Length, AbiCodec.Decode(types, [.. encoded, .. new byte[32]], allowTrailingBytes: true).Count);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_RandomOrMutatedBytes_OnlyEverThrowsAbiDecodingException()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            var types = Enumerable.Range(0, random.Next(1, 4)).Select(_ => AbiRandom.Type(random, 3)).ToArray();
            byte[] input;
            if (random.Next(3) == 0)
            {
                input = new byte[random.Next(0, 300)];
                random.NextBytes(input);
            }
            else
            {
                input = AbiCodec.Encode(types, types.Select(t => AbiRandom.Value(random, t)).ToArray());
                for (var flips = random.Next(1, 4); flips > 0 && input.Length > 0; flips--)
                {
                    input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                }
            }

            try
            {
                var values = AbiCodec.Decode(types, input);
                Assert.Equal(types.Length, values.Count);
            }
            catch (AbiDecodingException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("uint8", "0000000000000000000000000000000000000000000000000000000000000100")]
    [InlineData("int8", "0000000000000000000000000000000000000000000000000000000000000080")]
    [InlineData("int8", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("bool", "0000000000000000000000000000000000000000000000000000000000000002")]
    [InlineData("address", "0000000000000000000000010000000000000000000000000000000000000000")]
    [InlineData("bytes4", "1234567800000000000000000000000000000000000000000000000000000001")]
    [InlineData("bytes", "0000000000000000000000000000000000000000000000000000000000000020" + "0000000000000000000000000000000000000000000000000000000000000001" + "1200000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("string", "0000000000000000000000000000000000000000000000000000000000000020" + "0000000000000000000000000000000000000000000000000000000000000001" + "ff00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("bytes", "0000000000000000000000000000000000000000000000000000000000000020" + "0000000000000000000000000000000000000000000000000000000000000021" + "1200000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("bytes", "00000000000000000000000000000000000000000000000000000000000000a0")]
    [InlineData("uint256[]", "0000000000000000000000000000000000000000000000000000000000000020" + "00000000000000000000000000000000000000000000000000000000ffffffff")]
    [InlineData("uint256[]", "0000000000000000000000000000000000000000000000000000000000000020" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void Decode_InvalidWords_Rejected(string type, string hex)
    {
        var error = Record.Exception(() => AbiCodec.Decode([AbiParameterType.Parse(type)], Convert.FromHexString(hex)));

        Assert.IsType<AbiDecodingException>(error);
    }

    [Fact]
    public void Decode_AliasingOffsets_RejectedInsteadOfAmplified()
    {
        // uint256[][] whose 1,000 outer elements all point at one 1,000-element inner array: 1,000,000 values from ~64 KB.
        const int count = 1000;
        var data = new byte[32 * (2 + count + 1 + count)];
        AbiEncoding.WriteUint64(32, data);
        AbiEncoding.WriteUint64(count, data.AsSpan(32));
        for (var i = 0; i < count; i++)
        {
            AbiEncoding.WriteUint64(32 * count, data.AsSpan(64 + (32 * i)));
        }

        AbiEncoding.WriteUint64(count, data.AsSpan(64 + (32 * count)));

        var error = Assert.Throws<AbiDecodingException>(() => AbiCodec.Decode([AbiParameterType.Parse("uint256[][]")], data));

        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_KnownEncoding_ValuesAndConversions()
    {
        var task = Keccak256.HashToBytes32("task"u8);
        var values = new object?[] { 7UL, new[] { task, Bytes32.Zero }, "héllo", new object[] { (EthereumAddress.Zero, new byte[] { 1 }) }, new BigInteger[] { -1, 300 } };

        var decoded = AbiCodec.Decode(Mixed, AbiCodec.Encode(Mixed, values));

        Assert.Equal(7UL, decoded.Get<ulong>(0));
        Assert.Equal([task, Bytes32.Zero], decoded.Get<Bytes32[]>(1));
        Assert.Equal("héllo", decoded.Get<string>(2));
        var tuple = Assert.IsType<AbiValues>(((object?[])decoded[3]!)[0]);
        Assert.Equal(EthereumAddress.Zero, tuple[0]);
        Assert.Equal(new short[] { -1, 300 }, decoded.Get<short[]>(4));
        Assert.Throws<OverflowException>(() => decoded.Get<byte[]>(4));
        Assert.Equal("(7, [" + task + ", " + Bytes32.Zero + "], \"héllo\", [(0x0000000000000000000000000000000000000000, 0x01)], [-1, 300])", decoded.ToString());
    }

    [Fact]
    public void Encode_WrongValues_ThrowNamingTheArgument()
    {
        var function = AbiFunction.Parse("anchorRound(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)");
        var hash = Bytes32.Zero;

        var overflow = Assert.Throws<ArgumentException>(() => function.EncodeCall(hash, BigInteger.One << 64, hash, hash, hash, hash, hash, 1u));
        Assert.Contains("Argument 1 (uint64)", overflow.Message, StringComparison.Ordinal);
        var wrongType = Assert.Throws<ArgumentException>(() => function.EncodeCall(hash, 1UL, "not bytes", hash, hash, hash, hash, 1u));
        Assert.Contains("Argument 2 (bytes32)", wrongType.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => function.EncodeCall(hash, 1UL));
        Assert.Throws<ArgumentException>(() => AbiCodec.Encode([AbiParameterType.Parse("bytes4")], [new byte[3]]));
        Assert.Throws<ArgumentException>(() => AbiCodec.Encode([AbiParameterType.Parse("uint8[2]")], [new object[] { 1 }]));
        Assert.Throws<ArgumentException>(() => AbiCodec.Encode([AbiParameterType.Parse("int8")], [128]));
    }

    [Theory]
    [InlineData("uint7")]
    [InlineData("uint264")]
    [InlineData("bytes33")]
    [InlineData("bytes0")]
    [InlineData("uint256[0]")]
    [InlineData("uint256[")]
    [InlineData("(uint256")]
    [InlineData("tuple")]
    [InlineData("address payable")]
    [InlineData("uint08")]
    public void Parse_InvalidTypes_ThrowFormatException(string text) =>
        Assert.Throws<FormatException>(() => AbiParameterType.Parse(text));

    [Fact]
    public void Parse_HumanReadableSignatures_NormaliseToCanonical()
    {
        var function = AbiFunction.Parse("function claim(bytes32 taskKey, address account, uint256 cumulativeAmount, bytes32[] calldata proof) external returns (uint256 paid)");
        Assert.Equal("claim(bytes32,address,uint256,bytes32[])", function.Signature);
        Assert.Equal("proof", function.Inputs[3].Name);
        Assert.Equal("paid", function.Outputs[0].Name);

        var view = AbiFunction.Parse("lastRound(bytes32)(uint64)");
        Assert.True(view.IsReadOnly || view.StateMutability == "nonpayable");
        Assert.Equal(5UL, view.DecodeOutput(view.EncodeOutput(5UL)).Get<ulong>(0));

        var e = AbiEvent.Parse("event Claimed(bytes32 indexed taskKey, (address who, uint256[] amounts) detail, string indexed note)");
        Assert.Equal("Claimed(bytes32,(address,uint256[]),string)", e.Signature);
        Assert.True(e.Inputs[0].Indexed);
        Assert.False(e.Inputs[1].Indexed);
        Assert.Throws<FormatException>(() => AbiFunction.Parse("f(uint256 indexed x)"));
    }

    [Fact]
    public void AbiEvent_EncodeDecode_IndexedValueTypesFromTopicsDynamicAsHashes()
    {
        var e = AbiEvent.Parse("event RoundAnchored(bytes32 indexed taskKey, uint64 indexed round, string indexed note, bytes32 modelHash, uint32 acceptedCount)");
        var task = Keccak256.HashToBytes32("t"u8);
        var noteHash = Keccak256.HashToBytes32("note"u8);
        var (topics, data) = e.Encode(task, 3UL, noteHash, Bytes32.Zero, 10u);

        var values = e.Decode(topics, data);

        Assert.Equal(e.Topic0, topics[0]);
        Assert.Equal(4, topics.Length);
        Assert.Equal(task, values.Get<Bytes32>("taskKey"));
        Assert.Equal(3UL, values.Get<ulong>("round"));
        Assert.Equal(noteHash, values["note"]);
        Assert.Equal(10u, values.Get<uint>("acceptedCount"));
        Assert.Throws<AbiDecodingException>(() => e.Decode(topics[..3], data));
        Assert.Throws<AbiDecodingException>(() => e.Decode([Bytes32.Zero, .. topics[1..]], data));
        Assert.Throws<AbiDecodingException>(() => e.Decode(topics, [.. data, 0]));
        var badRound = (Bytes32[])topics.Clone();
        badRound[2] = Keccak256.HashToBytes32("not a uint64"u8);
        Assert.Throws<AbiDecodingException>(() => e.Decode(badRound, data));
    }

    [Fact]
    public void RevertDecoder_StandardAndCustomErrors_ReadableText()
    {
        var abi = ContractAbi.Parse(LedgerLikeAbi);
        var roundOutOfOrder = abi.GetError("RoundOutOfOrder");

        Assert.Equal("RoundOutOfOrder(expected: 3, got: 5)", RevertDecoder.Describe(roundOutOfOrder.Encode(3UL, 5UL), abi));
        Assert.Equal("InvalidProof()", RevertDecoder.Describe(abi.GetError("InvalidProof").Encode(), abi));
        Assert.Equal("task not registered", RevertDecoder.Describe(AbiError.ErrorString.Encode("task not registered")));
        Assert.Equal("Panic(0x11: arithmetic overflow or underflow)", RevertDecoder.Describe(AbiError.Panic.Encode(0x11)));
        Assert.Equal("Panic(0x32: array index out of bounds)", RevertDecoder.Describe(AbiError.Panic.Encode(0x32)));
        Assert.Equal(RevertKind.Empty, RevertDecoder.Decode([]).Kind);
        var unknown = RevertDecoder.Decode(roundOutOfOrder.Encode(3UL, 5UL));
        Assert.Equal(RevertKind.Unknown, unknown.Kind);
        Assert.Contains(roundOutOfOrder.SelectorHex, unknown.Message, StringComparison.Ordinal);
        var truncated = RevertDecoder.Decode(AbiError.ErrorString.Encode("x").AsSpan(0, 40));
        Assert.Equal(RevertKind.Unknown, truncated.Kind);
    }

    [Fact]
    public void ContractAbi_Parse_FindsByNameSignatureSelectorAndTopic()
    {
        var abi = ContractAbi.Parse(LedgerLikeAbi);

        Assert.Throws<InvalidOperationException>(() => abi.GetFunction("registerTask"));
        var register4 = abi.GetFunction("registerTask(bytes32,bytes32,bytes32,uint64)");
        Assert.Equal(4, register4.Inputs.Count);
        Assert.Same(register4, abi.FindFunction(register4.EncodeCall(Bytes32.Zero, Bytes32.Zero, Bytes32.Zero, 60UL)));
        Assert.Equal("view", abi.GetFunction("lastRound").StateMutability);
        Assert.Throws<KeyNotFoundException>(() => abi.GetFunction("nope"));
        var claimed = abi.GetEvent("Claimed");
        Assert.Equal("Claimed(bytes32,(address,uint256)[])", claimed.Signature);
        Assert.Same(claimed, abi.FindEvent(claimed.Topic0));
        Assert.Single(abi.Constructor.Inputs);
        Assert.Equal([0x60, 0x00, .. new byte[12], .. EthereumAddress.Zero.AsSpan().ToArray()], abi.Constructor.EncodeDeployment([0x60, 0x00], EthereumAddress.Zero));
        Assert.Throws<FormatException>(() => ContractAbi.Parse("[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint7\"}]}]"));
        Assert.Throws<FormatException>(() => ContractAbi.Parse("{"));
    }

    private const string LedgerLikeAbi = """
        [
          {"type":"constructor","inputs":[{"name":"admin","type":"address"}],"stateMutability":"nonpayable"},
          {"type":"function","name":"registerTask","inputs":[{"name":"taskKey","type":"bytes32"},{"name":"settingsHash","type":"bytes32"},{"name":"initialModelHash","type":"bytes32"}],"outputs":[],"stateMutability":"nonpayable"},
          {"type":"function","name":"registerTask","inputs":[{"name":"taskKey","type":"bytes32"},{"name":"settingsHash","type":"bytes32"},{"name":"initialModelHash","type":"bytes32"},{"name":"claimDelay","type":"uint64"}],"outputs":[],"stateMutability":"nonpayable"},
          {"type":"function","name":"lastRound","inputs":[{"name":"taskKey","type":"bytes32"}],"outputs":[{"name":"","type":"uint64"}],"stateMutability":"view"},
          {"type":"event","name":"Claimed","anonymous":false,"inputs":[{"name":"taskKey","type":"bytes32","indexed":true},{"name":"items","type":"tuple[]","indexed":false,"components":[{"name":"account","type":"address"},{"name":"amount","type":"uint256"}]}]},
          {"type":"error","name":"RoundOutOfOrder","inputs":[{"name":"expected","type":"uint64"},{"name":"got","type":"uint64"}]},
          {"type":"error","name":"InvalidProof","inputs":[]},
          {"type":"receive","stateMutability":"payable"}
        ]
        """;
}
