using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Tensors;

namespace FedAgg.Cli.Tests;

/// <summary>
/// Bad input to `fedagg aggregate`: exit code 2, exactly one stderr line "fedagg aggregate: error: ..." naming the
/// problem, nothing on stdout, and neither an output file nor a leftover temporary file in the output directory.
/// </summary>
public sealed class AggregateCommandErrorTests : IDisposable
{
    private const int D = 5000;
    private const string ErrorPrefix = "fedagg aggregate: error: ";

    private readonly TempDirectory _temp = new();
    private readonly string _outDirectory;
    private readonly string _output;

    public AggregateCommandErrorTests()
    {
        _outDirectory = _temp.Directory("out");
        _output = Path.Combine(_outDirectory, "result.npy");
    }

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("missing-file")]
    [InlineData("directory-without-npy")]
    [InlineData("garbage-bytes")]
    [InlineData("corrupt-header-dictionary")]
    [InlineData("truncated-data")]
    [InlineData("trailing-data")]
    [InlineData("float64-input")]
    [InlineData("two-dimensional-input")]
    [InlineData("mismatched-lengths")]
    [InlineData("krum-without-f")]
    [InlineData("krum-too-few-updates")]
    [InlineData("krum-too-few-after-exclusion")]
    [InlineData("bulyan-too-few-updates")]
    [InlineData("trimmed-mean-beta-half")]
    [InlineData("centered-clipping-without-tau")]
    [InlineData("option-does-not-apply")]
    [InlineData("all-inputs-non-finite")]
    [InlineData("nnm-f-too-large")]
    [InlineData("threads-zero")]
    [InlineData("output-directory-missing")]
    [InlineData("missing-center-file")]
    [InlineData("center-shorter-than-updates")]
    [InlineData("center-longer-than-updates")]
    [InlineData("center-non-finite")]
    [InlineData("unknown-rule")]
    public void Aggregate_BadInput_ExitsWith2AndOneErrorLineAndNoOutput(string scenario)
    {
        var (arguments, fragments) = Arrange(scenario);

        var run = FedaggProcess.Run(["aggregate", .. arguments]);

        Assert.True(run.ExitCode == 2, $"expected exit code 2\n{run.Describe()}");
        Assert.True(run.StandardOutput.Length == 0, $"expected nothing on stdout\n{run.Describe()}");
        Assert.True(run.ErrorLines.Count == 1, $"expected exactly one stderr line, got {run.ErrorLines.Count}\n{run.Describe()}");
        var line = run.ErrorLines[0];
        Assert.StartsWith(ErrorPrefix, line, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.True(line.Contains(fragment, StringComparison.Ordinal), $"the error does not name \"{fragment}\"\n{run.Describe()}");
        }

        if (scenario == "output-directory-missing")
        {
            Assert.False(Directory.Exists(Path.GetDirectoryName(arguments[Array.IndexOf(arguments, "--out") + 1])));
        }

        Assert.Empty(Directory.GetFileSystemEntries(_outDirectory));
    }

    [Theory]
    [InlineData("mismatched-lengths")]
    [InlineData("krum-too-few-after-exclusion")]
    [InlineData("krum-without-f")]
    [InlineData("garbage-bytes")]
    public void Aggregate_FailureWithExistingOutput_LeavesOldFileUntouched(string scenario)
    {
        var (arguments, _) = Arrange(scenario);
        NpyFile.WriteFloat32(_output, [1f, 2f, 3f]);
        var before = File.ReadAllBytes(_output);
        var modified = File.GetLastWriteTimeUtc(_output);

        var run = FedaggProcess.Run(["aggregate", .. arguments]);

        Assert.True(run.ExitCode == 2, $"expected exit code 2\n{run.Describe()}");
        Assert.Equal(before, File.ReadAllBytes(_output));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(_output));
        Assert.Equal([_output], Directory.GetFileSystemEntries(_outDirectory));
    }

    /// <summary>Writes the scenario's inputs; returns the arguments after `aggregate` and the fragments the error must contain.</summary>
    private (string[] Arguments, string[] Fragments) Arrange(string scenario)
    {
        var updates = UpdateFiles.Mixed(seed: 201, 11, D);
        var inputDirectory = _temp.Directory("updates");
        var inputs = UpdateFiles.WriteFiles(inputDirectory, updates);
        string[] Mean(params string[] paths) => ["--rule", "mean", "--out", _output, .. paths];

        switch (scenario)
        {
            case "missing-file":
            {
                var missing = _temp.File("missing.npy");
                return (Mean(inputs[0], missing), [missing, "no such file or directory"]);
            }

            case "directory-without-npy":
            {
                var empty = _temp.Directory("no-npy");
                File.WriteAllText(Path.Combine(empty, "notes.txt"), "not an update");
                File.WriteAllBytes(Path.Combine(empty, "weights.npz"), [1, 2, 3]);
                return (Mean(empty), [empty, "holds no .npy files"]);
            }

            case "garbage-bytes":
            {
                var random = new Random(202);
                var bytes = new byte[200];
                random.NextBytes(bytes);
                var bad = _temp.File("garbage.npy");
                File.WriteAllBytes(bad, bytes);
                return (Mean(inputs[0], bad), [bad, "bad magic"]);
            }

            case "corrupt-header-dictionary":
            {
                var bad = _temp.File("bad-header.npy");
                UpdateFiles.WriteRaw(bad, "<f4", "(oops", new byte[4 * D]);
                return (Mean(inputs[0], bad), [bad]);
            }

            case "truncated-data":
            {
                var bad = _temp.File("truncated.npy");
                NpyFile.WriteFloat32(bad, updates[0]);
                using (var stream = new FileStream(bad, FileMode.Open))
                {
                    stream.SetLength(stream.Length - 6);
                }

                return (Mean(inputs[0], bad), [bad, "truncated data"]);
            }

            case "trailing-data":
            {
                var bad = _temp.File("trailing.npy");
                NpyFile.WriteFloat32(bad, updates[0]);
                using (var stream = new FileStream(bad, FileMode.Append))
                {
                    stream.Write([0, 0, 0, 0]);
                }

                return (Mean(inputs[0], bad), [bad, "trailing data"]);
            }

            case "float64-input":
            {
                var bad = _temp.File("doubles.npy");
                UpdateFiles.WriteRaw(bad, "<f8", $"({D},)", new byte[8 * D]);
                return (Mean(inputs[0], bad), [bad, "'<f8'"]);
            }

            case "two-dimensional-input":
            {
                var bad = _temp.File("matrix.npy");
                NpyFile.WriteFloat32(bad, updates[0], [2, D / 2]);
                return (Mean(inputs[0], bad), [bad, "1-D", "(2, 2500)"]);
            }

            case "mismatched-lengths":
            {
                // Detected inside the engine, after the temporary output file was created.
                var bad = _temp.File("short.npy");
                NpyFile.WriteFloat32(bad, updates[2].AsSpan(0, D - 1));
                return (Mean(inputs[0], inputs[1], bad, inputs[3]), [$"{bad} has {D - 1} values", "same length"]);
            }

            case "krum-without-f":
                return (["--rule", "krum", "--out", _output, .. inputs], ["krum needs --f"]);

            case "krum-too-few-updates":
                return (["--rule", "krum", "--f", "2", "--out", _output, .. inputs[..6]], ["2f+3", "got 6"]);

            case "krum-too-few-after-exclusion":
            {
                var poisoned = _temp.File("poisoned.npy");
                var values = (float[])updates[6].Clone();
                values[10] = float.NaN;
                NpyFile.WriteFloat32(poisoned, values);
                return (["--rule", "krum", "--f", "2", "--out", _output, .. inputs[..6], poisoned], ["2f+3", "got 6", "after excluding 1"]);
            }

            case "bulyan-too-few-updates":
                return (["--rule", "bulyan", "--f", "2", "--out", _output, .. inputs[..10]], ["4f+3", "got 10"]);

            case "trimmed-mean-beta-half":
                return (["--rule", "trimmed-mean", "--beta", "0.5", "--out", _output, .. inputs], ["beta must be in [0, 0.5)", "got 0.5"]);

            case "centered-clipping-without-tau":
                return (["--rule", "centered-clipping", "--out", _output, .. inputs], ["centered-clipping needs --tau"]);

            case "option-does-not-apply":
                return (["--rule", "mean", "--beta", "0.1", "--out", _output, .. inputs], ["--beta does not apply to mean"]);

            case "all-inputs-non-finite":
            {
                var paths = new string[3];
                for (var i = 0; i < paths.Length; i++)
                {
                    var values = (float[])updates[i].Clone();
                    values[i] = float.PositiveInfinity;
                    paths[i] = _temp.File($"inf{i}.npy");
                    NpyFile.WriteFloat32(paths[i], values);
                }

                return (Mean(paths), ["no finite updates left"]);
            }

            case "nnm-f-too-large":
                return (["--rule", "mean", "--nnm", "11", "--out", _output, .. inputs], ["nearest-neighbour-mixing", "got 11"]);

            case "threads-zero":
                return (["--rule", "mean", "--threads", "0", "--out", _output, .. inputs], ["--threads"]);

            case "output-directory-missing":
            {
                var missing = Path.Combine(_temp.Path, "missing-dir");
                return (["--rule", "mean", "--out", Path.Combine(missing, "result.npy"), .. inputs], [missing, "does not exist"]);
            }

            case "missing-center-file":
            {
                var missing = _temp.File("no-center.npy");
                return (["--rule", "centered-clipping", "--tau", "1", "--center", missing, "--out", _output, .. inputs], [missing]);
            }

            case "center-shorter-than-updates":
            case "center-longer-than-updates":
            case "center-non-finite":
            {
                var center = new float[scenario switch { "center-shorter-than-updates" => D - 1, "center-longer-than-updates" => D + 1, _ => D }];
                if (scenario == "center-non-finite")
                {
                    center[3] = float.NaN;
                }

                var path = _temp.File("center.npy");
                NpyFile.WriteFloat32(path, center);
                return (["--rule", "centered-clipping", "--tau", "1", "--center", path, "--out", _output, .. inputs], [path]);
            }

            case "unknown-rule":
                return (["--rule", "average", "--out", _output, .. inputs], ["average"]);

            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "no such scenario");
        }
    }
}
