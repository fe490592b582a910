using FedAgg.LoadTests.Hosting;
using FedAgg.LoadTests.Reports;
using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Tests.Reports;

public sealed class LoadReportTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fedagg-load-report-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task WriteAsync_ShortRun_WritesEveryFileAndTheCsvParsesBackToTheSummaries()
    {
        var scenario = new Scenario("r",
            new Step("a", static _ => ValueTask.FromResult(StepResult.Ok(100, 1000))),
            new Step("b", static context => ValueTask.FromResult(context.InvocationNumber % 5 == 0 ? StepResult.Fail("status:Busy") : StepResult.Ok(1, 2))))
        {
            LoadSimulations = [LoadSimulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500))],
        };
        var result = await new ScenarioRunner(new ScenarioRunnerOptions { ReportInterval = TimeSpan.FromMilliseconds(100) }).RunAsync([scenario]);
        var report = new LoadReport("fedagg-load test", result)
        {
            Samples =
            [
                new ResourceSample(TimeSpan.Zero, "server", 0, 0, 1_000_000, 10, 20),
                new ResourceSample(TimeSpan.FromSeconds(1), "server", 0.5, 0.5, 2_000_000, 12, 25),
            ],
        };
        report.HeapSamples =
        [
            new HeapSample(TimeSpan.FromSeconds(0.5), 0, 100, 200, 3_000_000, 1, 1, 1, 5_000, 90_000_000, 20, 1_000_000),
            new HeapSample(TimeSpan.FromSeconds(1.5), 10, 150, 250, null, 2, 1, 1, 9_000, 91_000_000, 21),
        ];
        report.Settings.Add(new("peers", "3"));
        report.Checks.Add(new ReportCheck("manifest", true, "50/50"));
        report.Tables.Add(new ReportTable("Extra", ["x", "y"], [["1", "2"]]));

        await report.WriteAsync(_directory);

        foreach (var name in LoadReport.FileNames)
        {
            Assert.True(new FileInfo(Path.Combine(_directory, name)).Length > 0, $"{name} is missing or empty");
        }

        var steps = Csv(Path.Combine(_directory, "steps.csv"));
        Assert.Equal(LoadReport.StepHeaders, steps[0]);
        Assert.Equal(3, steps.Count);
        var a = steps.Single(static r => r[1] == "a");
        var b = steps.Single(static r => r[1] == "b");
        Assert.Equal(["50", "0"], a[2..4]);
        Assert.Equal(["40", "10"], b[2..4]);
        // Written with two decimals ("0.00" rounds half away from zero): within half a hundredth, whatever the rounding mode.
        Assert.Equal(result.Scenario("r").Step("a").PercentileMs(99), double.Parse(a[8], System.Globalization.CultureInfo.InvariantCulture), 0.005 + 1e-9);
        Assert.Equal("0.01", a[11]); // 50 × 100 bytes = 0.005 MB, shown with two decimals

        var intervals = Csv(Path.Combine(_directory, "intervals.csv"));
        Assert.Equal(50, intervals.Skip(1).Where(static r => r[1] == "a").Sum(static r => long.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)));
        var resources = Csv(Path.Combine(_directory, "resources.csv"));
        Assert.Equal(LoadReport.ResourceHeaders, resources[0]);
        Assert.Equal(5, resources.Count); // two /proc samples and two heap samples, in time order
        Assert.Equal(["0.00 server", "0.50 server-heap", "1.00 server", "1.50 server-heap"], resources.Skip(1).Select(static r => $"{r[0]} {r[1]}"));
        var heapRows = resources.Where(static r => r[1] == "server-heap").ToList();
        Assert.Equal(["0.50", "server-heap", "", "", "90000000", "20", "", "0", "100", "3000000", "1", "1", "1", "5000", "1000000"], heapRows[0]);
        Assert.Equal("", heapRows[1][9]); // no forced collection: no retained figure
        Assert.Equal("10", heapRows[1][7]);

        var markdown = await File.ReadAllTextAsync(Path.Combine(_directory, "report.md"));
        Assert.Contains("| r        | b    |", markdown, StringComparison.Ordinal);
        Assert.Contains("status:Busy", markdown, StringComparison.Ordinal);
        Assert.Contains("## Extra", markdown, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(_directory, "report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.OrdinalIgnoreCase);
        Assert.True(html.Split("<svg").Length - 1 >= 7, "expected the over-time, percentile, resource and managed-heap charts");
        Assert.Contains("Server managed heap", html, StringComparison.Ordinal);
        Assert.Contains("## Server managed heap (server.status)", markdown, StringComparison.Ordinal);
        Assert.True(report.Passed("status:Busy"));
        Assert.False(report.Passed());
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static List<string[]> Csv(string path) =>
        [.. File.ReadAllLines(path).Where(static l => l.Length > 0).Select(static l => l.Split(','))];
}
