using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedAgg.TestKit;
using FedAgg.TestKit.Processes;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>
/// The committed contracts/artifacts/FedAggLedger.json: reproducible from the source by contracts/compile.mjs (solc-js),
/// complete, and embedded in FedAgg.Chain.
/// </summary>
[Trait("Category", "Chain")]
public sealed class LedgerArtifactTests(LedgerArtifactTests.CompileCheck check) : IClassFixture<LedgerArtifactTests.CompileCheck>
{
    private static readonly string[] ExpectedFunctions =
    [
        "ANCHOR_ROLE()", "COORDINATOR_ROLE()", "DEFAULT_ADMIN_ROLE()",
        "anchorRound(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)",
        "claim(bytes32,address,uint256,bytes32[])", "claimableAt(bytes32)", "claimableCreditsRoot(bytes32)", "claimed(bytes32,address)",
        "computeRoundCommitment(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)", "credits(address)", "creditsRoot(bytes32)",
        "getRoleAdmin(bytes32)", "grantRole(bytes32,address)", "hasRole(bytes32,address)", "lastRound(bytes32)", "latestModelHash(bytes32)",
        "pause()", "paused()", "registerTask(bytes32,bytes32,bytes32)", "registerTask(bytes32,bytes32,bytes32,uint64)", "renounceRole(bytes32,address)",
        "revokeRole(bytes32,address)", "roundCommitment(bytes32,uint64)", "supportsInterface(bytes4)", "taskInfo(bytes32)", "unpause()",
    ];

    private static readonly string[] ExpectedEvents =
    [
        "CreditsClaimed(bytes32,address,uint256,uint256)", "Paused(address)", "RoleAdminChanged(bytes32,bytes32,bytes32)",
        "RoleGranted(bytes32,address,address)", "RoleRevoked(bytes32,address,address)",
        "RoundAnchored(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)", "TaskRegistered(bytes32,bytes32,bytes32,uint64)",
        "Unpaused(address)",
    ];

    private static readonly string[] ExpectedErrors =
    [
        "AccessControlBadConfirmation()", "AccessControlUnauthorizedAccount(address,bytes32)", "CreditsNotYetClaimable(bytes32,uint256)",
        "EnforcedPause()", "ExpectedPause()", "InvalidProof()", "NothingToClaim()", "ParentModelMismatch(bytes32,bytes32)",
        "RoundOutOfOrder(uint64,uint64)", "SettingsMismatch(bytes32,bytes32)", "TaskAlreadyRegistered(bytes32)", "UnknownTask(bytes32)", "ZeroAddress()",
    ];

    private static string ArtifactFile => Path.Combine(RepositoryRoot.Path, LedgerFixture.ArtifactPath);

