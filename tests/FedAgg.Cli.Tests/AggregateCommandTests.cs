using FedAgg.Aggregation;
using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Cli.Tests;

/// <summary>
/// `fedagg aggregate` run as a child process, its output file and JSON line compared bit for bit with the
/// independent scalar reference (<see cref="NaiveAggregation"/>).
/// </summary>
public sealed class AggregateCommandTests : IDisposable
{
    private const int N = 11;

    // Not a multiple of the 1024-coordinate chunk, so the last block is partial.
    private const int D = 5000;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A rule as the command line names it, the same rule for the reference, and the parameters the JSON must report.</summary>
    private sealed record RuleCase(string[] Arguments, AggregationRule Rule, (string Name, string Value)[] Parameters);

    private static RuleCase Rule(string name) => name switch
    {
        "mean" => new(["--rule", "mean"], new MeanRule(), []),
        "median" => new(["--rule", "median"], new MedianRule(), []),
        "trimmed-mean" => new(["--rule", "trimmed-mean", "--beta", "0.2"], new TrimmedMeanRule(0.2), [("beta", "0.2")]),
        "trimmed-mean-default" => new(["--rule", "trimmed-mean"], new TrimmedMeanRule(0.1), [("beta", "0.1")]),
        "krum" => new(["--rule", "krum", "--f", "2"], new KrumRule(2), [("f", "2")]),
        "multi-krum" => new(["--rule", "multi-krum", "--f", "2", "--m", "4"], new MultiKrumRule(2, 4), [("f", "2"), ("m", "4")]),
        "multi-krum-default" => new(["--rule", "multi-krum", "--f", "2"], new MultiKrumRule(2), [("f", "2")]),
        "bulyan" => new(["--rule", "bulyan", "--f", "2"], new BulyanRule(2), [("f", "2")]),
        "centered-clipping" => new(
            ["--rule", "centered-clipping", "--tau", "5", "--iterations", "3"],
            new CenteredClippingRule(5, 3),
            [("tau", "5"), ("iterations", "3"), ("center", "zero")]),
        "geometric-median" => new(["--rule", "geometric-median"], new GeometricMedianRule(), [("nu", "1E-06"), ("iterations", "10")]),
        "geometric-median-options" => new(
            ["--rule", "geometric-median", "--nu", "0.001", "--iterations", "4"],
            new GeometricMedianRule(0.001, 4),
            [("nu", "0.001"), ("iterations", "4")]),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
    };

    [Theory]
    [InlineData("mean", false)]
    [InlineData("mean", true)]
    [InlineData("median", false)]
    [InlineData("median", true)]
    [InlineData("trimmed-mean", false)]
    [InlineData("trimmed-mean", true)]
    [InlineData("trimmed-mean-default", false)]
    [InlineData("krum", false)]
    [InlineData("krum", true)]
    [InlineData("multi-krum", false)]
    [InlineData("multi-krum", true)]
    [InlineData("multi-krum-default", true)]
    [InlineData("bulyan", false)]
    [InlineData("bulyan", true)]
    [InlineData("centered-clipping", false)]
    [InlineData("centered-clipping", true)]
    [InlineData("geometric-median", false)]
    [InlineData("geometric-median", true)]
    [InlineData("geometric-median-options", false)]
    public void Aggregate_Rule_MatchesReferenceBitForBit(string ruleCase, bool asDirectory)
    {
        var updates = UpdateFiles.Mixed(seed: 101, N, D);
        var inputDirectory = _temp.Directory("updates");
        var inputs = asDirectory ? UpdateFiles.WriteDirectory(inputDirectory, updates) : UpdateFiles.WriteFiles(inputDirectory, updates);
        var rule = Rule(ruleCase);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run([
            "aggregate", .. rule.Arguments, "--out", output, .. asDirectory ? [inputDirectory] : inputs,
        ]);

        var expected = NaiveAggregation.Aggregate(updates, rule.Rule);
        ReportAssert.Matches(run, output, rule.Rule.Name, rule.Parameters, inputs, expected, rule.Rule.Selects);
    }

    [Fact]
    public void Aggregate_FilesAndDirectoryMixed_IndexesArgumentsInOrderThenDirectoryByName()
    {
        var updates = UpdateFiles.Mixed(seed: 102, 9, D);
        var first = UpdateFiles.WriteFiles(_temp.Directory("single"), updates[..2]);
        var rest = UpdateFiles.WriteDirectory(_temp.Directory("more"), updates[2..]);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", "--rule", "krum", "--f", "1", "--out", output, first[0], _temp.File("more"), first[1]]);

        // Index order: the first file, the directory's files by ordinal name, then the last file.
        float[][] ordered = [updates[0], .. updates[2..], updates[1]];
        string[] inputs = [first[0], .. rest, first[1]];
        ReportAssert.Matches(run, output, "krum", [("f", "1")], inputs, NaiveAggregation.Aggregate(ordered, new KrumRule(1)), selects: true);
    }

