using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using FedAgg.TestKit.Processes;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>
/// FedAggLedger's cumulative credit claims on a real anvil, with credits trees built by FedAgg.Core's
/// StandardMerkleTree and by @openzeppelin/merkle-tree in node; revert payloads and events computed by cast.
/// </summary>
[Trait("Category", "Chain")]
public sealed class LedgerClaimTests(LedgerFixture ledger) : IClassFixture<LedgerFixture>
{
    private const string ClaimDelay = "600";

    [Fact]
    public void Claim_ValidProofSubmittedByAnyone_PaysAccountAndEmitsCreditsClaimed()
    {
        // Credits are per account over all tasks, so each test has its own accounts.
        var accounts = CreditsTree.Addresses("claim-valid-account", 6);
        var (taskKey, tree) = RegisterAndAnchor("claim-valid", Amounts(accounts, 100));
        var account = accounts[2];

        // The outsider pays for the transaction; the credits go to the account in the leaf.
        var receipt = ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, account, tree.AmountOf(account), tree.ProofOf(account));

        var log = Assert.Single(receipt.Logs);
        Assert.Equal(ledger.Address, log.Address, ignoreCase: true);
        Assert.Equal([LedgerFixture.Keccak("CreditsClaimed(bytes32,address,uint256,uint256)"), taskKey, LedgerFixture.AddressTopic(account)], log.Topics);
        Assert.Equal(LedgerFixture.AbiEncode("f(uint256,uint256)", "300", "300"), log.Data);
        Assert.Equal(new BigInteger(300), ledger.CallUInt("credits(address)", account));
        Assert.Equal(new BigInteger(300), ledger.CallUInt("claimed(bytes32,address)", taskKey, account));
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("credits(address)", LedgerFixture.OutsiderAddress));
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("claimed(bytes32,address)", taskKey, accounts[3]));

        // The account itself could claim too: any sender works (here the anchor key for another account).
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.ClaimSignature, taskKey, accounts[3], tree.AmountOf(accounts[3]), tree.ProofOf(accounts[3]));
        Assert.Equal(new BigInteger(400), ledger.CallUInt("credits(address)", accounts[3]));
    }

    [Fact]
    public async Task Claim_BadProofAmountOrAccount_RevertsInvalidProof()
    {
        var accounts = CreditsTree.Addresses("claim-invalid-account", 6);
        var (taskKey, tree) = RegisterAndAnchor("claim-invalid", Amounts(accounts, 10));
        var account = accounts[1];
        var proof = tree.ProofHashesOf(account);
        var invalidProof = LedgerFixture.Calldata("InvalidProof()");

        var cases = new (string Account, string Amount, string Proof)[]
        {
            (account, "21", tree.ProofOf(account)),                                        // amount above the leaf's
            (account, "19", tree.ProofOf(account)),                                        // amount below the leaf's
            (accounts[4], tree.AmountOf(account), tree.ProofOf(account)),                  // someone else's leaf
            (account, tree.AmountOf(account), tree.ProofOf(accounts[2])),                  // another leaf's proof
            (account, tree.AmountOf(account), LedgerFixture.Array(proof[..^1])),           // truncated
            (account, tree.AmountOf(account), LedgerFixture.Array([.. proof, tree.Root])), // extended
            (account, tree.AmountOf(account), "[]"),                                       // empty
            (account, tree.AmountOf(account), LedgerFixture.Array([LedgerFixture.InputHash("x"), .. proof[1..]])), // one sibling changed
        };
        foreach (var (claimant, amount, badProof) in cases)
        {
            Assert.Equal(invalidProof, await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, claimant, amount, badProof));
        }

        Assert.Equal(BigInteger.Zero, ledger.CallUInt("credits(address)", account));
        Assert.Equal(
            LedgerFixture.Calldata("ZeroAddress()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, "0x0000000000000000000000000000000000000000", "1", "[]"));
    }

    [Fact]
    public async Task Claim_UnknownTask_RevertsUnknownTask()
    {
        var accounts = CreditsTree.Addresses("claim-unknown-account", 6);
        var taskKey = LedgerFixture.InputHash("claim-unknown-task");

        Assert.Equal(
            LedgerFixture.Calldata("UnknownTask(bytes32)", taskKey),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, accounts[0], "1", "[]"));
    }

    [Fact]
    public async Task Claim_Twice_RevertsNothingToClaim()
    {
        var accounts = CreditsTree.Addresses("claim-twice-account", 6);
        var (taskKey, tree) = RegisterAndAnchor("claim-twice", Amounts(accounts, 7));
        var account = accounts[0];
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, account, tree.AmountOf(account), tree.ProofOf(account));

        Assert.Equal(
            LedgerFixture.Calldata("NothingToClaim()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, account, tree.AmountOf(account), tree.ProofOf(account)));
        Assert.Equal(new BigInteger(7), ledger.CallUInt("credits(address)", account));
    }

    [Fact]
    public async Task Claim_AfterNewCreditsRoot_PaysOnlyTheDifference()
    {
        var accounts = CreditsTree.Addresses("claim-difference-account", 6);
        var first = new CreditsTree(accounts.Select((a, i) => (a, new BigInteger((i + 1) * 1000))));
        var (taskKey, settings, initialModel) = Register("claim-difference", delay: null);
        var round1 = LedgerRound.Derive(taskKey, 1, initialModel, settings, "difference", creditsRoot: first.Root);
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round1.Arguments);
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[0], first.AmountOf(accounts[0]), first.ProofOf(accounts[0]));

        // Round 2: account 0 earned 250 more, account 1 nothing more, a new account joins.
        var newcomer = CreditsTree.Addresses("claim-newcomer", 1)[0];
        var second = new CreditsTree([(accounts[0], 1250), (accounts[1], 2000), (newcomer, 5)]);
        var round2 = LedgerRound.Derive(taskKey, 2, round1.ModelHash, settings, "difference", creditsRoot: second.Root);
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round2.Arguments);

        var receipt = ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[0], "1250", second.ProofOf(accounts[0]));

        Assert.Equal(LedgerFixture.AbiEncode("f(uint256,uint256)", "250", "1250"), Assert.Single(receipt.Logs).Data);
        Assert.Equal(new BigInteger(1250), ledger.CallUInt("credits(address)", accounts[0]));
        Assert.Equal(new BigInteger(1250), ledger.CallUInt("claimed(bytes32,address)", taskKey, accounts[0]));

        // Account 1 never claimed round 1: it gets its whole cumulative amount once, from the new root only.
        Assert.Equal(
            LedgerFixture.Calldata("InvalidProof()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, accounts[1], first.AmountOf(accounts[1]), first.ProofOf(accounts[1])));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[1], "2000", second.ProofOf(accounts[1]));
        Assert.Equal(new BigInteger(2000), ledger.CallUInt("credits(address)", accounts[1]));
        Assert.Equal(
            LedgerFixture.Calldata("NothingToClaim()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, accounts[1], "2000", second.ProofOf(accounts[1])));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, newcomer, "5", second.ProofOf(newcomer));
        Assert.Equal(new BigInteger(5), ledger.CallUInt("credits(address)", newcomer));

        // Credits add up over tasks, each task keeping its own claimed amounts.
        var (otherTask, otherTree) = RegisterAndAnchor("claim-difference-other", Amounts(accounts, 1));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, otherTask, accounts[0], otherTree.AmountOf(accounts[0]), otherTree.ProofOf(accounts[0]));
        Assert.Equal(new BigInteger(1251), ledger.CallUInt("credits(address)", accounts[0]));
        Assert.Equal(BigInteger.One, ledger.CallUInt("claimed(bytes32,address)", otherTask, accounts[0]));
        Assert.Equal(new BigInteger(1250), ledger.CallUInt("claimed(bytes32,address)", taskKey, accounts[0]));
    }

    [Fact]
    public async Task Claim_TreeBuiltByOpenZeppelinMerkleTree_PaysCredits()
    {
        var accounts = CreditsTree.Addresses("claim-openzeppelin-account", 6);
        const string script = """
            import fs from 'node:fs';
            import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
            const input = JSON.parse(fs.readFileSync(0, 'utf8'));
            const tree = StandardMerkleTree.of(input.values, ['address', 'uint256']);
            const proofs = input.values.map((_, i) => tree.getProof(i));
            process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
            """;
        var values = accounts.Select((a, i) => new JsonArray(a, ((i * 31) + 17).ToString(CultureInfo.InvariantCulture))).ToArray();
        var output = JsonNode.Parse(await NodeRunner.RunModuleAsync(script, new JsonObject { ["values"] = new JsonArray(values) }.ToJsonString()))!;
        var root = output["root"]!.GetValue<string>();
        var ours = new CreditsTree(accounts.Select((a, i) => (a, new BigInteger((i * 31) + 17))));
        Assert.Equal(ours.Root, root);

        var (taskKey, settings, initialModel) = Register("claim-openzeppelin", delay: null);
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 1, initialModel, settings, "oz", creditsRoot: root).Arguments);

        for (var i = 0; i < accounts.Length; i++)
        {
            var proof = LedgerFixture.Array(output["proofs"]![i]!.AsArray().Select(p => p!.GetValue<string>()));
            var amount = ((i * 31) + 17).ToString(CultureInfo.InvariantCulture);
            var receipt = ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[i], amount, proof);
            Assert.Equal(LedgerFixture.AbiEncode("f(uint256,uint256)", amount, amount), Assert.Single(receipt.Logs).Data);
            Assert.Equal(new BigInteger((i * 31) + 17), ledger.CallUInt("claimed(bytes32,address)", taskKey, accounts[i]));
        }
    }

    [Fact]
    public async Task Claim_WithinClaimDelay_RevertsCreditsNotYetClaimableAndFallsBackToMaturedRoot()
    {
        var accounts = CreditsTree.Addresses("claim-delay-account", 6);
        var (taskKey, settings, initialModel) = Register("claim-delay", delay: ClaimDelay);
        var delay = ulong.Parse(ClaimDelay, CultureInfo.InvariantCulture);
        var account = accounts[0];

        // Round 1: nothing has matured, so nothing is claimable.
        var first = new CreditsTree([(account, 100), (accounts[1], 50)]);
        var round1 = LedgerRound.Derive(taskKey, 1, initialModel, settings, "delay", creditsRoot: first.Root);
        var anchored1 = ledger.BlockTimestamp(ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round1.Arguments));
        Assert.Equal(new BigInteger(anchored1 + delay), ledger.CallUInt("claimableAt(bytes32)", taskKey));
        Assert.Equal(LedgerFixture.Word(0), ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        Assert.Equal(first.Root, ledger.Call("creditsRoot(bytes32)", taskKey));
        Assert.Equal(
            LedgerFixture.Calldata("CreditsNotYetClaimable(bytes32,uint256)", taskKey, (anchored1 + delay).ToString(CultureInfo.InvariantCulture)),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, account, "100", first.ProofOf(account)));
        Assert.Equal(
            LedgerFixture.Calldata("InvalidProof()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, account, "101", first.ProofOf(account)));

        await ledger.IncreaseTimeAsync((long)delay + 1);
        Assert.Equal(first.Root, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, account, "100", first.ProofOf(account));
        Assert.Equal(new BigInteger(100), ledger.CallUInt("credits(address)", account));

        // Round 2 after round 1 matured: claims verify against round 1's root until round 2's delay passes.
        var second = new CreditsTree([(account, 160), (accounts[1], 50), (accounts[2], 7)]);
        var round2 = LedgerRound.Derive(taskKey, 2, round1.ModelHash, settings, "delay", creditsRoot: second.Root);
        var anchored2 = ledger.BlockTimestamp(ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round2.Arguments));
        Assert.Equal(first.Root, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        var notYet2 = LedgerFixture.Calldata("CreditsNotYetClaimable(bytes32,uint256)", taskKey, (anchored2 + delay).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(notYet2, await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, account, "160", second.ProofOf(account)));
        Assert.Equal(notYet2, await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, accounts[2], "7", second.ProofOf(accounts[2])));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[1], "50", first.ProofOf(accounts[1]));

        await ledger.IncreaseTimeAsync((long)delay + 1);
        Assert.Equal(second.Root, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        var receipt = ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, account, "160", second.ProofOf(account));
        Assert.Equal(LedgerFixture.AbiEncode("f(uint256,uint256)", "60", "160"), Assert.Single(receipt.Logs).Data);
        Assert.Equal(
            LedgerFixture.Calldata("InvalidProof()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, accounts[1], "50", first.ProofOf(accounts[1])));

        // Rounds 3 and 4 in quick succession: round 3's root is superseded before it matures, so claims stay on round
        // 2's root until round 4's delay has passed, and then move straight to round 4's.
        var third = new CreditsTree([(account, 170), (accounts[2], 8)]);
        var round3 = LedgerRound.Derive(taskKey, 3, round2.ModelHash, settings, "delay", creditsRoot: third.Root);
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round3.Arguments);
        var fourth = new CreditsTree([(account, 180), (accounts[2], 9)]);
        var round4 = LedgerRound.Derive(taskKey, 4, round3.ModelHash, settings, "delay", creditsRoot: fourth.Root);
        var anchored4 = ledger.BlockTimestamp(ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, round4.Arguments));
        Assert.Equal(second.Root, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        Assert.Equal(new BigInteger(anchored4 + delay), ledger.CallUInt("claimableAt(bytes32)", taskKey));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, accounts[2], "7", second.ProofOf(accounts[2]));
        Assert.Equal(
            LedgerFixture.Calldata("InvalidProof()"),
            await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, account, "170", third.ProofOf(account)));

        await ledger.IncreaseTimeAsync((long)delay + 1);
        Assert.Equal(fourth.Root, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
        ledger.Send(LedgerFixture.OutsiderKey, LedgerFixture.ClaimSignature, taskKey, account, "180", fourth.ProofOf(account));
        Assert.Equal(new BigInteger(180), ledger.CallUInt("credits(address)", account));
        Assert.Equal(new BigInteger(180), ledger.CallUInt("claimed(bytes32,address)", taskKey, account));
    }

    private static IEnumerable<(string, BigInteger)> Amounts(string[] accounts, int unit) => accounts.Select((a, i) => (a, new BigInteger((i + 1) * unit)));

    private (string TaskKey, string Settings, string InitialModel) Register(string taskId, string? delay)
    {
        var taskKey = LedgerFixture.InputHash(taskId);
        var settings = LedgerFixture.InputHash($"settings-{taskId}");
        var initialModel = LedgerFixture.InputHash($"initial-model-{taskId}");
        if (delay is null)
        {
            ledger.Send(LedgerFixture.CoordinatorKey, "registerTask(bytes32,bytes32,bytes32)", taskKey, settings, initialModel);
        }
        else
        {
            ledger.Send(LedgerFixture.CoordinatorKey, "registerTask(bytes32,bytes32,bytes32,uint64)", taskKey, settings, initialModel, delay);
        }

        return (taskKey, settings, initialModel);
    }

    private (string TaskKey, CreditsTree Tree) RegisterAndAnchor(string taskId, IEnumerable<(string, BigInteger)> credits)
    {
        var tree = new CreditsTree(credits);
        var (taskKey, settings, initialModel) = Register(taskId, delay: null);
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 1, initialModel, settings, taskId, creditsRoot: tree.Root).Arguments);
        return (taskKey, tree);
    }
}
