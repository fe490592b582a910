using FedAgg.Cli.Tests.EndToEnd;
using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg node run</c> and <c>fedagg node claim</c> as real processes against <c>fedagg server --dev</c> with anvil.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class NodeCommandTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task NodeRun_TwoNodesOneRound_IncludedAnchoredAndTheBoundAccountClaims()
    {
        using var directory = new TempDirectory();
        var data = directory.File("mnist");
        Directory.CreateDirectory(data);
        DemoEndToEndTests.WriteIdx(data, "train", 200, seed: 1);
        DemoEndToEndTests.WriteIdx(data, "t10k", 50, seed: 2);

        // Hidden layer 8: 784·8 + 8 + 8·10 + 10 = 6,370 parameters, the size of the dev task's model.
        await using var server = RunningCli.Start(directory.Path, "server", "--dev", "--data", directory.File("server"), "--listen", "/ip4/127.0.0.1/tcp/0",
            "--dev-elements", "6370", "--dev-max-participants", "2");
        var address = await server.WaitForListeningAsync(Wait);
        var rpc = server.OutputLines.Single(l => l.StartsWith("CHAIN ", StringComparison.Ordinal)).Split(' ')[1];
        const string Account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"; // anvil's development account 2

        string[] Node(int index) =>
        [
            "node", "run", "--server", address, "--key", directory.File($"node{index}.key"), "--data", directory.File($"node{index}"),
            "--index", index.ToString(System.Globalization.CultureInfo.InvariantCulture), "--of", "2", "--local-steps", "5", "--hidden", "8",
            "--data-dir", data, "--rpc", rpc, "--round-timeout", "120", .. index == 0 ? new[] { "--bind", Account } : [],
        ];

        var runs = await Task.WhenAll(Task.Run(() => RunningCli.RunToExit(directory.Path, Node(0))), Task.Run(() => RunningCli.RunToExit(directory.Path, Node(1))));

        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.Describe() + server.Describe());
            Assert.Contains("SUBMITTED round 1 ", run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("INCLUDED round 1", run.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("NOT INCLUDED", run.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Contains($"BOUND {Account}", runs[0].StandardOutput, StringComparison.OrdinalIgnoreCase);
        Assert.Single(Directory.GetFiles(directory.File("node0"), "*.json", SearchOption.AllDirectories));

        var claim = await Task.Run(() => RunningCli.RunToExit(directory.Path, "node", "claim", "--server", address, "--key", directory.File("node0.key"), "--rpc", rpc, "--dev-key", "2"));
        Assert.True(claim.ExitCode == 0, claim.Describe());
        Assert.Matches(@"CLAIMED [1-9][0-9]* for 0x[0-9a-fA-F]{40} \(cumulative [1-9][0-9]*, round 1\); credits balance [1-9][0-9]*", claim.StandardOutput);
        Assert.Equal(0, await server.StopAsync(Wait));
    }
}
