using System.Text.Json;

namespace FedAgg.Cli.Tests.Support;

/// <summary>What one run of the <c>fedagg</c> child process did.</summary>
internal sealed record CliResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public IReadOnlyList<string> OutputLines => Lines(StandardOutput);

    public IReadOnlyList<string> ErrorLines => Lines(StandardError);

    /// <summary>Everything a failure message needs to reproduce and diagnose the run.</summary>
    public string Describe() =>
        $"fedagg {CommandLine}\nexit code {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";

    /// <summary>Asserts exit code 0, nothing on stderr and exactly one stdout line, and parses that line as JSON.</summary>
    public JsonElement SuccessReport()
    {
        Assert.True(ExitCode == 0, $"expected exit code 0\n{Describe()}");
        Assert.True(StandardError.Length == 0, $"expected nothing on stderr\n{Describe()}");
        Assert.True(OutputLines.Count == 1, $"expected exactly one stdout line, got {OutputLines.Count}\n{Describe()}");
        using var document = JsonDocument.Parse(OutputLines[0]);
        return document.RootElement.Clone();
    }

    private static string[] Lines(string text) =>
        text.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToArray();
}

/// <summary>Runs the real CLI as <c>dotnet fedagg.dll ...</c>, the way a user runs it.</summary>
internal static class FedaggProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>fedagg.dll and fedagg.runtimeconfig.json, copied next to the tests by the project reference.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "fedagg.dll");

    public static CliResult Run(params string[] arguments) => RunningCli.RunToExit(AppContext.BaseDirectory, arguments);
}
