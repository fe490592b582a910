using System.Text.Json;
using FedAgg.Aggregation;
using FedAgg.Cli.Tests.Support;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Cli.Tests;

/// <summary>
/// `fedagg aggregate --contributions`: the JSON line carries one contribution per input, equal bit for bit to the
/// independent reference (<see cref="NaiveContributions"/>), and the output file is unchanged by asking.
/// </summary>
public sealed class AggregateCommandContributionsTests : IDisposable
{
    private const int N = 11;
    private const int D = 5000;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> RuleCases() => ["mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median"];

    private static (string[] Arguments, AggregationRule Rule) Rule(string name) => name switch
    {
        "mean" => (["--rule", "mean"], new MeanRule()),
        "median" => (["--rule", "median"], new MedianRule()),
        "trimmed-mean" => (["--rule", "trimmed-mean", "--beta", "0.2"], new TrimmedMeanRule(0.2)),
        "krum" => (["--rule", "krum", "--f", "2"], new KrumRule(2)),
        "multi-krum" => (["--rule", "multi-krum", "--f", "2", "--m", "4"], new MultiKrumRule(2, 4)),
        "bulyan" => (["--rule", "bulyan", "--f", "1"], new BulyanRule(1)),
        "centered-clipping" => (["--rule", "centered-clipping", "--tau", "5", "--iterations", "3"], new CenteredClippingRule(5, 3)),
        "geometric-median" => (["--rule", "geometric-median", "--iterations", "4"], new GeometricMedianRule(1e-6, 4)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
    };

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void Aggregate_ContributionsFlag_ReportsReferenceContributionsPerInput(string ruleCase)
    {
        var updates = UpdateFiles.Mixed(seed: 301, N, D);
        updates[5][77] = float.NaN;
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var (arguments, rule) = Rule(ruleCase);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", .. arguments, "--contributions", "--threads", "3", "--block", "1024", "--out", output, .. inputs]);

        var report = run.SuccessReport();
        var expected = NaiveContributions.Compute(updates, rule);
        var actual = Contributions(report);
        Assert.Equal(N, actual.Length);
        for (var i = 0; i < N; i++)
        {
            Assert.True(
                BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"input {i}: {actual[i]:R}, expected {expected[i]:R}\n{run.Describe()}");
        }

        Assert.Equal(0.0, actual[5]);
        Assert.Equal(NpyOutput.Sha256Of(NaiveAggregation.Aggregate(updates, rule).Output), report.GetProperty("outputSha256").GetString());
    }

    [Fact]
    public void Aggregate_ContributionsWithBucketing_MembersShareTheirBucketsContribution()
    {
        var updates = UpdateFiles.Mixed(seed: 302, N, D);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run([
            "aggregate", "--rule", "trimmed-mean", "--beta", "0.2", "--bucketing", "2", "--seed", "7", "--contributions", "--out", output, .. inputs,
        ]);

        var expected = NaiveContributions.Compute(updates, new TrimmedMeanRule(0.2), [new BucketingStep(2, 7)]);
        Assert.Equal(expected, Contributions(run.SuccessReport()));
    }

    [Fact]
    public void Aggregate_WithoutContributionsFlag_ReportHasNoContributions()
    {
        var updates = UpdateFiles.Mixed(seed: 303, 7, 100);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", "--rule", "median", "--out", output, .. inputs]);

        Assert.False(run.SuccessReport().TryGetProperty("contributions", out _), run.Describe());
    }

    private static double[] Contributions(JsonElement report)
    {
        Assert.True(report.TryGetProperty("contributions", out var contributions), "the report has no contributions");
        return [.. contributions.EnumerateArray().Select(e => e.GetDouble())];
    }
}
