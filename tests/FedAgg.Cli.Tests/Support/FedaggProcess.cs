using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FedAgg.TestKit.Processes;

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

    public static CliResult Run(params string[] arguments)
    {
        Assert.True(File.Exists(DllPath), $"{DllPath} is missing: the project reference to FedAgg.Cli should copy it next to the tests");
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The child must not inherit a test host's settings that change what it prints or computes.
        start.Environment.Remove("DOTNET_EnableHWIntrinsic");
        start.Environment.Remove("DOTNET_EnableAVX2");
        start.Environment.Remove("DOTNET_EnableAVX512");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var commandLine = string.Join(' ', arguments);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"fedagg {commandLine} did not finish within {Timeout.TotalSeconds} s\nstderr so far:\n{stderr.GetAwaiter().GetResult()}");
        }

        // WaitForExit() without a timeout also waits for the redirected streams to reach end of file.
        process.WaitForExit();
        return new CliResult(commandLine, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
