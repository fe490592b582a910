using System.Numerics;
using System.Text.Json.Nodes;
using FedAgg.Core.Merkle;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Core.Tests.Merkle;

public class StandardMerkleTreeTests
{
    // JSON.stringify(StandardMerkleTree.of(values, ['address', 'uint256']).dump()) from @openzeppelin/merkle-tree 1.0.8,
    // with the last value given twice.
    private const string OpenZeppelinThreeCredits =
        """{"format":"standard-v1","leafEncoding":["address","uint256"],"tree":["0x78b3288f7055e15897734529ea1b0ce19650fb9acad5c47c1eacbc6d5b89eb82","0xc1bf3bbb4ebf3082a1eedd2d14d6212ebb7e962574b2f9afd5bf53fa86d6e5de","0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283","0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc","0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc"],"values":[{"value":["0x1111111111111111111111111111111111111111","5000000000000000000"],"treeIndex":2},{"value":["0x2222222222222222222222222222222222222222","2500000000000000000"],"treeIndex":4},{"value":["0x2222222222222222222222222222222222222222","2500000000000000000"],"treeIndex":3}]}""";

    private static readonly byte[] AddressOne = Convert.FromHexString("1111111111111111111111111111111111111111");
    private static readonly byte[] AddressTwo = Convert.FromHexString("2222222222222222222222222222222222222222");

    private static StandardMerkleTree ThreeCredits() => StandardMerkleTree.ForCredits(
    [
        (AddressOne, BigInteger.Parse("5000000000000000000")),
        (AddressTwo, BigInteger.Parse("2500000000000000000")),
        (AddressTwo, BigInteger.Parse("2500000000000000000")),
    ]);

    [Fact]
    public void Dump_KnownOpenZeppelinTreeWithDuplicate_IdenticalText()
    {
        var tree = ThreeCredits();

        Assert.Equal(OpenZeppelinThreeCredits, tree.Dump());
        Assert.Equal(Bytes32.Parse("0x78b3288f7055e15897734529ea1b0ce19650fb9acad5c47c1eacbc6d5b89eb82"), tree.Root);
    }

    [Fact]
    public void GetProof_KnownOpenZeppelinTree_SameSiblings()
    {
        var tree = ThreeCredits();

        Assert.Equal(
            ["0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc", "0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283"],
            tree.GetProof(1).Select(p => p.ToString()));
        Assert.Equal(tree.GetProof(1), tree.GetProof(2));
        Assert.Equal(2, tree.IndexOf(tree.GetValue(1)));
    }

    [Fact]
    public void Of_SingleValue_RootIsLeafHashAndProofEmpty()
    {
        var tree = StandardMerkleTree.ForCredits([(AddressOne, 5)]);

        Assert.Equal(Bytes32.Parse("0xdc984b7043e0c8ae8e70bc0e6568af0135198234df994ba88ca915bbf0734048"), tree.Root);
        Assert.Equal(tree.GetLeafHash(0), tree.Root);
        Assert.Empty(tree.GetProof(0));
        Assert.True(StandardMerkleTree.Verify(tree.Root, tree.GetLeafHash(0), []));
        Assert.Equal(0, tree.GetTreeIndex(0));
    }

    [Fact]
    public void LeafHash_Row_IsDoubleKeccakOfAbiEncoding()
    {
        AbiValue[] row = [AbiValue.FromAddress(AddressOne), AbiValue.FromUint256(5)];

        var expected = Keccak256.Hash(Keccak256.Hash(AbiEncoding.Encode(row)));

        Assert.Equal(expected, StandardMerkleTree.LeafHash(row).ToArray());
    }

    [Fact]
    public void LeafHash_WideRow_SameAsEncodingByHand()
    {
        // More words than fit the stack buffer take the pooled path.
        var row = Enumerable.Range(0, 40).Select(i => AbiValue.FromUint32((uint)i)).ToArray();

        Assert.Equal(Keccak256.Hash(Keccak256.Hash(AbiEncoding.Encode(row))), StandardMerkleTree.LeafHash(row).ToArray());
    }