    [Fact]
    public void Aggregate_CenteredClippingWithCenterFile_MatchesReferenceStartingThere()
    {
        var updates = UpdateFiles.Mixed(seed: 103, N, D);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var center = UpdateGenerator.Honest(seed: 104, 1, D)[0];
        var centerPath = _temp.File("center.npy");
        NpyFile.WriteFloat32(centerPath, center);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run([
            "aggregate", "--rule", "centered-clipping", "--tau", "2", "--center", centerPath, "--out", output, .. inputs,
        ]);

        using var centerBuffer = AggregateBuffer.FromArray(center);
        var expected = NaiveAggregation.Aggregate(updates, new CenteredClippingRule(2, 1, centerBuffer));
        ReportAssert.Matches(
            run, output, "centered-clipping", [("tau", "2"), ("iterations", "1"), ("center", "given")], inputs, expected, selects: false);
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("median")]
    [InlineData("krum")]
    public void Aggregate_Float16Inputs_EqualRuleOverExactlyWidenedValues(string ruleCase)
    {
        var halves = UpdateFiles.FitFloat16(seed: 105, 7, D)
            .Select(update => update.Select(v => (Half)v).ToArray())
            .ToArray();

        // Edge values of float16: smallest and largest subnormal, largest finite, signed zero.
        Half[] edges = [Half.Epsilon, BitConverter.UInt16BitsToHalf(0x03FF), Half.MaxValue, Half.MinValue, Half.NegativeZero, -Half.Epsilon];
        for (var i = 0; i < halves.Length; i++)
        {
            for (var e = 0; e < edges.Length; e++)
            {
                halves[i][e] = edges[(e + i) % edges.Length];
            }
        }

        var inputs = new string[halves.Length];
        for (var i = 0; i < halves.Length; i++)
        {
            inputs[i] = _temp.File($"h{i}.npy");
            NpyFile.WriteFloat16(inputs[i], halves[i]);
        }

        var rule = ruleCase == "krum" ? new RuleCase(["--rule", "krum", "--f", "2"], new KrumRule(2), [("f", "2")]) : Rule(ruleCase);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", .. rule.Arguments, "--out", output, .. inputs]);

        // float16 → float32 is exact, so the expected output is the rule over the widened values.
        var widened = halves.Select(h => h.Select(v => (float)v).ToArray()).ToArray();
        var expected = NaiveAggregation.Aggregate(widened, rule.Rule);
        Assert.Empty(expected.Excluded);
        ReportAssert.Matches(run, output, rule.Rule.Name, rule.Parameters, inputs, expected, rule.Rule.Selects);
    }

    [Fact]
    public void Aggregate_Float16AndFloat32InputsMixed_EqualsMeanOverWidenedValues()
    {
        var updates = UpdateFiles.FitFloat16(seed: 106, 6, D);
        var inputs = new string[updates.Length];
        var widened = new float[updates.Length][];
        for (var i = 0; i < updates.Length; i++)
        {
            inputs[i] = _temp.File($"m{i}.npy");
            if (i % 2 == 0)
            {
                var half = updates[i].Select(v => (Half)v).ToArray();
                NpyFile.WriteFloat16(inputs[i], half);
                widened[i] = [.. half.Select(v => (float)v)];
            }
            else
            {
                NpyFile.WriteFloat32(inputs[i], updates[i]);
                widened[i] = updates[i];
            }
        }

        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", "--rule", "mean", "--out", output, .. inputs]);

        var expected = NaiveAggregation.Aggregate(widened, new MeanRule());
        Assert.Empty(expected.Excluded);
        ReportAssert.Matches(run, output, "mean", [], inputs, expected, selects: false);
    }