    [Fact]
    public void CompileCheck_CommittedArtifact_MatchesFreshCompile()
    {
        Assert.True(
            check.StandardOutput.Contains($"{LedgerFixture.ArtifactPath} matches", StringComparison.Ordinal),
            $"node contracts/compile.mjs --check failed for the committed artifact (run `node contracts/compile.mjs` and commit it):\n{check.StandardError}\n{check.StandardOutput}");
        Assert.DoesNotContain(LedgerFixture.ArtifactPath, check.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void CompileCheck_TamperedArtifact_ExitsNonZeroNamingWhatDiffers()
    {
        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"{check.TamperedPath} is stale: deployedBytecode differs from a fresh compile", check.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain($"{check.TamperedPath} matches", check.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Artifact_Fields_DescribeTheCompileAndTheContractSurface()
    {
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(ArtifactFile));
        var root = document.RootElement;

        Assert.Equal("FedAggLedger", root.GetProperty("contractName").GetString());
        Assert.StartsWith("0.8.30+", root.GetProperty("compiler").GetProperty("version").GetString(), StringComparison.Ordinal);
        var settings = root.GetProperty("settings");
        Assert.True(settings.GetProperty("optimizer").GetProperty("enabled").GetBoolean());
        Assert.True(settings.GetProperty("optimizer").GetProperty("runs").GetInt32() > 0);
        Assert.Equal("prague", settings.GetProperty("evmVersion").GetString());
        Assert.Equal("none", settings.GetProperty("metadata").GetProperty("bytecodeHash").GetString());
        foreach (var name in new[] { "bytecode", "deployedBytecode" })
        {
            var hex = root.GetProperty(name).GetString()!;
            Assert.StartsWith("0x", hex, StringComparison.Ordinal);
            Assert.True(hex.Length > 2 && hex.Length % 2 == 0, $"{name} is not whole bytes");
            Assert.Equal(hex[2..].Length / 2, Convert.FromHexString(hex[2..]).Length);
        }

        // The creation code carries the runtime code it deploys (the contract has no immutables).
        Assert.Contains(root.GetProperty("deployedBytecode").GetString()![2..], root.GetProperty("bytecode").GetString()!, StringComparison.Ordinal);

        // The source hash is over the source with LF line endings, computed here independently of compile.mjs.
        var source = (await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "contracts", "src", "FedAggLedger.sol"))).Replace("\r\n", "\n", StringComparison.Ordinal);
        var sourceHashes = root.GetProperty("sourceHashes");
        Assert.Equal("0x" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source))), sourceHashes.GetProperty("contracts/src/FedAggLedger.sol").GetString());
        Assert.Contains(sourceHashes.EnumerateObject(), p => p.Name == "@openzeppelin/contracts/access/AccessControl.sol");
        Assert.Contains(sourceHashes.EnumerateObject(), p => p.Name == "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol");

        var abi = root.GetProperty("abi").EnumerateArray().ToArray();
        Assert.Equal(ExpectedFunctions, Signatures(abi, "function"));
        Assert.Equal(ExpectedEvents, Signatures(abi, "event"));
        Assert.Equal(ExpectedErrors, Signatures(abi, "error"));
        var anchored = abi.Single(e => e.GetProperty("type").GetString() == "event" && e.GetProperty("name").GetString() == "RoundAnchored");
        Assert.Equal([true, true, false, false, false, false, false, false], anchored.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("indexed").GetBoolean()));
        var constructor = abi.Single(e => e.GetProperty("type").GetString() == "constructor");
        Assert.Equal(["admin", "anchor", "coordinator"], constructor.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Artifact_EmbeddedInFedAggChain_EqualsCommittedFile()
    {
        var assembly = Assembly.Load("FedAgg.Chain");
        await using var stream = assembly.GetManifestResourceStream("FedAggLedger.json");
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);

        Assert.Equal(await File.ReadAllTextAsync(ArtifactFile), await reader.ReadToEndAsync());
    }

    private static string[] Signatures(JsonElement[] abi, string type) =>
    [
        .. abi.Where(e => e.GetProperty("type").GetString() == type)
            .Select(e => $"{e.GetProperty("name").GetString()}({string.Join(',', e.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("type").GetString()))})")
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>
    /// One <c>node contracts/compile.mjs --check</c> run (solc-js takes seconds) over the committed artifact and a copy
    /// with one byte of deployedBytecode changed.
    /// </summary>
    public sealed class CompileCheck : IAsyncLifetime
    {
        public int ExitCode { get; private set; }

        public string StandardOutput { get; private set; } = "";

        public string StandardError { get; private set; } = "";

        public string TamperedPath { get; } = Path.Combine(Path.GetTempPath(), $"fedagg-ledger-tampered-{Guid.NewGuid():N}.json");

        public async Task InitializeAsync()
        {
            var artifact = JsonNode.Parse(await File.ReadAllTextAsync(ArtifactFile))!;
            var bytecode = artifact["deployedBytecode"]!.GetValue<string>();
            artifact["deployedBytecode"] = bytecode[..^2] + (bytecode.EndsWith("00", StringComparison.Ordinal) ? "01" : "00");
            await File.WriteAllTextAsync(TamperedPath, artifact.ToJsonString());

            var start = new ProcessStartInfo(NodeRunner.Executable)
            {
                WorkingDirectory = RepositoryRoot.Path,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { Path.Combine("contracts", "compile.mjs"), "--check", $"--artifact={LedgerFixture.ArtifactPath}", $"--artifact={TamperedPath}" })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment.Remove("NODE_OPTIONS");
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("node contracts/compile.mjs --check did not finish within 120 s");
            }

            (ExitCode, StandardOutput, StandardError) = (process.ExitCode, await stdout, await stderr);
        }

        public Task DisposeAsync()
        {
            File.Delete(TamperedPath);
            return Task.CompletedTask;
        }
    }
}
