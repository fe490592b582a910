using System.Globalization;
using System.Numerics;
using System.Text.Json;
using FedAgg.TestKit;
using FedAgg.TestKit.Chain;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>
/// FedAggLedger's roles, task registration, round anchoring and pause on a real anvil, driven with cast; every
/// expected hash, topic, ABI encoding and revert payload is computed by cast, not by the contract.
/// </summary>
[Trait("Category", "Chain")]
public sealed class LedgerAnchorTests(LedgerFixture ledger) : IClassFixture<LedgerFixture>
{
    private const string RegisterSignature = "registerTask(bytes32,bytes32,bytes32)";
    private const string RegisterWithDelaySignature = "registerTask(bytes32,bytes32,bytes32,uint64)";
    private const string TaskInfoSignature = "taskInfo(bytes32)";

    [Fact]
    public async Task Constructor_ZeroAddress_RevertsZeroAddress()
    {
        using var artifact = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, LedgerFixture.ArtifactPath)));
        var bytecode = artifact.RootElement.GetProperty("bytecode").GetString()!;
        var zero = "0x0000000000000000000000000000000000000000";
        foreach (var arguments in new[] { new[] { zero, Foundry.DevAddress1, Foundry.DevAddress1 }, [Foundry.DevAddress1, zero, Foundry.DevAddress1], [Foundry.DevAddress1, Foundry.DevAddress1, zero] })
        {
            var creation = bytecode + LedgerFixture.AbiEncode("constructor(address,address,address)", arguments)[2..];

            Assert.Equal(LedgerFixture.Calldata("ZeroAddress()"), await ledger.RevertDataOfAsync(Foundry.DevAddress0, null, creation));
        }
    }

    [Fact]
    public async Task Deploy_CommittedArtifact_RuntimeCodeEqualsDeployedBytecode()
    {
        using var artifact = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, LedgerFixture.ArtifactPath)));

        Assert.Equal(artifact.RootElement.GetProperty("deployedBytecode").GetString(), Foundry.Cast("code", ledger.Address, "--rpc-url", ledger.RpcUrl));
    }

    [Fact]
    public void Constructor_Roles_GrantedToAdminAnchorAndCoordinatorOnly()
    {
        var anchorRole = LedgerFixture.Keccak("ANCHOR_ROLE");
        var coordinatorRole = LedgerFixture.Keccak("COORDINATOR_ROLE");
        var adminRole = LedgerFixture.Word(0);

        Assert.Equal(anchorRole, ledger.Call("ANCHOR_ROLE()"));
        Assert.Equal(coordinatorRole, ledger.Call("COORDINATOR_ROLE()"));
        Assert.Equal(adminRole, ledger.Call("DEFAULT_ADMIN_ROLE()"));
        foreach (var (role, holder) in new[] { (adminRole, LedgerFixture.AdminAddress), (anchorRole, LedgerFixture.AnchorAddress), (coordinatorRole, LedgerFixture.CoordinatorAddress) })
        {
            foreach (var account in new[] { LedgerFixture.AdminAddress, LedgerFixture.AnchorAddress, LedgerFixture.CoordinatorAddress, LedgerFixture.OutsiderAddress })
            {
                Assert.Equal(account == holder ? BigInteger.One : BigInteger.Zero, ledger.CallUInt("hasRole(bytes32,address)", role, account));
            }
        }

        Assert.Equal(BigInteger.Zero, ledger.CallUInt("paused()"));
        var roleGrantedTopic = LedgerFixture.Keccak("RoleGranted(bytes32,address,address)");
        Assert.Equal(
            [
                [roleGrantedTopic, adminRole, LedgerFixture.AddressTopic(LedgerFixture.AdminAddress), LedgerFixture.AddressTopic(LedgerFixture.AdminAddress)],
                [roleGrantedTopic, anchorRole, LedgerFixture.AddressTopic(LedgerFixture.AnchorAddress), LedgerFixture.AddressTopic(LedgerFixture.AdminAddress)],
                [roleGrantedTopic, coordinatorRole, LedgerFixture.AddressTopic(LedgerFixture.CoordinatorAddress), LedgerFixture.AddressTopic(LedgerFixture.AdminAddress)],
            ],
            ledger.Deployment!.Logs.Select(log => log.Topics));
    }

    [Fact]
    public void RegisterTask_ByCoordinator_StoresTaskAndEmitsTaskRegistered()
    {
        var taskKey = LedgerFixture.InputHash("register-by-coordinator");
        var settings = LedgerFixture.InputHash("settings-a");
        var initialModel = LedgerFixture.InputHash("initial-model-a");

        var receipt = ledger.Send(LedgerFixture.CoordinatorKey, RegisterSignature, taskKey, settings, initialModel);

        var log = Assert.Single(receipt.Logs);
        Assert.Equal(ledger.Address, log.Address, ignoreCase: true);
        Assert.Equal([LedgerFixture.Keccak("TaskRegistered(bytes32,bytes32,bytes32,uint64)"), taskKey], log.Topics);
        Assert.Equal(LedgerFixture.AbiEncode("f(bytes32,bytes32,uint64)", settings, initialModel, "0"), log.Data);
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("lastRound(bytes32)", taskKey));
        Assert.Equal(initialModel, ledger.Call("latestModelHash(bytes32)", taskKey));
        Assert.Equal(LedgerFixture.Word(0), ledger.Call("creditsRoot(bytes32)", taskKey));
        Assert.Equal(LedgerFixture.Word(0), ledger.Call("roundCommitment(bytes32,uint64)", taskKey, "1"));
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("claimableAt(bytes32)", taskKey));
        var registeredAt = ledger.BlockTimestamp(receipt).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(
            LedgerFixture.AbiEncode("f(uint64,bytes32,uint64,uint64,bytes32,bytes32,uint64,bytes32)", registeredAt, settings, "0", "0", initialModel, LedgerFixture.Word(0), "0", LedgerFixture.Word(0)),
            ledger.Call(TaskInfoSignature, taskKey));
    }

    [Fact]
    public void RegisterTask_WithClaimDelay_StoresDelayInTaskInfoAndEvent()
    {
        var taskKey = LedgerFixture.InputHash("register-with-delay");
        var settings = LedgerFixture.InputHash("settings-b");
        var initialModel = LedgerFixture.InputHash("initial-model-b");

        var receipt = ledger.Send(LedgerFixture.CoordinatorKey, RegisterWithDelaySignature, taskKey, settings, initialModel, "3600");

        Assert.Equal(LedgerFixture.AbiEncode("f(bytes32,bytes32,uint64)", settings, initialModel, "3600"), Assert.Single(receipt.Logs).Data);
        var registeredAt = ledger.BlockTimestamp(receipt).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(
            LedgerFixture.AbiEncode("f(uint64,bytes32,uint64,uint64,bytes32,bytes32,uint64,bytes32)", registeredAt, settings, "3600", "0", initialModel, LedgerFixture.Word(0), "0", LedgerFixture.Word(0)),
            ledger.Call(TaskInfoSignature, taskKey));
    }

    [Fact]
    public async Task RegisterTask_FromNonCoordinator_RevertsAccessControlUnauthorizedAccount()
    {
        var taskKey = LedgerFixture.InputHash("register-unauthorized");
        var coordinatorRole = LedgerFixture.Keccak("COORDINATOR_ROLE");

        foreach (var account in new[] { LedgerFixture.AdminAddress, LedgerFixture.AnchorAddress, LedgerFixture.OutsiderAddress })
        {
            Assert.Equal(
                LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", account, coordinatorRole),
                await ledger.RevertDataAsync(account, RegisterSignature, taskKey, LedgerFixture.InputHash("s"), LedgerFixture.InputHash("m")));
            Assert.Equal(
                LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", account, coordinatorRole),
                await ledger.RevertDataAsync(account, RegisterWithDelaySignature, taskKey, LedgerFixture.InputHash("s"), LedgerFixture.InputHash("m"), "60"));
        }

        // The same through a signed transaction: cast refuses to send it and quotes the revert data.
        var output = ledger.SendExpectingFailure(LedgerFixture.OutsiderKey, RegisterSignature, taskKey, LedgerFixture.InputHash("s"), LedgerFixture.InputHash("m"));
        Assert.Contains(LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", LedgerFixture.OutsiderAddress, coordinatorRole)[2..], output, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("lastRound(bytes32)", taskKey));
        Assert.Equal(LedgerFixture.Word(0), ledger.Call("latestModelHash(bytes32)", taskKey));
    }

    [Fact]
    public async Task RegisterTask_Twice_RevertsTaskAlreadyRegistered()
    {
        var taskKey = LedgerFixture.InputHash("register-twice");
        ledger.Send(LedgerFixture.CoordinatorKey, RegisterSignature, taskKey, LedgerFixture.InputHash("s1"), LedgerFixture.InputHash("m1"));

        var expected = LedgerFixture.Calldata("TaskAlreadyRegistered(bytes32)", taskKey);
        Assert.Equal(expected, await ledger.RevertDataAsync(LedgerFixture.CoordinatorAddress, RegisterSignature, taskKey, LedgerFixture.InputHash("s2"), LedgerFixture.InputHash("m2")));
        Assert.Equal(expected, await ledger.RevertDataAsync(LedgerFixture.CoordinatorAddress, RegisterWithDelaySignature, taskKey, LedgerFixture.InputHash("s1"), LedgerFixture.InputHash("m1"), "10"));
        Assert.Equal(LedgerFixture.InputHash("m1"), ledger.Call("latestModelHash(bytes32)", taskKey));
    }

    [Fact]
    public void AnchorRound_ConsecutiveRounds_StoreCommitmentsUpdateViewsAndEmitRoundAnchored()
    {
        var (taskKey, settings, initialModel) = Register("anchor-consecutive");
        var parent = initialModel;
        var commitments = new List<string>();
        for (var round = 1UL; round <= 3; round++)
        {
            var anchored = LedgerRound.Derive(taskKey, round, parent, settings, "consecutive", acceptedCount: (uint)(round * 7));

            var receipt = ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, anchored.Arguments);

            var log = Assert.Single(receipt.Logs);
            Assert.Equal(ledger.Address, log.Address, ignoreCase: true);
            Assert.Equal(
                [LedgerFixture.Keccak("RoundAnchored(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)"), taskKey, LedgerFixture.Word(round)],
                log.Topics);
            Assert.Equal(anchored.ExpectedEventData(), log.Data);
            var commitment = anchored.ExpectedCommitment();
            Assert.Equal(commitment, ledger.Call("roundCommitment(bytes32,uint64)", taskKey, round.ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(commitment, ledger.Call("computeRoundCommitment(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)", anchored.Arguments));
            Assert.Equal(new BigInteger(round), ledger.CallUInt("lastRound(bytes32)", taskKey));
            Assert.Equal(anchored.ModelHash, ledger.Call("latestModelHash(bytes32)", taskKey));
            Assert.Equal(anchored.CreditsRoot, ledger.Call("creditsRoot(bytes32)", taskKey));
            Assert.Equal(anchored.CreditsRoot, ledger.Call("claimableCreditsRoot(bytes32)", taskKey));
            Assert.Equal(new BigInteger(ledger.BlockTimestamp(receipt)), ledger.CallUInt("claimableAt(bytes32)", taskKey));
            commitments.Add(commitment);
            parent = anchored.ModelHash;
        }

        // Earlier rounds stay as anchored (append-only), later ones are empty.
        for (var round = 1; round <= 3; round++)
        {
            Assert.Equal(commitments[round - 1], ledger.Call("roundCommitment(bytes32,uint64)", taskKey, round.ToString(CultureInfo.InvariantCulture)));
        }

        Assert.Equal(LedgerFixture.Word(0), ledger.Call("roundCommitment(bytes32,uint64)", taskKey, "4"));
        Assert.Equal(3, commitments.Distinct().Count());
    }

    [Fact]
    public async Task AnchorRound_FromNonAnchor_RevertsAccessControlUnauthorizedAccount()
    {
        var (taskKey, settings, initialModel) = Register("anchor-unauthorized");
        var anchored = LedgerRound.Derive(taskKey, 1, initialModel, settings, "unauthorized");
        var anchorRole = LedgerFixture.Keccak("ANCHOR_ROLE");

        foreach (var account in new[] { LedgerFixture.AdminAddress, LedgerFixture.CoordinatorAddress, LedgerFixture.OutsiderAddress })
        {
            Assert.Equal(
                LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", account, anchorRole),
                await ledger.RevertDataAsync(account, LedgerFixture.AnchorRoundSignature, anchored.Arguments));
        }

        var output = ledger.SendExpectingFailure(LedgerFixture.CoordinatorKey, LedgerFixture.AnchorRoundSignature, anchored.Arguments);
        Assert.Contains(LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", LedgerFixture.CoordinatorAddress, anchorRole)[2..], output, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("lastRound(bytes32)", taskKey));
    }

    [Fact]
    public async Task AnchorRound_UnknownTask_RevertsUnknownTask()
    {
        var taskKey = LedgerFixture.InputHash("never-registered");
        var anchored = LedgerRound.Derive(taskKey, 1, LedgerFixture.Word(0), LedgerFixture.Word(0), "unknown");

        Assert.Equal(
            LedgerFixture.Calldata("UnknownTask(bytes32)", taskKey),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, anchored.Arguments));
    }

    [Fact]
    public async Task AnchorRound_GapRepeatOrZero_RevertsRoundOutOfOrder()
    {
        var (taskKey, settings, initialModel) = Register("anchor-order");
        Assert.Equal(
            LedgerFixture.Calldata("RoundOutOfOrder(uint64,uint64)", "1", "0"),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 0, initialModel, settings, "order").Arguments));
        Assert.Equal(
            LedgerFixture.Calldata("RoundOutOfOrder(uint64,uint64)", "1", "2"),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 2, initialModel, settings, "order").Arguments));

        var first = LedgerRound.Derive(taskKey, 1, initialModel, settings, "order");
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, first.Arguments);

        // Repeating round 1 (even with identical arguments), skipping to 3, and a round far ahead all revert.
        Assert.Equal(
            LedgerFixture.Calldata("RoundOutOfOrder(uint64,uint64)", "2", "1"),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, first.Arguments));
        Assert.Equal(
            LedgerFixture.Calldata("RoundOutOfOrder(uint64,uint64)", "2", "3"),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 3, first.ModelHash, settings, "order").Arguments));
        Assert.Equal(
            LedgerFixture.Calldata("RoundOutOfOrder(uint64,uint64)", "2", ulong.MaxValue.ToString(CultureInfo.InvariantCulture)),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, ulong.MaxValue, first.ModelHash, settings, "order").Arguments));
        Assert.Equal(BigInteger.One, ledger.CallUInt("lastRound(bytes32)", taskKey));
        Assert.Equal(first.ExpectedCommitment(), ledger.Call("roundCommitment(bytes32,uint64)", taskKey, "1"));
    }

    [Fact]
    public async Task AnchorRound_WrongParent_RevertsParentModelMismatch()
    {
        var (taskKey, settings, initialModel) = Register("anchor-parent");
        var wrongParent = LedgerFixture.InputHash("not-the-initial-model");
        Assert.Equal(
            LedgerFixture.Calldata("ParentModelMismatch(bytes32,bytes32)", initialModel, wrongParent),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 1, wrongParent, settings, "parent").Arguments));

        var first = LedgerRound.Derive(taskKey, 1, initialModel, settings, "parent");
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, first.Arguments);

        // Round 2 must build on round 1's model, not on the initial one.
        Assert.Equal(
            LedgerFixture.Calldata("ParentModelMismatch(bytes32,bytes32)", first.ModelHash, initialModel),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 2, initialModel, settings, "parent").Arguments));
        Assert.Equal(first.ModelHash, ledger.Call("latestModelHash(bytes32)", taskKey));
    }

    [Fact]
    public async Task AnchorRound_WrongSettings_RevertsSettingsMismatch()
    {
        var (taskKey, settings, initialModel) = Register("anchor-settings");
        var otherSettings = LedgerFixture.InputHash("other-settings");

        Assert.Equal(
            LedgerFixture.Calldata("SettingsMismatch(bytes32,bytes32)", settings, otherSettings),
            await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, LedgerRound.Derive(taskKey, 1, initialModel, otherSettings, "settings").Arguments));
        Assert.Equal(BigInteger.Zero, ledger.CallUInt("lastRound(bytes32)", taskKey));
    }

    [Fact]
    public async Task Pause_ByAdmin_BlocksRegisterAnchorAndClaimUntilUnpaused()
    {
        var (taskKey, settings, initialModel) = Register("pause");
        var first = LedgerRound.Derive(taskKey, 1, initialModel, settings, "pause");
        var adminRole = LedgerFixture.Word(0);
        foreach (var account in new[] { LedgerFixture.AnchorAddress, LedgerFixture.CoordinatorAddress, LedgerFixture.OutsiderAddress })
        {
            Assert.Equal(LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", account, adminRole), await ledger.RevertDataAsync(account, "pause()"));
        }

        var paused = ledger.Send(LedgerFixture.AdminKey, "pause()");
        try
        {
            var log = Assert.Single(paused.Logs);
            Assert.Equal([LedgerFixture.Keccak("Paused(address)")], log.Topics);
            Assert.Equal(LedgerFixture.AbiEncode("f(address)", LedgerFixture.AdminAddress), log.Data);
            Assert.Equal(BigInteger.One, ledger.CallUInt("paused()"));

            var enforcedPause = LedgerFixture.Calldata("EnforcedPause()");
            Assert.Equal(enforcedPause, await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, LedgerFixture.AnchorRoundSignature, first.Arguments));
            Assert.Equal(enforcedPause, await ledger.RevertDataAsync(LedgerFixture.CoordinatorAddress, RegisterSignature, LedgerFixture.InputHash("pause-2"), settings, initialModel));
            Assert.Equal(enforcedPause, await ledger.RevertDataAsync(LedgerFixture.CoordinatorAddress, RegisterWithDelaySignature, LedgerFixture.InputHash("pause-2"), settings, initialModel, "5"));
            Assert.Equal(enforcedPause, await ledger.RevertDataAsync(LedgerFixture.OutsiderAddress, LedgerFixture.ClaimSignature, taskKey, LedgerFixture.OutsiderAddress, "1", "[]"));
            Assert.Equal(LedgerFixture.Calldata("EnforcedPause()"), await ledger.RevertDataAsync(LedgerFixture.AdminAddress, "pause()"));
            Assert.Equal(
                LedgerFixture.Calldata("AccessControlUnauthorizedAccount(address,bytes32)", LedgerFixture.AnchorAddress, adminRole),
                await ledger.RevertDataAsync(LedgerFixture.AnchorAddress, "unpause()"));
        }
        finally
        {
            var unpaused = ledger.Send(LedgerFixture.AdminKey, "unpause()");
            Assert.Equal([LedgerFixture.Keccak("Unpaused(address)")], Assert.Single(unpaused.Logs).Topics);
        }

        Assert.Equal(BigInteger.Zero, ledger.CallUInt("paused()"));
        Assert.Equal(LedgerFixture.Calldata("ExpectedPause()"), await ledger.RevertDataAsync(LedgerFixture.AdminAddress, "unpause()"));
        ledger.Send(LedgerFixture.AnchorKey, LedgerFixture.AnchorRoundSignature, first.Arguments);
        Assert.Equal(first.ExpectedCommitment(), ledger.Call("roundCommitment(bytes32,uint64)", taskKey, "1"));
    }

    private (string TaskKey, string Settings, string InitialModel) Register(string taskId)
    {
        var taskKey = LedgerFixture.InputHash(taskId);
        var settings = LedgerFixture.InputHash($"settings-{taskId}");
        var initialModel = LedgerFixture.InputHash($"initial-model-{taskId}");
        ledger.Send(LedgerFixture.CoordinatorKey, RegisterSignature, taskKey, settings, initialModel);
        return (taskKey, settings, initialModel);
    }
}
