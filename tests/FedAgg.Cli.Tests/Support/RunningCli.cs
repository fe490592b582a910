using System.Diagnostics;
using System.Globalization;
using System.Text;
using FedAgg.TestKit.Processes;

namespace FedAgg.Cli.Tests.Support;

/// <summary>
/// A long-running <c>fedagg</c> child process (a server, a listener, a chain) whose output lines a test can wait for;
/// stopped with SIGTERM (as Ctrl+C or a service manager would) and killed, with its children, if it does not exit.
/// </summary>
internal sealed class RunningCli : IAsyncDisposable
{
    private const string ListeningPrefix = "LISTENING ";
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly StringBuilder _errors = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private RunningCli(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    public string CommandLine { get; }

    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet fedagg.dll <paramref name="arguments"/></c> in <paramref name="workingDirectory"/>; it runs until stopped or disposed.</summary>
    public static RunningCli Start(string workingDirectory, params string[] arguments) => Start(workingDirectory, null, arguments);

    /// <summary>As <see cref="Start(string, string[])"/>, with extra environment variables.</summary>
    public static RunningCli Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = CreateStartInfo(workingDirectory, arguments);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var cli = new RunningCli(process, string.Join(' ', arguments));
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (cli._output)
                {
                    cli._output.Add(e.Data);
                }

                cli._lineArrived.Release();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (cli._errors)
                {
                    cli._errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs <c>dotnet fedagg.dll <paramref name="arguments"/></c> in <paramref name="workingDirectory"/> to completion (failing the test after <see cref="FedaggProcess.Timeout"/>).</summary>
    public static CliResult RunToExit(string workingDirectory, params string[] arguments)
    {
        using var process = Process.Start(CreateStartInfo(workingDirectory, arguments)) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(FedaggProcess.Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"fedagg {string.Join(' ', arguments)} did not finish within {FedaggProcess.Timeout.TotalSeconds} s\nstdout:\n{stdout.GetAwaiter().GetResult()}\nstderr:\n{stderr.GetAwaiter().GetResult()}");
        }

        // WaitForExit() without a timeout also waits for the redirected streams to reach end of file.
        process.WaitForExit();
        return new CliResult(string.Join(' ', arguments), process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>The addresses of the <c>LISTENING &lt;multiaddr&gt;</c> lines (as <c>fedagg peer listen</c> prints them) so far, in order.</summary>
    public IReadOnlyList<string> ListeningAddresses =>
        [.. OutputLines.Where(static l => l.StartsWith(ListeningPrefix, StringComparison.Ordinal)).Select(static l => l[ListeningPrefix.Length..])];

    /// <summary>Waits for the first <c>LISTENING &lt;multiaddr&gt;</c> line and returns its address.</summary>
    public async Task<string> WaitForListeningAsync(TimeSpan timeout)
    {
        var line = await WaitForLineAsync(static l => l.StartsWith(ListeningPrefix, StringComparison.Ordinal), "a LISTENING line", timeout);
        return line[ListeningPrefix.Length..];
    }

    /// <summary>Waits for the first stdout line matching <paramref name="match"/>; fails with everything printed so far.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (OutputLines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (_process.HasExited && !await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200)))
            {
                Assert.Fail($"fedagg {CommandLine} exited with {_process.ExitCode} before printing {what}\n{Describe()}");
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"fedagg {CommandLine} did not print {what} within {timeout.TotalSeconds} s\n{Describe()}");
            }

            await _lineArrived.WaitAsync(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>
    /// Sends SIGTERM (unless it has exited) and returns the exit code once the process has exited and its output has been
    /// read to the end (killing the process tree if that takes longer than <paramref name="grace"/>).
    /// </summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            // Also waits for the redirected output to reach end of file, so OutputLines holds every line printed.
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Assert.Fail($"fedagg {CommandLine} did not exit within {grace.TotalSeconds} s of SIGTERM\n{Describe()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the fedagg process alone with SIGKILL, as a crash would (its children, e.g. anvil, are left running).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-KILL", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to exit by itself; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"fedagg {CommandLine} did not exit within {timeout.TotalSeconds} s\n{Describe()}");
        }

        return _process.ExitCode;
    }

    public string Describe() => $"stdout:\n{string.Join('\n', OutputLines)}\nstderr:\n{StandardError}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    private static ProcessStartInfo CreateStartInfo(string workingDirectory, string[] arguments)
    {
        Assert.True(File.Exists(FedaggProcess.DllPath), $"{FedaggProcess.DllPath} is missing: the project reference to FedAgg.Cli should copy it next to the tests");
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(FedaggProcess.DllPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The child must not inherit a test host's settings that change what it prints or computes.
        start.Environment.Remove("DOTNET_EnableHWIntrinsic");
        start.Environment.Remove("DOTNET_EnableAVX2");
        start.Environment.Remove("DOTNET_EnableAVX512");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        // The tests' binaries may live outside the repository (--artifacts-path), where the search for node_modules fails.
        start.Environment["FEDAGG_ANVIL"] = FedAgg.TestKit.Chain.Foundry.AnvilPath;
        return start;
    }
}