    [Fact]
    public void Of_NoValues_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.Of([], StandardMerkleTree.CreditLeafEncoding));
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.ForUpdates(Array.Empty<(ReadOnlyMemory<byte>, ReadOnlyMemory<byte>)>()));
    }

    [Fact]
    public void Of_RowNotMatchingEncoding_ThrowsArgumentException()
    {
        AbiValue[] wrongType = [AbiValue.FromAddress(AddressOne), AbiValue.FromUint64(5)];
        AbiValue[] tooShort = [AbiValue.FromAddress(AddressOne)];

        Assert.Throws<ArgumentException>(() => StandardMerkleTree.Of([wrongType], StandardMerkleTree.CreditLeafEncoding));
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.Of([tooShort], StandardMerkleTree.CreditLeafEncoding));
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.Of([new AbiValue[2]], StandardMerkleTree.CreditLeafEncoding));
        Assert.Throws<FormatException>(() => StandardMerkleTree.Of([tooShort], ["address", "string"]));
    }

    [Fact]
    public void ForUpdatesAndForCredits_WrongLengths_ThrowArgumentException()
    {
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.ForUpdates([(new byte[32], new byte[31])]));
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.ForUpdates([(new byte[33], new byte[32])]));
        Assert.Throws<ArgumentException>(() => StandardMerkleTree.ForCredits([(new byte[32], BigInteger.One)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardMerkleTree.ForCredits([(AddressOne, BigInteger.MinusOne)]));
    }

    [Fact]
    public void ForUpdates_SpanAndBytes32Inputs_SameTree()
    {
        var random = new Random(3);
        var pairs = Enumerable.Range(0, 9).Select(_ => (Bytes32Tests.RandomBytes32(random), Bytes32Tests.RandomBytes32(random))).ToArray();

        var fromBytes32 = StandardMerkleTree.ForUpdates(pairs);
        var fromMemory = StandardMerkleTree.ForUpdates(pairs.Select(p => ((ReadOnlyMemory<byte>)p.Item1.ToArray(), (ReadOnlyMemory<byte>)p.Item2.ToArray())));
        var fromRows = StandardMerkleTree.Of(pairs.Select(p => new[] { AbiValue.FromBytes32(p.Item1), AbiValue.FromBytes32(p.Item2) }), ["bytes32", "bytes32"]);

        Assert.Equal(fromBytes32.Dump(), fromMemory.Dump());
        Assert.Equal(fromBytes32.Dump(), fromRows.Dump());
    }

    [Fact]
    public void Of_SortLeaves_LeavesDescendFromTheEnd()
    {
        var tree = StandardMerkleTree.Of(MerkleTestValues.Updates(new Random(5), 50), StandardMerkleTree.UpdateLeafEncoding);

        var leaves = tree.Tree[(tree.Count - 1)..].ToArray();
        Assert.Equal(leaves.OrderDescending(), leaves);
    }

    [Fact]
    public void Of_UnsortedLeaves_InputOrderReversedAtTheEnd()
    {
        var rows = MerkleTestValues.Updates(new Random(6), 20);

        var tree = StandardMerkleTree.Of(rows, StandardMerkleTree.UpdateLeafEncoding, sortLeaves: false);

        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(tree.Tree.Length - 1 - i, tree.GetTreeIndex(i));
            Assert.True(tree.Verify(i, tree.GetProof(i)));
        }
    }

    [Fact]
    public void Verify_TamperedProofWrongLeafOrWrongRoot_False()
    {
        var tree = StandardMerkleTree.Of(MerkleTestValues.Credits(new Random(8), 37), StandardMerkleTree.CreditLeafEncoding);
        var proof = tree.GetProof(11);
        var leaf = tree.GetLeafHash(11);
        Assert.True(StandardMerkleTree.Verify(tree.Root, leaf, proof));
        Assert.True(StandardMerkleTree.Verify(tree.Root, tree.GetValue(11), proof));

        for (var element = 0; element < proof.Length; element++)
        {
            for (var bit = 0; bit < 256; bit += 37)
            {
                var tampered = (Bytes32[])proof.Clone();
                tampered[element] = FlipBit(tampered[element], bit);
                Assert.False(StandardMerkleTree.Verify(tree.Root, leaf, tampered), $"element {element} bit {bit}");
            }
        }

        Assert.False(StandardMerkleTree.Verify(tree.Root, tree.GetLeafHash(12), proof));
        Assert.False(StandardMerkleTree.Verify(tree.Root, tree.GetValue(12), proof));
        Assert.False(StandardMerkleTree.Verify(FlipBit(tree.Root, 0), leaf, proof));
        Assert.False(StandardMerkleTree.Verify(tree.Root, leaf, proof.AsSpan(..^1)));
        Assert.False(StandardMerkleTree.Verify(tree.Root, leaf, [.. proof, proof[0]]));
        Assert.False(StandardMerkleTree.Verify(tree.Root, leaf, proof.Reverse().ToArray()));
    }

    [Fact]
    public void Verify_InnerNodeAsLeaf_False()
    {
        // Leaves are double-hashed, so an inner node with the rest of its path is not a valid leaf of the same root.
        var tree = StandardMerkleTree.Of(MerkleTestValues.Credits(new Random(9), 8), StandardMerkleTree.CreditLeafEncoding);
        var proof = tree.GetProof(0);

        var parent = MerkleProof.HashPair(tree.GetLeafHash(0), proof[0]);

        Assert.True(MerkleProof.Verify(tree.Root, parent, proof.AsSpan(1..)));
        Assert.DoesNotContain(parent, Enumerable.Range(0, tree.Count).Select(tree.GetLeafHash));
    }

    [Fact]
    public void GetProof_OutOfRange_ThrowsArgumentOutOfRange()
    {
        var tree = ThreeCredits();

        Assert.Throws<ArgumentOutOfRangeException>(() => tree.GetProof(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.GetProof(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.GetValue(3).ToArray());
    }

    [Fact]
    public void GetProof_LeafNotInTree_ThrowsArgumentException()
    {
        var tree = ThreeCredits();

        Assert.Throws<ArgumentException>(() => tree.GetProof([AbiValue.FromAddress(AddressOne), AbiValue.FromUint256(6)]));
        Assert.Equal(-1, tree.IndexOf([AbiValue.FromAddress(AddressOne), AbiValue.FromUint256(6)]));
        Assert.Throws<ArgumentException>(() => tree.IndexOf([AbiValue.FromAddress(AddressOne)]));
        Assert.Equal(tree.GetProof(0), tree.GetProof([AbiValue.FromAddress(AddressOne), AbiValue.FromUint256(BigInteger.Parse("5000000000000000000"))]));
    }

    [Fact]
    public void Of_DuplicateValues_EachGetsALeafThatVerifies()
    {
        var random = new Random(10);
        var rows = MerkleTestValues.WithDuplicates(MerkleTestValues.Credits(random, 4), random, 30);

        var tree = StandardMerkleTree.Of(rows, StandardMerkleTree.CreditLeafEncoding);

        Assert.Equal(30, tree.Count);
        Assert.Equal(59, tree.Tree.Length);
        Assert.Equal(30, Enumerable.Range(0, 30).Select(tree.GetTreeIndex).Distinct().Count());
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.True(tree.Verify(i, tree.GetProof(i)));
        }
    }

    [Fact]
    public void GetProof_RandomTrees_EveryLeafVerifiesAndNoOtherLeaf()
    {
        var cases = from size in Gen.Choose(1, 70)
                    from seed in Gen.Choose(0, int.MaxValue)
                    from sorted in Gen.Elements(true, false)
                    select (Size: size, Seed: seed, Sorted: sorted);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var random = new Random(c.Seed);
            var rows = c.Seed % 2 == 0 ? MerkleTestValues.Updates(random, c.Size) : MerkleTestValues.Credits(random, c.Size);
            var tree = StandardMerkleTree.Of(rows, rows[0].Select(v => v.Type).ToArray(), c.Sorted);
            for (var i = 0; i < tree.Count; i++)
            {
                var proof = tree.GetProof(i);
                if (!StandardMerkleTree.Verify(tree.Root, rows[i], proof)
                    || (tree.Count > 1 && StandardMerkleTree.Verify(tree.Root, rows[(i + 1) % tree.Count], proof)))
                {
                    return false;
                }
            }

            return StandardMerkleTree.Load(tree.Dump()).Root == tree.Root;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void GetMultiProof_RandomSubsets_VerifiesAndTamperedFails()
    {
        var cases = from size in Gen.Choose(1, 40)
                    from seed in Gen.Choose(0, int.MaxValue)
                    select (Size: size, Seed: seed);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var random = new Random(c.Seed);
            var tree = StandardMerkleTree.Of(MerkleTestValues.Credits(random, c.Size), StandardMerkleTree.CreditLeafEncoding);
            var subset = Enumerable.Range(0, c.Size).Where(_ => random.Next(3) == 0).ToArray();

            var multiProof = tree.GetMultiProof(subset);

            var valid = StandardMerkleTree.VerifyMultiProof(tree.Root, multiProof)
                && multiProof.LeafValueIndices.Order().SequenceEqual(subset)
                && multiProof.LeafValueIndices.Select(tree.GetLeafHash).SequenceEqual(multiProof.Leaves);
            if (multiProof.Proof.Count == 0)
            {
                return valid;
            }

            var tampered = multiProof with { Proof = [FlipBit(multiProof.Proof[0], 5), .. multiProof.Proof.Skip(1)] };
            return valid && !StandardMerkleTree.VerifyMultiProof(tree.Root, tampered);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void GetMultiProof_EmptySet_ProvesRoot()
    {
        var tree = ThreeCredits();

        var multiProof = tree.GetMultiProof([]);

        Assert.Empty(multiProof.Leaves);
        Assert.Empty(multiProof.ProofFlags);
        Assert.Equal([tree.Root], multiProof.Proof);
        Assert.True(StandardMerkleTree.VerifyMultiProof(tree.Root, multiProof));
    }

    [Fact]
    public void GetMultiProof_DuplicateIndex_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => ThreeCredits().GetMultiProof([1, 0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreeCredits().GetMultiProof([3]));
    }

    [Fact]
    public void VerifyMultiProof_MalformedCounts_FalseAndProcessThrows()
    {
        var tree = ThreeCredits();
        var good = tree.GetMultiProof([0, 1]);
        MerkleMultiProof[] malformed =
        [
            good with { ProofFlags = [.. good.ProofFlags, true] },
            good with { Proof = [] },
            new(good.Leaves, [tree.Root, tree.Root], [true, true, true]),
            new([], [tree.Root, tree.Root], [true]),
        ];

        foreach (var proof in malformed)
        {
            Assert.False(StandardMerkleTree.VerifyMultiProof(tree.Root, proof));
            Assert.Throws<ArgumentException>(() => MerkleProof.ProcessMultiProof(proof));
        }
    }

    [Fact]
    public void Load_OwnDump_RoundTrips()
    {
        var random = new Random(12);
        var tree = StandardMerkleTree.Of(MerkleTestValues.Mixed(random, 33), MerkleTestValues.MixedEncoding);

        var loaded = StandardMerkleTree.Load(tree.Dump());

        Assert.Equal(tree.Dump(), loaded.Dump());
        Assert.Equal(tree.Root, loaded.Root);
        Assert.Equal(tree.GetValue(7).ToArray(), loaded.GetValue(7).ToArray());
        Assert.Equal(tree.GetProof(7), loaded.GetProof(7));
    }

    [Fact]
    public void Load_OtherAcceptedValueForms_SameTree()
    {
        var dump = JsonNode.Parse(OpenZeppelinThreeCredits)!;
        dump["values"]![0]!["value"] = new JsonArray("0x1111111111111111111111111111111111111111", "0x4563918244F40000");
        dump["values"]![1]!["value"]![1] = JsonValue.Create(2500000000000000000UL);
        dump["leafEncoding"]![1] = "uint";
        dump["tree"]![4] = "B92C48E9D7ABE27FD8DFD6B5DFDBFB1C9A463F80C712B66F3A5180A090CCCAFC";

        var loaded = StandardMerkleTree.Load(dump.ToJsonString());

        Assert.Equal(OpenZeppelinThreeCredits, loaded.Dump());
    }

    [Fact]
    public void Load_FewerValuesThanLeaves_LoadsLikeOpenZeppelin()
    {
        var dump = JsonNode.Parse(OpenZeppelinThreeCredits)!;
        dump["values"]!.AsArray().RemoveAt(2);

        var loaded = StandardMerkleTree.Load(dump.ToJsonString());

        Assert.Equal(2, loaded.Count);
        Assert.Equal(Bytes32.Parse("0x78b3288f7055e15897734529ea1b0ce19650fb9acad5c47c1eacbc6d5b89eb82"), loaded.Root);
    }

    public static TheoryData<string, string, string> MalformedDumps => new()
    {
        { "not JSON", "{", "not valid JSON" },
        { "array", "[]", "expected a JSON object" },
        { "null", "null", "expected a JSON object" },
        { "other format", Edit(d => d["format"] = "simple-v1"), "unknown format 'simple-v1'" },
        { "no format", Edit(d => d.AsObject().Remove("format")), "unknown format" },
        { "no leaf encoding", Edit(d => d.AsObject().Remove("leafEncoding")), "expected leafEncoding" },
        { "dynamic type", Edit(d => d["leafEncoding"]![1] = "string"), "leafEncoding[1]" },
        { "no tree", Edit(d => d.AsObject().Remove("tree")), "expected tree" },
        { "empty tree", Edit(d => d["tree"] = new JsonArray()), "0 nodes" },
        { "even tree", Edit(d => d["tree"]!.AsArray().RemoveAt(4)), "4 nodes" },
        { "short node", Edit(d => d["tree"]![1] = "0x1234"), "tree[1]" },
        { "number node", Edit(d => d["tree"]![1] = 5), "tree[1]" },
        { "inner node changed", Edit(d => d["tree"]![1] = "0x" + new string('0', 64)), "tree[1] is not the hash of its children" },
        { "root changed", Edit(d => d["tree"]![0] = "0x" + new string('0', 64)), "tree[0] is not the hash of its children" },
        { "leaf changed", Edit(d => d["tree"]![2] = "0x" + new string('0', 64)), "values[0] does not hash to tree[2]" },
        { "amount changed", Edit(d => d["values"]![0]!["value"]![1] = "5000000000000000001"), "values[0] does not hash" },
        { "address changed", Edit(d => d["values"]![0]!["value"]![0] = "0x1111111111111111111111111111111111111112"), "values[0] does not hash" },
        { "index moved", Edit(d => d["values"]![0]!["treeIndex"] = 3), "values[0] does not hash to tree[3]" },
        { "index of inner node", Edit(d => d["values"]![0]!["treeIndex"] = 1), "not a leaf position" },
        { "index negative", Edit(d => d["values"]![0]!["treeIndex"] = -1), "not a leaf position" },
        { "index too large", Edit(d => d["values"]![0]!["treeIndex"] = 5), "not a leaf position" },
        { "index fractional", Edit(d => d["values"]![0]!["treeIndex"] = 2.5), "not a leaf position" },
        { "index huge", Edit(d => d["values"]![0]!["treeIndex"] = 1e300), "not a leaf position" },
        { "index string", Edit(d => d["values"]![0]!["treeIndex"] = "2"), "values[0] is not" },
        { "no values", Edit(d => d.AsObject().Remove("values")), "expected values" },
        { "value not array", Edit(d => d["values"]![0]!["value"] = "x"), "values[0] is not" },
        { "value entry null", Edit(d => d["values"]![0] = null), "values[0] is not" },
        { "value too short", Edit(d => d["values"]![0]!["value"]!.AsArray().RemoveAt(1)), "has 1 elements" },
        { "address without 0x", Edit(d => d["values"]![0]!["value"]![0] = "1111111111111111111111111111111111111111"), "values[0].value[0]" },
        { "address as number", Edit(d => d["values"]![0]!["value"]![0] = 17), "values[0].value[0]" },
        { "address null", Edit(d => d["values"]![0]!["value"]![0] = null), "values[0].value[0]" },
        { "amount fractional", Edit(d => d["values"]![0]!["value"]![1] = 1.5), "not an integer" },
        { "amount exponent", Edit(d => d["values"]![0]!["value"]![1] = 1e20), "not an integer" },
        { "amount negative", Edit(d => d["values"]![0]!["value"]![1] = "-5"), "values[0].value[1]" },
        { "amount too large", Edit(d => d["values"]![0]!["value"]![1] = "115792089237316195423570985008687907853269984665640564039457584007913129639936"), "out of range" },
        { "amount bool", Edit(d => d["values"]![0]!["value"]![1] = true), "values[0].value[1]" },
    };

    [Theory]
    [MemberData(nameof(MalformedDumps))]
    public void Load_MalformedDump_ThrowsFormatExceptionSayingWhere(string scenario, string json, string expectedMessagePart)
    {
        var exception = Assert.Throws<FormatException>(() => StandardMerkleTree.Load(json));

        Assert.True(exception.Message.Contains(expectedMessagePart, StringComparison.Ordinal), $"{scenario}: {exception.Message}");
    }

    [Fact]
    public void Load_RandomByteEdits_ThrowsOnlyFormatException()
    {
        var valid = StandardMerkleTree.Of(MerkleTestValues.Mixed(new Random(13), 5), MerkleTestValues.MixedEncoding).Dump();
        const string Alphabet = "0123456789abcdefx\"{}[],:.-eE truenl";
        var edits = from position in Gen.Choose(0, valid.Length - 1)
                    from character in Gen.Elements(Alphabet.ToCharArray())
                    from delete in Gen.Elements(true, false, false)
                    select (Position: position, Character: character, Delete: delete);
        Prop.ForAll(edits.ArrayOf().ToArbitrary(), changes =>
        {
            var text = valid;
            foreach (var (position, character, delete) in changes)
            {
                var at = Math.Min(position, text.Length - 1);
                text = delete ? text.Remove(at, 1) : text[..at] + character + text[(at + 1)..];
                if (text.Length == 0)
                {
                    text = " ";
                }
            }

            try
            {
                return StandardMerkleTree.Load(text).Root != default;
            }
            catch (FormatException)
            {
                return true;
            }
        }).QuickCheckThrowOnFailure();
    }

    private static string Edit(Action<JsonNode> edit)
    {
        var dump = JsonNode.Parse(OpenZeppelinThreeCredits)!;
        edit(dump);
        return dump.ToJsonString();
    }

    private static Bytes32 FlipBit(Bytes32 value, int bit)
    {
        var bytes = value.ToArray();
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        return new Bytes32(bytes);
    }
}
