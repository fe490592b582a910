using System.Diagnostics;
using System.Text;

namespace FedAgg.Cli.Tests.Support;

/// <summary>Runs scripts with Debian's /usr/bin/python3, whose numpy is the independent implementation we cross-check against.</summary>
internal static class PythonRunner
{
    public const string Executable = "/usr/bin/python3";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="script"/>; fails the test saying how to install numpy if it is missing, or with stderr on any other failure. Returns stdout.</summary>
    public static string RunNumpy(string script, params string[] arguments)
    {
        const string install = "install python3-numpy (apt-get install -y python3-numpy; ./test.sh does this) to run the numpy cross-checks";
        if (!File.Exists(Executable))
        {
            Assert.Fail($"{Executable} is missing: {install}.");
        }

        var probe = Run("import numpy", []);
        if (probe.ExitCode != 0)
        {
            Assert.Fail($"{Executable} cannot import numpy: {install}.\nstderr:\n{probe.StandardError}");
        }

        var result = Run(script, arguments);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"{Executable} exited with {result.ExitCode}.\nscript:\n{script}\nstderr:\n{result.StandardError}\nstdout:\n{result.StandardOutput}");
        }

        return result.StandardOutput;
    }

    private static (int ExitCode, string StandardOutput, string StandardError) Run(string script, IReadOnlyList<string> arguments)
    {
        // -I: ignore PYTHON* variables and the user's site-packages so that only Debian's numpy is used.
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

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{Executable} did not finish within {Timeout.TotalSeconds} s.\nscript:\n{script}");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
