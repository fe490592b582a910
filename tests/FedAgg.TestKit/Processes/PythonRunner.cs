using System.Diagnostics;
using System.Text;

namespace FedAgg.TestKit.Processes;

/// <summary>
/// Runs scripts with Debian's /usr/bin/python3, whose numpy is the independent implementation the tests cross-check
/// against. Failures throw <see cref="InvalidOperationException"/> with everything needed to fix them (the test fails).
/// </summary>
public static class PythonRunner
{
    public const string Executable = "/usr/bin/python3";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);
    private static readonly SemaphoreSlim NumpyCheckLock = new(1, 1);
    private static bool _numpyChecked;

    /// <summary>Fails the test, saying how to fix it, unless /usr/bin/python3 can import numpy.</summary>
    public static async Task RequireNumpyAsync()
    {
        await NumpyCheckLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_numpyChecked)
            {
                return;
            }

            if (!File.Exists(Executable))
            {
                throw new InvalidOperationException($"{Executable} is missing: install python3-numpy (apt-get install -y python3-numpy; ./test.sh does this) to run the numpy cross-checks.");
            }

            var result = await RunRawAsync("import numpy; print(numpy.__version__)", [], DefaultTimeout);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{Executable} cannot import numpy: install python3-numpy (apt-get install -y python3-numpy; ./test.sh does this) to run the numpy cross-checks.\nstderr:\n{result.StandardError}");
            }

            _numpyChecked = true;
        }
        finally
        {
            NumpyCheckLock.Release();
        }
    }

    /// <summary>Synchronous <see cref="RunNumpyAsync"/> for tests that are not async.</summary>
    public static string RunNumpy(string script, params string[] arguments) => RunNumpyAsync(script, arguments).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="script"/> with numpy available; fails the test with stderr on a non-zero exit or timeout. Returns stdout.</summary>
    public static async Task<string> RunNumpyAsync(string script, params string[] arguments)
    {
        await RequireNumpyAsync();
        var result = await RunRawAsync(script, arguments, DefaultTimeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Executable} exited with {result.ExitCode}.\nscript:\n{script}\nstderr:\n{result.StandardError}\nstdout:\n{result.StandardOutput}");
        }

        return result.StandardOutput;
    }

    private static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunRawAsync(
        string script, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        // -I: ignore PYTHON* variables and the user's site-packages so only Debian's numpy is used.
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-I");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new InvalidOperationException($"{Executable} did not finish within {timeout.TotalSeconds} s.\nscript:\n{script}\nstderr:\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
