using System.Text.Json;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Cli.Tests.Support;

/// <summary>Checks a successful `fedagg aggregate` run against the scalar reference: the output file bits and every field of the JSON line.</summary>
internal static class ReportAssert
{
    public static void Matches(
        CliResult run,
        string outputPath,
        string rule,
        IReadOnlyList<(string Name, string Value)> parameters,
        IReadOnlyList<string> inputs,
        NaiveAggregationResult expected,
        bool selects,
        IReadOnlyList<(string Step, (string Name, string Value)[] Parameters)>? preSteps = null)
    {
        var report = run.SuccessReport();
        var context = run.Describe();
        var output = NpyOutput.Read(outputPath);
        BitAssert.Equal(expected.Output, output.Values, $"output of {run.CommandLine}");

        Assert.Equal(rule, report.GetProperty("rule").GetString());
        Assert.Equal(parameters, Pairs(report.GetProperty("parameters")));
        var steps = report.GetProperty("preSteps").EnumerateArray().Select(step =>
        {
            var pairs = Pairs(step);
            Assert.Equal("step", pairs[0].Name);
            return (pairs[0].Value, pairs[1..]);
        }).ToArray();
        var expectedSteps = (preSteps ?? []).Select(step => (step.Step, step.Parameters)).ToArray();
        Assert.True(expectedSteps.Length == steps.Length, $"{steps.Length} pre-steps, expected {expectedSteps.Length}\n{context}");
        for (var s = 0; s < steps.Length; s++)
        {
            Assert.Equal(expectedSteps[s].Step, steps[s].Value);
            Assert.Equal(expectedSteps[s].Parameters, steps[s].Item2);
        }

        Assert.Equal(inputs.Count, report.GetProperty("n").GetInt32());
        Assert.Equal(expected.Output.Length, report.GetProperty("d").GetInt64());
        Assert.Equal(expected.AggregatedCount, report.GetProperty("aggregated").GetInt32());

        Assert.Equal(selects, report.TryGetProperty("selected", out var selected));
        Assert.Equal(selects, report.TryGetProperty("scores", out var scores));
        if (selects)
        {
            Assert.Equal(expected.Selected, selected.EnumerateArray().Select(e => e.GetInt32()).ToArray());
            var actualScores = scores.EnumerateArray()
                .Select(e => e.ValueKind == JsonValueKind.Null ? (double?)null : e.GetDouble())
                .ToArray();
            BitAssert.Equal(expected.Scores, actualScores, $"scores of {run.CommandLine}");
        }

        var excluded = report.GetProperty("excluded").EnumerateArray()
            .Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("input").GetString(), e.GetProperty("reason").GetString()))
            .ToArray();
        var expectedExcluded = expected.Excluded.Select(e => (e.Index, (string?)inputs[e.Index], (string?)e.Reason)).ToArray();
        Assert.Equal(expectedExcluded, excluded);

        var hash = report.GetProperty("outputSha256").GetString();
        Assert.Equal(output.Sha256, hash);
        Assert.Equal(NpyOutput.Sha256Of(expected.Output), hash);

        var seconds = report.GetProperty("seconds");
        Assert.Equal(JsonValueKind.Number, seconds.ValueKind);
        Assert.True(seconds.GetDouble() >= 0, $"seconds is negative\n{context}");
    }

    /// <summary>The string-valued properties of a JSON object, in order.</summary>
    public static (string Name, string Value)[] Pairs(JsonElement element) =>
        [.. element.EnumerateObject().Select(p => (p.Name, p.Value.GetString() ?? "<null>"))];
}
