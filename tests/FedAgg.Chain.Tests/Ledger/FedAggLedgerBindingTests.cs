using System.Globalization;
using System.Numerics;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;

namespace FedAgg.Chain.Tests.Ledger;

/// <summary>The typed FedAggLedger binding against a real anvil, its reads cross-checked with cast.</summary>
[Trait("Category", "Chain")]
public sealed class FedAggLedgerBindingTests : IAsyncLifetime
{
    private AnvilInstance _anvil = null!;
    private EthereumRpcClient _rpc = null!;
    private Secp256k1PrivateKey _adminKey = null!;
    private Secp256k1PrivateKey _anchorKey = null!;
    private TransactionSender _admin = null!;
    private TransactionSender _anchor = null!;

    public async Task InitializeAsync()
    {
        _anvil = await AnvilInstance.StartAsync();
        _rpc = new EthereumRpcClient(new Uri(_anvil.RpcUrl));
        _adminKey = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        _anchorKey = Secp256k1PrivateKey.FromHex(Foundry.DevKey1);
        var options = new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) };
        _admin = new TransactionSender(_rpc, _adminKey, options);
        _anchor = new TransactionSender(_rpc, _anchorKey, options);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _anchor.Dispose();
        _adminKey.Dispose();
        _anchorKey.Dispose();
        _rpc.Dispose();
        await _anvil.DisposeAsync();
    }

    [Fact]
    public async Task AnchorRoundAsync_ThreeRounds_ViewsEventsAndCommitmentsAgreeWithCast()
    {
        var ledger = await DeployAsync();
        var taskKey = FedAggLedger.TaskKey("fashion-mnist/mlp");
        var settings = Hash("settings");
        var initial = Hash("model-0");
        var registered = await ledger.RegisterTaskAsync(_admin, taskKey, settings, initial, 0, CancellationToken.None);

        var anchors = new List<RoundAnchor>();
        var parent = initial;
        for (ulong round = 1; round <= 3; round++)
        {
            var anchor = new RoundAnchor(taskKey, round, parent, Hash($"model-{round}"), Hash($"updates-{round}"), Hash($"credits-{round}"), settings, (uint)(round * 7));
            var receipt = await ledger.AnchorRoundAsync(_anchor, anchor, CancellationToken.None);
            Assert.True(receipt.Succeeded);
            anchors.Add(anchor);
            parent = anchor.ModelHash;
        }

        Assert.Equal(3UL, await ledger.LastRoundAsync(taskKey, CancellationToken.None));
        Assert.Equal(anchors[^1].ModelHash, await ledger.LatestModelHashAsync(taskKey, CancellationToken.None));
        Assert.Equal(anchors[^1].CreditsRoot, await ledger.CreditsRootAsync(taskKey, CancellationToken.None));
        foreach (var anchor in anchors)
        {
            var stored = await ledger.RoundCommitmentAsync(taskKey, anchor.Round, CancellationToken.None);
            Assert.Equal(anchor.ComputeCommitment(), stored);
            var encoded = Foundry.Cast("abi-encode", "f(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)",
                anchor.TaskKey.ToString(), anchor.Round.ToString(CultureInfo.InvariantCulture), anchor.ParentModelHash.ToString(), anchor.ModelHash.ToString(),
                anchor.UpdatesRoot.ToString(), anchor.CreditsRoot.ToString(), anchor.SettingsHash.ToString(), anchor.AcceptedCount.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(Foundry.Cast("keccak", encoded), stored.ToString());
        }

        Assert.Equal("3", Foundry.Cast("call", ledger.Address.ToString(), "lastRound(bytes32)(uint64)", taskKey.ToString(), "--rpc-url", _anvil.RpcUrl));
        var events = await ledger.GetRoundAnchoredEventsAsync(taskKey, registered.BlockNumber, CancellationToken.None);
        Assert.Equal(anchors, events.Select(e => e.Anchor));
        var second = await ledger.GetRoundAnchoredEventsAsync(taskKey, 0, CancellationToken.None, round: 2);
        Assert.Equal(anchors[1], Assert.Single(second).Anchor);
        var state = await ledger.GetTaskAsync(taskKey, CancellationToken.None);
        Assert.True(state.Registered);
        Assert.Equal(settings, state.SettingsHash);
        Assert.Equal(anchors[^1].CreditsRoot, state.ClaimableCreditsRoot);
    }

    [Fact]
    public async Task AnchorRoundAsync_Misuse_RevertsWithNamedCustomErrorsAndSendsNothing()
    {
        var ledger = await DeployAsync();
        var taskKey = FedAggLedger.TaskKey("errors");
        var settings = Hash("s");
        var initial = Hash("m0");
        await ledger.RegisterTaskAsync(_admin, taskKey, settings, initial, 0, CancellationToken.None);
        var nonceBefore = await _rpc.GetTransactionCountAsync(_anchorKey.Address, pending: true, CancellationToken.None);

        var gap = await Assert.ThrowsAsync<ChainException>(() =>
            ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 2, initial, Hash("m2"), Hash("u"), Hash("c"), settings, 1), CancellationToken.None));
        var parent = await Assert.ThrowsAsync<ChainException>(() =>
            ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 1, Hash("wrong"), Hash("m1"), Hash("u"), Hash("c"), settings, 1), CancellationToken.None));
        var role = await Assert.ThrowsAsync<ChainException>(() =>
            ledger.AnchorRoundAsync(_admin, new RoundAnchor(taskKey, 1, initial, Hash("m1"), Hash("u"), Hash("c"), settings, 1), CancellationToken.None));
        var again = await Assert.ThrowsAsync<ChainException>(() => ledger.RegisterTaskAsync(_admin, taskKey, settings, initial, 0, CancellationToken.None));

        Assert.StartsWith("RoundOutOfOrder(", gap.RevertReason, StringComparison.Ordinal);
        Assert.Contains("1", gap.RevertReason, StringComparison.Ordinal);
        Assert.StartsWith("ParentModelMismatch(", parent.RevertReason, StringComparison.Ordinal);
        Assert.Contains(initial.ToString(), parent.RevertReason, StringComparison.Ordinal);
        Assert.StartsWith("AccessControlUnauthorizedAccount(", role.RevertReason, StringComparison.Ordinal);
        Assert.StartsWith("TaskAlreadyRegistered(", again.RevertReason, StringComparison.Ordinal);
        Assert.Equal(nonceBefore, await _rpc.GetTransactionCountAsync(_anchorKey.Address, pending: true, CancellationToken.None));
        Assert.Equal(0UL, await ledger.LastRoundAsync(taskKey, CancellationToken.None));
    }

    [Fact]
    public async Task ClaimAsync_ProofFromOurMerkleTree_PaysTheDifferenceOnceAndEmitsEvents()
    {
        var ledger = await DeployAsync();
        var taskKey = FedAggLedger.TaskKey("claims");
        var settings = Hash("s");
        var initial = Hash("m0");
        await ledger.RegisterTaskAsync(_admin, taskKey, settings, initial, 0, CancellationToken.None);
        var account = EthereumAddress.Parse("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
        var others = Enumerable.Range(1, 40).Select(i => EthereumAddress.FromBytes(Hash($"acct{i}").AsSpan()[..20])).ToArray();

        var round1 = CreditsTree(account, 100, others);
        await ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 1, initial, Hash("m1"), Hash("u1"), round1.Root, settings, 41), CancellationToken.None);
        var paid1 = await ledger.ClaimAsync(_admin, taskKey, account, 100, Proof(round1, account, 100), CancellationToken.None);

        var round2 = CreditsTree(account, 250, others);
        await ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 2, Hash("m1"), Hash("m2"), Hash("u2"), round2.Root, settings, 41), CancellationToken.None);
        var paid2 = await ledger.ClaimAsync(_admin, taskKey, account, 250, Proof(round2, account, 250), CancellationToken.None);
        var twice = await Assert.ThrowsAsync<ChainException>(() => ledger.ClaimAsync(_admin, taskKey, account, 250, Proof(round2, account, 250), CancellationToken.None));
        var forged = await Assert.ThrowsAsync<ChainException>(() => ledger.ClaimAsync(_admin, taskKey, account, 999, Proof(round2, account, 250), CancellationToken.None));

        Assert.True(paid1.Succeeded && paid2.Succeeded);
        Assert.Equal(new BigInteger(250), await ledger.CreditsAsync(account, CancellationToken.None));
        Assert.Equal(new BigInteger(250), await ledger.ClaimedAsync(taskKey, account, CancellationToken.None));
        Assert.Equal("250", Foundry.Cast("call", ledger.Address.ToString(), "credits(address)(uint256)", account.ToString(), "--rpc-url", _anvil.RpcUrl));
        Assert.Equal("NothingToClaim()", twice.RevertReason);
        Assert.Equal("InvalidProof()", forged.RevertReason);
        var claims = await ledger.GetCreditsClaimedEventsAsync(taskKey, 0, CancellationToken.None, account);
        Assert.Equal([new BigInteger(100), new BigInteger(150)], claims.Select(c => c.Amount));
        Assert.Equal([new BigInteger(100), new BigInteger(250)], claims.Select(c => c.CumulativeAmount));
        Assert.All(claims, c => Assert.Equal(account, c.Account));
    }

    [Fact]
    public async Task PauseAsync_BlocksAnchoringUntilUnpaused()
    {
        var ledger = await DeployAsync();
        var taskKey = FedAggLedger.TaskKey("paused");
        await ledger.RegisterTaskAsync(_admin, taskKey, Hash("s"), Hash("m0"), 0, CancellationToken.None);
        await ledger.PauseAsync(_admin, CancellationToken.None);

        var paused = await Assert.ThrowsAsync<ChainException>(() =>
            ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 1, Hash("m0"), Hash("m1"), Hash("u"), Hash("c"), Hash("s"), 1), CancellationToken.None));
        Assert.True(await ledger.PausedAsync(CancellationToken.None));
        await ledger.UnpauseAsync(_admin, CancellationToken.None);
        await ledger.AnchorRoundAsync(_anchor, new RoundAnchor(taskKey, 1, Hash("m0"), Hash("m1"), Hash("u"), Hash("c"), Hash("s"), 1), CancellationToken.None);

        Assert.Equal("EnforcedPause()", paused.RevertReason);
        Assert.Equal(1UL, await ledger.LastRoundAsync(taskKey, CancellationToken.None));
        Assert.True(await ledger.HasRoleAsync(FedAggLedger.AnchorRole, _anchorKey.Address, CancellationToken.None));
        Assert.False(await ledger.HasRoleAsync(FedAggLedger.AnchorRole, _adminKey.Address, CancellationToken.None));
    }

    [Fact]
    public void TaskKey_IsKeccakOfUtf8TaskId_AsCastComputesIt()
    {
        Assert.Equal(Foundry.Cast("keccak", "fashion-mnist/mlp"), FedAggLedger.TaskKey("fashion-mnist/mlp").ToString());
        Assert.Equal(Foundry.Cast("keccak", "ANCHOR_ROLE"), FedAggLedger.AnchorRole.ToString());
    }

    private async Task<FedAggLedger> DeployAsync()
    {
        var (ledger, receipt) = await FedAggLedger.DeployAsync(_admin, _adminKey.Address, _anchorKey.Address, _adminKey.Address, CancellationToken.None);
        Assert.True(receipt.Succeeded);
        Assert.NotEmpty(await _rpc.GetCodeAsync(ledger.Address, CancellationToken.None));
        return ledger;
    }

    private static StandardMerkleTree CreditsTree(EthereumAddress account, BigInteger amount, IEnumerable<EthereumAddress> others) =>
        StandardMerkleTree.ForCredits(others.Select((other, i) => ((ReadOnlyMemory<byte>)other.ToArray(), new BigInteger(10 + i)))
            .Append(((ReadOnlyMemory<byte>)account.ToArray(), amount)));

    private static Bytes32[] Proof(StandardMerkleTree tree, EthereumAddress account, BigInteger amount) =>
        tree.GetProof([AbiValue.FromAddress(account.AsSpan()), AbiValue.FromUint256(amount)]);

    private static Bytes32 Hash(string text) => new(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(text)));
}
