using System.Numerics;
using System.Text.Json;
using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg chain …</c> run as a child process against its own local chain.</summary>
[Trait("Category", "Chain")]
public sealed class ChainCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Devnet_ClaimAndStatus_PayFromManifestAndSurviveARestart()
    {
        using var temp = new TempDirectory();
        var data = temp.Directory("devnet");
        string ledgerAddress;
        var account = EthereumAddress.Parse("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
        await using (var devnet = RunningCli.Start(temp.Path, "chain", "devnet", "--data", data, "--port", "0"))
        {
            await devnet.WaitForLineAsync(static l => l.StartsWith("READY", StringComparison.Ordinal), "READY", Patience);
            var rpcUrl = devnet.OutputLines.Single(static l => l.StartsWith("RPC ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            ledgerAddress = devnet.OutputLines.Single(static l => l.StartsWith("LEDGER ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.NotEmpty(Foundry.Cast("code", ledgerAddress, "--rpc-url", rpcUrl)[2..]);

            // A round whose credits tree holds the account, anchored with the devnet's roles.
            var credits = new List<(EthereumAddress Account, BigInteger Amount)>
            {
                (account, 100),
                (EthereumAddress.Parse(Foundry.DevAddress1), 40),
                (EthereumAddress.Parse("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"), 7),
            };
            var tree = StandardMerkleTree.ForCredits(credits.Select(c => ((ReadOnlyMemory<byte>)c.Account.ToArray(), c.Amount)));
            await AnchorAsync(new Uri(rpcUrl), EthereumAddress.Parse(ledgerAddress), "cli-claims", tree.Root);
            var manifest = temp.File("manifest.json");
            await File.WriteAllTextAsync(manifest, JsonSerializer.Serialize(new
            {
                taskId = "cli-claims",
                round = 1,
                credits = credits.Select(c => new { account = c.Account.ToString(), cumulativeAmount = c.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            }));
            var deployment = Path.Combine(data, "deployment.json");

            var second = EthereumAddress.Parse(Foundry.DevAddress1);
            var proofFile = temp.File("proof.json");
            await File.WriteAllTextAsync(proofFile, JsonSerializer.Serialize(new
            {
                account = second.ToString(),
                cumulativeAmount = "40",
                proof = tree.GetProof([AbiValue.FromAddress(second.AsSpan()), AbiValue.FromUint256(40)]).Select(p => p.ToString()),
            }));
            var adminKeyFile = Path.Combine(data, "keys", "admin.key");

            var claim = FedaggProcess.Run("chain", "claim", "--deployment", deployment, "--dev-key", "3", "--task", "cli-claims", "--manifest", manifest);
            var byProof = FedaggProcess.Run("chain", "claim", "--deployment", deployment, "--key", adminKeyFile, "--task", "cli-claims", "--proof", proofFile);
            var again = FedaggProcess.Run("chain", "claim", "--deployment", deployment, "--dev-key", "3", "--task", "cli-claims", "--manifest", manifest);
            var status = FedaggProcess.Run("chain", "status", "--deployment", deployment, "--task", "cli-claims", "--account", account.ToString(), "--json");

            Assert.True(claim.ExitCode == 0, claim.Describe());
            Assert.StartsWith($"CLAIMED 100 for {account} (cumulative 100); credits balance 100", claim.OutputLines[0], StringComparison.Ordinal);
            Assert.True(byProof.ExitCode == 0, byProof.Describe());
            Assert.StartsWith($"CLAIMED 40 for {second} (cumulative 40)", byProof.OutputLines[0], StringComparison.Ordinal);
            Assert.True(File.Exists(adminKeyFile), devnet.Describe());
            Assert.Contains(adminKeyFile, devnet.OutputLines.Single(static l => l.StartsWith("KEYS ", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.True(again.ExitCode == 1, again.Describe());
            Assert.Contains("NothingToClaim()", again.StandardError, StringComparison.Ordinal);
            Assert.True(status.ExitCode == 0, status.Describe());
            using var report = JsonDocument.Parse(status.StandardOutput);
            Assert.Equal(1UL, report.RootElement.GetProperty("task").GetProperty("lastRound").GetUInt64());
            Assert.Equal(tree.Root.ToString(), report.RootElement.GetProperty("task").GetProperty("creditsRoot").GetString());
            Assert.Equal("100", report.RootElement.GetProperty("account").GetProperty("credits").GetString());
            Assert.Equal(0, await devnet.StopAsync(TimeSpan.FromSeconds(20)));
        }

        // The same data folder continues the same chain and reuses the deployed ledger.
        await using (var devnet = RunningCli.Start(temp.Path, "chain", "devnet", "--data", data, "--port", "0"))
        {
            await devnet.WaitForLineAsync(static l => l.StartsWith("READY", StringComparison.Ordinal), "READY", Patience);
            Assert.Equal(ledgerAddress, devnet.OutputLines.Single(static l => l.StartsWith("LEDGER ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            var status = FedaggProcess.Run("chain", "status", "--deployment", Path.Combine(data, "deployment.json"), "--task", "cli-claims", "--account", account.ToString(), "--json");
            Assert.True(status.ExitCode == 0, status.Describe());
            using var report = JsonDocument.Parse(status.StandardOutput);
            Assert.Equal("100", report.RootElement.GetProperty("account").GetProperty("credits").GetString());
        }
    }

    [Fact]
    public async Task Deploy_WithKeyFile_DeploysALedgerCastCanRead()
    {
        using var temp = new TempDirectory();
        await using var anvil = await AnvilInstance.StartAsync();
        var keyFile = temp.File("deployer.key");
        using (var key = Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[4]))
        {
            EthereumKeyFile.Write(keyFile, key);
        }

        var deploy = FedaggProcess.Run("chain", "deploy", "--rpc", anvil.RpcUrl, "--key-file", keyFile, "--anchor", Foundry.DevAddress1, "--out", temp.File("deployment.json"));

        Assert.True(deploy.ExitCode == 0, deploy.Describe());
        var ledger = deploy.OutputLines[0].Split(' ')[1];
        Assert.Equal("true", Foundry.Cast("call", ledger, "hasRole(bytes32,address)(bool)", Foundry.Cast("keccak", "ANCHOR_ROLE"), Foundry.DevAddress1, "--rpc-url", anvil.RpcUrl));
        Assert.Equal("true", Foundry.Cast("call", ledger, "hasRole(bytes32,address)(bool)", "0x" + new string('0', 64), "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "--rpc-url", anvil.RpcUrl));
        Assert.Equal(ledger, LedgerDeployment.Load(temp.File("deployment.json")).Ledger);
    }

    [Fact]
    public async Task Deploy_UnfundedKey_FailsWithTheNodesReasonAndNoSecret()
    {
        using var temp = new TempDirectory();
        await using var anvil = await AnvilInstance.StartAsync();
        var keyFile = temp.File("empty.key");
        Assert.Equal(0, FedaggProcess.Run("chain", "keygen", "--out", keyFile).ExitCode);
        var secret = File.ReadAllText(keyFile).Trim()[2..];

        var deploy = FedaggProcess.Run("chain", "deploy", "--rpc", anvil.RpcUrl, "--key", keyFile, "--anchor", Foundry.DevAddress1);

        Assert.True(deploy.ExitCode == 1, deploy.Describe());
        Assert.Contains("insufficient funds", deploy.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(secret, deploy.StandardOutput + deploy.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Status_DeploymentOfAnotherChain_ReportsTheChainIdMismatch()
    {
        using var temp = new TempDirectory();
        await using var anvil = await AnvilInstance.StartAsync(chainId: 4242);
        var deployment = temp.File("deployment.json");
        new LedgerDeployment
        {
            ChainId = 31337,
            RpcUrl = anvil.RpcUrl,
            Ledger = Foundry.DevAddress1,
            DeployTransaction = "0x" + new string('0', 64),
            DeployBlock = 0,
            Admin = Foundry.DevAddress0,
            Anchor = Foundry.DevAddress1,
            Coordinator = Foundry.DevAddress0,
        }.Save(deployment);

        var status = FedaggProcess.Run("chain", "status", "--deployment", deployment);

        Assert.True(status.ExitCode == 1, status.Describe());
        Assert.Contains("Chain id mismatch", status.StandardError, StringComparison.Ordinal);
        Assert.Contains("4242", status.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Keygen_NewKey_IsOwnerOnlyAndMatchesCastAddress()
    {
        using var temp = new TempDirectory();
        var keyFile = temp.File("account.key");

        var created = FedaggProcess.Run("chain", "keygen", "--out", keyFile);
        var shown = FedaggProcess.Run("chain", "keygen", "--show", keyFile);
        var overwrite = FedaggProcess.Run("chain", "keygen", "--out", keyFile);

        Assert.True(created.ExitCode == 0, created.Describe());
        Assert.Equal(created.OutputLines, shown.OutputLines);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        var secret = File.ReadAllText(keyFile).Trim();
        Assert.Equal(Foundry.Cast("wallet", "address", "--private-key", secret), created.OutputLines[0]);
        Assert.DoesNotContain(secret[2..], created.StandardOutput + created.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("already exists", overwrite.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status", "--rpc", "http://127.0.0.1:1")]
    [InlineData("status", "--deployment", "x.json", "--ledger", "0x0000000000000000000000000000000000000001")]
    [InlineData("claim", "--task", "t", "--manifest", "m.json")]
    [InlineData("claim", "--task", "t", "--dev-key", "1", "--manifest", "m.json", "--proof", "p.json")]
    [InlineData("keygen")]
    public void Chain_BadOptions_OneLineErrorExit2(params string[] arguments)
    {
        var result = FedaggProcess.Run(["chain", .. arguments]);

        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.Single(result.ErrorLines);
        Assert.StartsWith($"fedagg chain {arguments[0]}: error:", result.ErrorLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Status_NothingListening_FailsWithReason()
    {
        var port = Foundry.FreeLoopbackPort();

        var result = FedaggProcess.Run("chain", "status", "--rpc", $"http://127.0.0.1:{port}", "--ledger", Foundry.DevAddress1);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot reach", result.StandardError, StringComparison.Ordinal);
    }

    private static async Task AnchorAsync(Uri rpcUrl, EthereumAddress ledgerAddress, string taskId, Bytes32 creditsRoot)
    {
        using var rpc = new EthereumRpcClient(rpcUrl);
        using var coordinatorKey = Secp256k1PrivateKey.FromHex(Devnet.AdminKeyHex);
        using var anchorKey = Secp256k1PrivateKey.FromHex(Devnet.AnchorKeyHex);
        using var coordinator = new TransactionSender(rpc, coordinatorKey, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        using var anchor = new TransactionSender(rpc, anchorKey, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        var ledger = new FedAggLedger(rpc, ledgerAddress);
        var taskKey = FedAggLedger.TaskKey(taskId);
        var settings = new Bytes32(Keccak256.Hash("settings"u8));
        var initial = new Bytes32(Keccak256.Hash("model-0"u8));
        await ledger.RegisterTaskAsync(coordinator, taskKey, settings, initial, 0, CancellationToken.None);
        await ledger.AnchorRoundAsync(anchor, new RoundAnchor(taskKey, 1, initial, new Bytes32(Keccak256.Hash("model-1"u8)), new Bytes32(Keccak256.Hash("updates"u8)), creditsRoot, settings, 3), CancellationToken.None);
    }
}
