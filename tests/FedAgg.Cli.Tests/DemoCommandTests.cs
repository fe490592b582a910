using System.Globalization;
using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary>`fedagg demo`: every rule over generated honest and Byzantine updates, as a table.</summary>
public sealed class DemoCommandTests
{
    // The table's rule column is 34 characters wide, then one space.
    private const int LabelWidth = 34;

    [Fact]
    public void Demo_SmallD_PrintsOneRowPerRuleAndMedianBeatsMean()
    {
        var run = FedaggProcess.Run("demo", "--d", "20000");

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.True(run.StandardError.Length == 0, run.Describe());
        Assert.Contains("24 honest and 5 Byzantine updates of 20,000 parameters (seed 7)", run.StandardOutput, StringComparison.Ordinal);
        var lines = run.StandardOutput.Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        var ruler = Array.FindIndex(lines, line => line.StartsWith("-----", StringComparison.Ordinal));
        Assert.True(ruler > 0, $"no table\n{run.Describe()}");
        Assert.StartsWith("rule ", lines[ruler - 1], StringComparison.Ordinal);
        var rows = lines[(ruler + 1)..].TakeWhile(line => line.Length > 0).ToArray();

        string[] rules =
            ["mean (FedAvg)", "median", "trimmed-mean β=", "krum f=5", "multi-krum f=5", "bulyan f=5", "centered-clipping", "geometric-median", "bucketing s=2 → median"];
        Assert.True(rows.Length == rules.Length, $"expected {rules.Length} rows, got {rows.Length}\n{run.Describe()}");
        var errors = new double[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            Assert.True(rows[r].Length > LabelWidth, $"row {r} is too short: {rows[r]}");
            var label = rows[r][..LabelWidth].TrimEnd();
            Assert.StartsWith(rules[r], label, StringComparison.Ordinal);
            var cells = rows[r][LabelWidth..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(
                double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out errors[r]),
                $"row \"{label}\" has no error value (refused?): {rows[r]}");
            Assert.True(errors[r] >= 0, rows[r]);
        }

        // The NaN-poisoned update is excluded, so the mean is finite but pulled far off by the other attackers.
        Assert.True(double.IsFinite(errors[0]), rows[0]);
        Assert.True(errors[0] > errors[1], $"mean error {errors[0]} should exceed median error {errors[1]}\n{run.StandardOutput}");
    }

    [Fact]
    public void Demo_TooFewHonest_ExitsWith2AndOneErrorLine()
    {
        var run = FedaggProcess.Run("demo", "--honest", "2", "--d", "10");

        Assert.True(run.ExitCode == 2, run.Describe());
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("fedagg demo: error: ", line, StringComparison.Ordinal);
        Assert.Contains("--honest ≥ 3", line, StringComparison.Ordinal);
    }
}
