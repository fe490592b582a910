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
        // One line per command, each with its own description (a word from it checked), in alphabetical order.
        var expected = new (string Name, string Word)[]
        {
            ("admin", "Coordinator"), ("aggregate", "Aggregate .npy updates with a robust rule"), ("chain", "FedAggLedger"), ("demo", "Byzantine"),
            ("keygen", "Ed25519 libp2p identity"), ("node", "participant node"), ("peer", "libp2p"), ("server", "FedAgg server"), ("verify", "Verify"),
        };
        Assert.True(commands.Length == expected.Length, $"expected {expected.Length} command lines, got {commands.Length}\n{run.Describe()}");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.StartsWith(expected[i].Name + " ", commands[i], StringComparison.Ordinal);
            Assert.Contains(expected[i].Word, commands[i], StringComparison.Ordinal);
        }
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
