using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg server --dev</c> as a real child process: embedded chain, demo task, LISTENING, ping, SIGTERM, restart.</summary>
public sealed class ServerCommandTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ServerDev_EmbeddedChain_PrintsListeningPingableAndRestartsOnTheSameData()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        string firstPeer;
        await using (var server = RunningCli.Start(directory.Path, "server", "--dev", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0"))
        {
            var address = await server.WaitForListeningAsync(Wait);
            Assert.StartsWith("/ip4/127.0.0.1/tcp/", address, StringComparison.Ordinal);
            firstPeer = address[(address.LastIndexOf('/') + 1)..];
            var lines = server.OutputLines;
            Assert.Contains(lines, l => l.StartsWith("CHAIN http://127.0.0.1:", StringComparison.Ordinal) && l.Contains(" chain-id 31337 ledger 0x", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("REGISTERED demo settings 0x", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("TASK demo settings 0x", StringComparison.Ordinal) && l.EndsWith(" elements 1000 rule trimmed-mean", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("ROUND 1 open until ", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(data, "coordinator.key")), server.Describe());

            var ping = await Task.Run(() => RunningCli.RunToExit(directory.Path, "peer", "ping", address, "--count", "1"));

            Assert.True(ping.ExitCode == 0, ping.Describe() + server.Describe());
            Assert.Contains("/fedagg/submit/1.0.0", ping.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("/fedagg/model/1.0.0", ping.StandardOutput, StringComparison.Ordinal);
            var exit = await server.StopAsync(Wait);
            Assert.True(exit == 0, $"server exited with {exit} after SIGTERM\n{server.Describe()}");
            Assert.Equal("STOPPED", server.OutputLines[^1]);
        }

        await using var restarted = RunningCli.Start(directory.Path, "server", "--dev", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0");
        var again = await restarted.WaitForListeningAsync(Wait);

        Assert.EndsWith("/p2p/" + firstPeer, again, StringComparison.Ordinal);
        Assert.DoesNotContain(restarted.OutputLines, l => l.StartsWith("REGISTERED", StringComparison.Ordinal));
        Assert.Contains(restarted.OutputLines, l => l.StartsWith("ROUND 1 open until ", StringComparison.Ordinal));
        Assert.Equal(0, await restarted.StopAsync(Wait));
    }

    [Fact]
    public async Task ServerDev_ChainNone_ListensWithoutAChain()
    {
        using var directory = new TempDirectory();
        await using var server = RunningCli.Start(directory.Path, "server", "--dev", "--chain", "none", "--data", directory.File("data"),
            "--listen", "/ip4/127.0.0.1/tcp/0", "--dev-elements", "10", "--dev-rule", "median");

        await server.WaitForListeningAsync(Wait);

        Assert.DoesNotContain(server.OutputLines, l => l.StartsWith("CHAIN", StringComparison.Ordinal));
        Assert.Contains(server.OutputLines, l => l.StartsWith("TASK demo ", StringComparison.Ordinal) && l.EndsWith(" elements 10 rule median", StringComparison.Ordinal));
        Assert.Equal(0, await server.StopAsync(Wait));
    }

    [Fact]
    public void ServerDev_UnknownRule_ExitTwoWithOneLine()
    {
        using var directory = new TempDirectory();

        var result = RunningCli.RunToExit(directory.Path, "server", "--dev", "--chain", "none", "--data", directory.File("data"), "--dev-rule", "best");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("fedagg server: error: Argument 'best' not recognized. Must be one of: 'trimmed-mean'", line, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);
    }
}
