using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary>The root `fedagg` command.</summary>
public sealed class ProgramTests
{
    [Fact]
    public void FedaggDll_NextToTests_HasRuntimeConfig()
    {
        // `dotnet fedagg.dll` needs fedagg.runtimeconfig.json beside it; the project reference copies both.
        Assert.True(File.Exists(FedaggProcess.DllPath), $"{FedaggProcess.DllPath} is missing");
        Assert.True(File.Exists(Path.ChangeExtension(FedaggProcess.DllPath, ".runtimeconfig.json")), $"no runtimeconfig next to {FedaggProcess.DllPath}");
    }

    [Fact]
    public void Main_Help_ListsEveryCommandOnOneLineEach()
    {
        var run = FedaggProcess.Run("--help");

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.True(run.StandardError.Length == 0, run.Describe());
        var lines = run.StandardOutput.Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        var start = Array.IndexOf(lines, "Commands:");
        Assert.True(start >= 0, $"no \"Commands:\" section\n{run.Describe()}");
        var commands = lines[(start + 1)..].TakeWhile(line => line.Length > 0).Select(line => line.Trim()).ToArray();
        Assert.True(commands.Length == 7, $"expected seven command lines, got {commands.Length}\n{run.Describe()}");
        Assert.StartsWith("aggregate ", commands[0], StringComparison.Ordinal);
        Assert.Contains("Aggregate .npy updates with a robust rule", commands[0], StringComparison.Ordinal);
        Assert.StartsWith("chain ", commands[1], StringComparison.Ordinal);
        Assert.Contains("FedAggLedger", commands[1], StringComparison.Ordinal);
        Assert.StartsWith("demo ", commands[2], StringComparison.Ordinal);
        Assert.Contains("Byzantine", commands[2], StringComparison.Ordinal);
        Assert.StartsWith("keygen ", commands[3], StringComparison.Ordinal);
        Assert.Contains("Ed25519 libp2p identity", commands[3], StringComparison.Ordinal);
        Assert.StartsWith("peer ", commands[4], StringComparison.Ordinal);
        Assert.Contains("libp2p", commands[4], StringComparison.Ordinal);
        Assert.StartsWith("server ", commands[5], StringComparison.Ordinal);
        Assert.Contains("FedAgg server", commands[5], StringComparison.Ordinal);
        Assert.StartsWith("verify ", commands[6], StringComparison.Ordinal);
    }

    [Fact]
    public void Main_AggregateHelp_NamesEveryRule()
    {
        var run = FedaggProcess.Run("aggregate", "--help");

        Assert.True(run.ExitCode == 0, run.Describe());
        var ruleLine = Assert.Single(run.OutputLines, line => line.TrimStart().StartsWith("--rule ", StringComparison.Ordinal));
        foreach (var rule in new[] { "mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median" })
        {
            Assert.Contains(rule, ruleLine, StringComparison.Ordinal);
        }
    }
}
