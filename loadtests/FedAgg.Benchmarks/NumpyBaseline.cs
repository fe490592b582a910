using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FedAgg.Benchmarks;

/// <summary>Runs loadtests/baselines/numpy_rules.py with Debian's /usr/bin/python3 and reads the JSON it prints.</summary>
public sealed class NumpyBaseline
{
    private const string Python = "/usr/bin/python3";
    private readonly string _script;

    private NumpyBaseline(string script, string version)
    {
        _script = script;
        Version = version;
    }

    /// <summary>numpy's version and BLAS, for the report header.</summary>
    public string Version { get; }

    /// <summary>Finds python3 with numpy and the script, or returns null with the reason.</summary>
    public static async Task<(NumpyBaseline? Baseline, string Reason)> TryCreateAsync(string repositoryRoot, CancellationToken cancellationToken)
    {
        var script = Path.Combine(repositoryRoot, "loadtests", "baselines", "numpy_rules.py");
        if (!File.Exists(script))
        {
            return (null, $"{script} not found");
        }

        if (!File.Exists(Python))
        {
            return (null, $"{Python} not found");
        }

        var (code, output, error) = await RunProcessAsync(
            ["-c", "import numpy, os; print(numpy.__version__, os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3'))"],
            null,
            TimeSpan.FromSeconds(60),
            cancellationToken).ConfigureAwait(false);
        return code != 0
            ? (null, $"{Python} -c 'import numpy' failed: {Last(error)}")
            : (new NumpyBaseline(script, output.Trim()), "");
    }

    /// <summary>Times the given numpy rules on an n×d float32 matrix; seconds (median of runs) by rule.</summary>
    public async Task<NumpyResult> RunAsync(int n, long d, IEnumerable<string> rules, int runs, int threads, int f, double beta, CancellationToken cancellationToken)
    {
        string[] args =
        [
            _script,
            "--n", n.ToString(CultureInfo.InvariantCulture),
            "--d", d.ToString(CultureInfo.InvariantCulture),
            "--rules", string.Join(",", rules),
            "--runs", runs.ToString(CultureInfo.InvariantCulture),
            "--f", f.ToString(CultureInfo.InvariantCulture),
            "--beta", beta.ToString("R", CultureInfo.InvariantCulture),
        ];
        var threadCount = threads.ToString(CultureInfo.InvariantCulture);
        var (code, output, error) = await RunProcessAsync(
            args,
            new Dictionary<string, string> { ["OPENBLAS_NUM_THREADS"] = threadCount, ["OMP_NUM_THREADS"] = threadCount },
            TimeSpan.FromMinutes(30),
            cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            return new NumpyResult(new Dictionary<string, double>(), new Dictionary<string, string>(), $"exit {code}: {Last(error)}");
        }

        using var json = JsonDocument.Parse(output);
        var seconds = json.RootElement.GetProperty("results").EnumerateObject()
            .ToDictionary(static p => p.Name, static p => p.Value.GetProperty("seconds").GetDouble());
        var skipped = json.RootElement.GetProperty("skipped").EnumerateObject()
            .ToDictionary(static p => p.Name, static p => p.Value.GetString() ?? "");
        return new NumpyResult(seconds, skipped, null);
    }

    private static string Last(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : lines[^1];
    }

    private static async Task<(int Code, string Output, string Error)> RunProcessAsync(IEnumerable<string> args, Dictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Python}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            return (-1, "", $"timed out after {timeout}");
        }

        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }
}

/// <summary>numpy timings for one shape: seconds by rule, reasons for skipped rules, or the failure.</summary>
public sealed record NumpyResult(IReadOnlyDictionary<string, double> Seconds, IReadOnlyDictionary<string, string> Skipped, string? Error);
