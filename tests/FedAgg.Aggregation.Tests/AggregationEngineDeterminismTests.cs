using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using FedAgg.Aggregation.Probe;
using FedAgg.TestKit.Processes;

namespace FedAgg.Aggregation.Tests;

/// <summary>
/// The output bits (SHA-256 of the output bytes, the selection, the score bits) must not depend on the thread count,
/// the block size or the SIMD width the JIT picks. The last is checked in child processes started with the JIT's
/// vector instructions switched off.
/// </summary>
public sealed class AggregationEngineDeterminismTests
{
    private const ulong Seed = 20_240_611;

    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(120);

    private static readonly Lazy<IReadOnlyList<string>> InProcessLines = new(() =>
        ProbeScenarios.Run(Seed, ProbeScenarios.Engine(new AggregationOptions { MaxDegreeOfParallelism = 1, BlockCoordinates = 4096 })));

    public static TheoryData<int, int> ParallelismAndBlocks()
    {
        var data = new TheoryData<int, int>();
        foreach (var dop in (int[])[1, 2, 8])
        {
            foreach (var block in (int[])[1024, 4096, 65536])
            {
                data.Add(dop, block);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ParallelismAndBlocks))]
    public void Aggregate_ParallelismAndBlockSize_BitIdenticalHashes(int dop, int block)
    {
        var lines = ProbeScenarios.Run(Seed, ProbeScenarios.Engine(new AggregationOptions { MaxDegreeOfParallelism = dop, BlockCoordinates = block }));
        AssertSameLines(InProcessLines.Value, lines, $"dop={dop} block={block}");
    }

    [Fact]
    public void Aggregate_ProbeScenarios_MatchReferenceHashes()
    {
        var reference = ProbeScenarios.Run(Seed, ProbeScenarios.Naive);
        AssertSameLines(reference, InProcessLines.Value, "engine vs reference");
    }

    public static TheoryData<string, string> RestrictedIsas() => new()
    {
        // variable assignments (space separated), then the ISA-line fragment that proves the switch took effect
        { "DOTNET_EnableAVX512=0", "v512=False" },
        { "DOTNET_EnableAVX512=0 DOTNET_EnableAVX2=0", "avx2=False" },
        { "DOTNET_EnableHWIntrinsic=0", "v128=False" },
    };

    [Theory]
    [MemberData(nameof(RestrictedIsas))]
    public void Aggregate_ChildProcessWithRestrictedIsa_MatchesInProcessHashes(string environment, string isaFragment)
    {
        var output = RunProbe(environment, Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length > 0, "the probe printed nothing");
        var isa = lines[0];
        Assert.StartsWith("isa ", isa, StringComparison.Ordinal);
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            Assert.True(isa.Contains(isaFragment, StringComparison.Ordinal), $"{environment} did not take effect: {isa}");
        }

        AssertSameLines(InProcessLines.Value, lines[1..], environment + " " + isa);
    }

    [Fact]
    public void ProbeAssembly_NextToTests_HasRuntimeConfig()
    {
        // `dotnet probe.dll` needs probe.runtimeconfig.json beside it (the csproj copies it if the SDK does not).
        var dll = typeof(ProbeScenarios).Assembly.Location;
        Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"no runtimeconfig next to {dll}");
    }

    private static void AssertSameLines(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string context)
    {
        Assert.True(expected.Count == actual.Count, $"{context}: {actual.Count} lines, expected {expected.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i] == actual[i], $"{context}: scenario {i} differs\n expected {expected[i]}\n actual   {actual[i]}");
        }
    }

    private static string RunProbe(string environment, string arguments)
    {
        var dll = typeof(ProbeScenarios).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var assignment in environment.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = assignment.IndexOf('=', StringComparison.Ordinal);
            start.Environment[assignment[..eq]] = assignment[(eq + 1)..];
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the probe");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(ChildTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the probe ({environment}) did not finish within {ChildTimeout.TotalSeconds} s");
        }

        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"the probe ({environment}) exited with {process.ExitCode}: {stderr}");
        lock (stdout)
        {
            return stdout.ToString();
        }
    }
}