    [Theory]
    [InlineData("median")]
    [InlineData("krum")]
    [InlineData("bulyan-small")]
    public void Aggregate_InputsWithNaNAndInf_ExcludedNamingFileAndFirstBadIndex(string ruleCase)
    {
        var updates = UpdateFiles.Mixed(seed: 107, N + 1, D);
        updates[3][1234] = float.NaN;
        updates[3][3000] = float.NaN;
        updates[8][D - 1] = float.NegativeInfinity;
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var rule = ruleCase == "bulyan-small" ? new RuleCase(["--rule", "bulyan", "--f", "1"], new BulyanRule(1), [("f", "1")]) : Rule(ruleCase);
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", .. rule.Arguments, "--out", output, .. inputs]);

        var expected = NaiveAggregation.Aggregate(updates, rule.Rule);
        Assert.Equal([(3, "non-finite value at index 1234"), (8, $"non-finite value at index {D - 1}")], expected.Excluded);
        ReportAssert.Matches(run, output, rule.Rule.Name, rule.Parameters, inputs, expected, rule.Rule.Selects);
        var excluded = run.SuccessReport().GetProperty("excluded");
        Assert.Equal(inputs[3], excluded[0].GetProperty("input").GetString());
        Assert.Equal("non-finite value at index 1234", excluded[0].GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("clip-norm")]
    [InlineData("nnm")]
    [InlineData("bucketing")]
    [InlineData("bucketing-krum")]
    [InlineData("all-three")]
    public void Aggregate_PreSteps_MatchReferenceWithTheSameSteps(string stepCase)
    {
        var updates = UpdateFiles.Mixed(seed: 108, N, D);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        (string[] Arguments, RuleCase Rule, PreAggregationStep[] Steps, (string, (string, string)[])[] Json) c = stepCase switch
        {
            "clip-norm" => (["--clip-norm", "20"], Rule("mean"), [new ClipNormStep(20)], [("clip-norm", [("c", "20")])]),
            "nnm" => (["--nnm", "2"], Rule("krum"), [new NearestNeighbourMixingStep(2)], [("nearest-neighbour-mixing", [("f", "2")])]),
            "bucketing" => (
                ["--bucketing", "2", "--seed", "5"], Rule("median"), [new BucketingStep(2, 5)], [("bucketing", [("s", "2"), ("seed", "5")])]),
            "bucketing-krum" => (
                ["--bucketing", "2", "--seed", "77"],
                new RuleCase(["--rule", "krum", "--f", "1"], new KrumRule(1), [("f", "1")]),
                [new BucketingStep(2, 77)],
                [("bucketing", [("s", "2"), ("seed", "77")])]),

            // Given in another order on the command line; applied clip-norm → mixing → bucketing.
            "all-three" => (
                ["--bucketing", "3", "--seed", "9", "--nnm", "1", "--clip-norm", "50"],
                new RuleCase(["--rule", "trimmed-mean", "--beta", "0.25"], new TrimmedMeanRule(0.25), [("beta", "0.25")]),
                [new ClipNormStep(50), new NearestNeighbourMixingStep(1), new BucketingStep(3, 9)],
                [("clip-norm", [("c", "50")]), ("nearest-neighbour-mixing", [("f", "1")]), ("bucketing", [("s", "3"), ("seed", "9")])]),
            _ => throw new ArgumentOutOfRangeException(nameof(stepCase)),
        };
        var output = _temp.File("result.npy");

        var run = FedaggProcess.Run(["aggregate", .. c.Rule.Arguments, .. c.Arguments, "--out", output, .. inputs]);

        var expected = NaiveAggregation.Aggregate(updates, c.Rule.Rule, c.Steps);
        ReportAssert.Matches(run, output, c.Rule.Rule.Name, c.Rule.Parameters, inputs, expected, c.Rule.Rule.Selects, c.Json);
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("trimmed-mean")]
    [InlineData("multi-krum")]
    [InlineData("bulyan")]
    [InlineData("geometric-median")]
    public void Aggregate_ThreadsAndBlockSizes_GiveIdenticalOutputSha256(string ruleCase)
    {
        const int d = 20_000;
        var updates = UpdateFiles.Mixed(seed: 109, N, d);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var rule = Rule(ruleCase);
        var expectedHash = NpyOutput.Sha256Of(NaiveAggregation.Aggregate(updates, rule.Rule).Output);
        string[][] variants = [["--threads", "1"], ["--threads", "4"], ["--block", "1024"], ["--threads", "3", "--block", "2048"]];

        foreach (var variant in variants)
        {
            var output = _temp.File($"result{string.Concat(variant)}.npy");
            var run = FedaggProcess.Run(["aggregate", .. rule.Arguments, .. variant, "--out", output, .. inputs]);

            var report = run.SuccessReport();
            Assert.True(expectedHash == report.GetProperty("outputSha256").GetString(), $"{string.Join(' ', variant)} changed the output\n{run.Describe()}");
            Assert.Equal(expectedHash, NpyOutput.Read(output).Sha256);
            if (variant[0] == "--threads")
            {
                Assert.Equal(int.Parse(variant[1], System.Globalization.CultureInfo.InvariantCulture), report.GetProperty("threads").GetInt32());
            }
        }
    }

    [Fact]
    public void Aggregate_ExistingOutputAndSuccess_ReplacesItAndLeavesNoTemporaryFile()
    {
        var updates = UpdateFiles.Mixed(seed: 110, N, D);
        var inputs = UpdateFiles.WriteFiles(_temp.Directory("updates"), updates);
        var outDirectory = _temp.Directory("out");
        var output = Path.Combine(outDirectory, "result.npy");
        NpyFile.WriteFloat32(output, [1f, 2f, 3f]);

        var run = FedaggProcess.Run(["aggregate", "--rule", "median", "--out", output, .. inputs]);

        ReportAssert.Matches(run, output, "median", [], inputs, NaiveAggregation.Aggregate(updates, new MedianRule()), selects: false);
        Assert.Equal([output], Directory.GetFileSystemEntries(outDirectory));
    }
}
