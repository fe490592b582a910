using System.Text.Json;
using System.Text.Json.Nodes;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Processes;

namespace FedAgg.Core.Tests.Merkle;

/// <summary>
/// Cross-checks against <c>@openzeppelin/merkle-tree</c> (the npm package in the repository's node_modules): one
/// node run builds OpenZeppelin's trees for every case and checks ours, and each test compares one aspect.
/// </summary>
[Trait("Category", "Interop")]
public sealed class StandardMerkleTreeInteropTests(StandardMerkleTreeInteropTests.OpenZeppelinResults results)
    : IClassFixture<StandardMerkleTreeInteropTests.OpenZeppelinResults>
{
    // For each case: OpenZeppelin's tree of the same values, its dump and proofs, its verdict on our proofs and
    // multiproofs, and the root of our dump loaded by StandardMerkleTree.load.
    private const string Script = """
        import fs from 'node:fs';
        import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
        const input = JSON.parse(fs.readFileSync(0, 'utf8'));
        const output = input.cases.map(c => {
          const tree = StandardMerkleTree.of(c.values, c.encoding, { sortLeaves: c.sortLeaves });
          const loaded = StandardMerkleTree.load(JSON.parse(c.ourDump));
          return {
            name: c.name,
            root: tree.root,
            dump: JSON.stringify(tree.dump()),
            proofs: c.values.map((_, i) => tree.getProof(i)),
            verifiesOurProofs: c.ourProofs.map((proof, i) => StandardMerkleTree.verify(c.ourRoot, c.encoding, c.values[i], proof)),
            rejectsOurTamperedProofs: c.ourProofs.map((proof, i) => proof.length === 0 ||
              !StandardMerkleTree.verify(c.ourRoot, c.encoding, c.values[i], [...proof.slice(0, -1), c.ourRoot])),
            loadedRoot: loaded.root,
            loadedProofs: c.proofSample.map(i => loaded.getProof(i)),
            multiProofs: c.multiIndices.map(indices => tree.getMultiProof(indices)),
            verifiesOurMultiProofs: c.ourMultiProofs.map(m => StandardMerkleTree.verifyMultiProof(c.ourRoot, c.encoding, m)),
          };
        });
        process.stdout.write(JSON.stringify(output));
        """;

    public static TheoryData<string> CaseNames => [.. OpenZeppelinResults.BuildCases().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Root_SameValues_EqualsOpenZeppelinRoot(string name)
    {
        var (tree, theirs) = results.Get(name);

        Assert.Equal(theirs["root"]!.GetValue<string>(), tree.Root.ToString());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Dump_SameValues_IdenticalToOpenZeppelinDumpText(string name)
    {
        var (tree, theirs) = results.Get(name);

        Assert.Equal(theirs["dump"]!.GetValue<string>(), tree.Dump());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GetProof_EveryValue_EqualsOpenZeppelinProof(string name)
    {
        var (tree, theirs) = results.Get(name);
        var proofs = theirs["proofs"]!.AsArray();

        Assert.Equal(tree.Count, proofs.Count);
        for (var i = 0; i < tree.Count; i++)
        {
            Assert.Equal(Hashes(proofs[i]!), tree.GetProof(i));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Verify_OpenZeppelinProofs_AllAccepted(string name)
    {
        var (tree, theirs) = results.Get(name);
        var root = Bytes32.Parse(theirs["root"]!.GetValue<string>());
        var proofs = theirs["proofs"]!.AsArray();

        for (var i = 0; i < tree.Count; i++)
        {
            Assert.True(StandardMerkleTree.Verify(root, tree.GetValue(i), Hashes(proofs[i]!)), $"value {i}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OpenZeppelinVerify_OurProofs_AllAcceptedAndTamperedRejected(string name)
    {
        var (_, theirs) = results.Get(name);

        Assert.All(theirs["verifiesOurProofs"]!.AsArray(), verdict => Assert.True(verdict!.GetValue<bool>()));
        Assert.All(theirs["rejectsOurTamperedProofs"]!.AsArray(), verdict => Assert.True(verdict!.GetValue<bool>()));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OpenZeppelinLoad_OurDump_SameRootAndProofs(string name)
    {
        var (tree, theirs) = results.Get(name);
        var sample = OpenZeppelinResults.ProofSample(tree.Count);
        var loadedProofs = theirs["loadedProofs"]!.AsArray();

        Assert.Equal(tree.Root.ToString(), theirs["loadedRoot"]!.GetValue<string>());
        for (var i = 0; i < sample.Length; i++)
        {
            Assert.Equal(Hashes(loadedProofs[i]!), tree.GetProof(sample[i]));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Load_OpenZeppelinDump_SameTree(string name)
    {
        var (tree, theirs) = results.Get(name);

        var loaded = StandardMerkleTree.Load(theirs["dump"]!.GetValue<string>());

        Assert.Equal(tree.Root, loaded.Root);
        Assert.Equal(tree.Tree.ToArray(), loaded.Tree.ToArray());
        for (var i = 0; i < tree.Count; i++)
        {
            Assert.Equal(tree.GetValue(i).ToArray(), loaded.GetValue(i).ToArray());
            Assert.Equal(tree.GetTreeIndex(i), loaded.GetTreeIndex(i));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GetMultiProof_IndexSets_EqualsOpenZeppelinAndVerifiesBothWays(string name)
    {
        var (tree, theirs) = results.Get(name);
        var multiProofs = theirs["multiProofs"]!.AsArray();
        var indexSets = OpenZeppelinResults.MultiIndices(tree.Count);

        Assert.Equal(indexSets.Length, multiProofs.Count);
        for (var s = 0; s < indexSets.Length; s++)
        {
            var ours = tree.GetMultiProof(indexSets[s]);
            var their = multiProofs[s]!;
            var theirLeaves = their["leaves"]!.AsArray().Select(row => OpenZeppelinResults.ParseRow(row!, tree.LeafEncoding)).ToArray();
            var theirProof = new MerkleMultiProof(
                [.. theirLeaves.Select(row => StandardMerkleTree.LeafHash(row))],
                Hashes(their["proof"]!),
                [.. their["proofFlags"]!.AsArray().Select(flag => flag!.GetValue<bool>())]);

            Assert.Equal(theirProof.Leaves, ours.Leaves);
            Assert.Equal(theirProof.Proof, ours.Proof);
            Assert.Equal(theirProof.ProofFlags, ours.ProofFlags);
            Assert.Equal(theirLeaves, ours.LeafValueIndices.Select(i => tree.GetValue(i).ToArray()));
            Assert.True(StandardMerkleTree.VerifyMultiProof(tree.Root, theirProof), $"index set {s}");
        }

        Assert.All(theirs["verifiesOurMultiProofs"]!.AsArray(), verdict => Assert.True(verdict!.GetValue<bool>()));
    }

    private static Bytes32[] Hashes(JsonNode array) => [.. array.AsArray().Select(node => Bytes32.Parse(node!.GetValue<string>()))];

    /// <summary>Builds every case, runs node once, and keeps OpenZeppelin's answers by case name.</summary>
    public sealed class OpenZeppelinResults : IAsyncLifetime
    {
        private readonly Dictionary<string, (StandardMerkleTree Tree, JsonNode Theirs)> _results = [];

        internal sealed record Case(string Name, AbiValue[][] Values, AbiType[] Encoding, bool SortLeaves);

        public (StandardMerkleTree Tree, JsonNode Theirs) Get(string name) => _results[name];

        public async Task InitializeAsync()
        {
            var cases = BuildCases();
            var trees = cases.Select(c => StandardMerkleTree.Of(c.Values, c.Encoding, c.SortLeaves)).ToArray();
            var input = new JsonObject
            {
                ["cases"] = new JsonArray([.. cases.Select((c, k) => (JsonNode)Describe(c, trees[k]))]),
            };

            var output = JsonNode.Parse(await NodeRunner.RunModuleAsync(Script, input.ToJsonString()))!.AsArray();

            Assert.Equal(cases.Length, output.Count);
            for (var k = 0; k < cases.Length; k++)
            {
                Assert.Equal(cases[k].Name, output[k]!["name"]!.GetValue<string>());
                _results[cases[k].Name] = (trees[k], output[k]!);
            }
        }

        public Task DisposeAsync() => Task.CompletedTask;

        internal static Case[] BuildCases()
        {
            var cases = new List<Case>();
            foreach (var size in new[] { 1, 2, 3, 7, 100, 1000 })
            {
                cases.Add(new($"updates-{size}", MerkleTestValues.Updates(new Random(1000 + size), size), [.. StandardMerkleTree.UpdateLeafEncoding], true));
                cases.Add(new($"credits-{size}", MerkleTestValues.Credits(new Random(2000 + size), size), [.. StandardMerkleTree.CreditLeafEncoding], true));
            }

            var duplicateSource = new Random(3000);
            cases.Add(new("updates-duplicates-40", MerkleTestValues.WithDuplicates(MerkleTestValues.Updates(duplicateSource, 6), duplicateSource, 40), [.. StandardMerkleTree.UpdateLeafEncoding], true));
            cases.Add(new("credits-duplicates-40", MerkleTestValues.WithDuplicates(MerkleTestValues.Credits(duplicateSource, 6), duplicateSource, 40), [.. StandardMerkleTree.CreditLeafEncoding], true));
            cases.Add(new("credits-unsorted-100", MerkleTestValues.Credits(new Random(4000), 100), [.. StandardMerkleTree.CreditLeafEncoding], false));
            cases.Add(new("updates-unsorted-duplicates-9", MerkleTestValues.WithDuplicates(MerkleTestValues.Updates(duplicateSource, 3), duplicateSource, 9), [.. StandardMerkleTree.UpdateLeafEncoding], false));
            cases.Add(new("mixed-types-50", MerkleTestValues.Mixed(new Random(5000), 50), MerkleTestValues.MixedEncoding, true));
            return [.. cases];
        }

        /// <summary>Values whose proofs OpenZeppelin recomputes after loading our dump.</summary>
        internal static int[] ProofSample(int count) => [.. Enumerable.Range(0, count).Where(i => i < 5 || i % 97 == 0 || i == count - 1).Distinct()];

        /// <summary>Index sets for multiproofs: empty, one, all, a random third, and a few in descending order.</summary>
        internal static int[][] MultiIndices(int count)
        {
            var random = new Random(count);
            return
            [
                [],
                [count - 1],
                [.. Enumerable.Range(0, count)],
                [.. Enumerable.Range(0, count).Where(_ => random.Next(3) == 0)],
                [.. Enumerable.Range(0, Math.Min(count, 5)).Reverse()],
            ];
        }

        internal static AbiValue[] ParseRow(JsonNode row, IReadOnlyList<AbiType> encoding) =>
        [
            .. row.AsArray().Select((item, j) => item!.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                ? AbiValue.FromBool(item.GetValue<bool>())
                : AbiValue.Parse(encoding[j], item.GetValue<string>())),
        ];

        private static JsonObject Describe(Case c, StandardMerkleTree tree)
        {
            var multiIndices = MultiIndices(c.Values.Length);
            return new JsonObject
            {
                ["name"] = c.Name,
                ["encoding"] = new JsonArray([.. c.Encoding.Select(t => (JsonNode)t.ToString())]),
                ["values"] = new JsonArray([.. c.Values.Select(row => (JsonNode)Row(row))]),
                ["sortLeaves"] = c.SortLeaves,
                ["ourRoot"] = tree.Root.ToString(),
                ["ourDump"] = tree.Dump(),
                ["ourProofs"] = new JsonArray([.. Enumerable.Range(0, tree.Count).Select(i => (JsonNode)HashArray(tree.GetProof(i)))]),
                ["proofSample"] = new JsonArray([.. ProofSample(tree.Count).Select(i => (JsonNode)i)]),
                ["multiIndices"] = new JsonArray([.. multiIndices.Select(set => (JsonNode)new JsonArray([.. set.Select(i => (JsonNode)i)]))]),
                ["ourMultiProofs"] = new JsonArray([.. multiIndices.Select(set =>
                {
                    var proof = tree.GetMultiProof(set);
                    return (JsonNode)new JsonObject
                    {
                        ["leaves"] = new JsonArray([.. proof.LeafValueIndices.Select(i => (JsonNode)Row(tree.GetValue(i).ToArray()))]),
                        ["proof"] = HashArray(proof.Proof),
                        ["proofFlags"] = new JsonArray([.. proof.ProofFlags.Select(flag => (JsonNode)flag)]),
                    };
                })]),
            };
        }

        private static JsonArray Row(AbiValue[] row) =>
            new([.. row.Select(value => value.Type.Kind == AbiTypeKind.Bool
                ? (JsonNode)JsonValue.Create(!value.ToBigInteger().IsZero)
                : JsonValue.Create(value.ToString()))]);

        private static JsonArray HashArray(IEnumerable<Bytes32> hashes) => new([.. hashes.Select(hash => (JsonNode)hash.ToString())]);
    }
}
