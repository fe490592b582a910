using FedAgg.LoadTests.Reports;
using FedAgg.TestKit.Chain;

namespace FedAgg.LoadTests.Tests.Smoke;

/// <summary>The smoke runs share the machine with a server child process each: they run alone, one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SmokeCollection
{
    public const string Name = "LoadSmoke";
}

/// <summary>
/// A few seconds of every scenario through <see cref="LoadProgram"/>, each against its own <c>fedagg server --dev</c>
/// child process (small model, few peers): the run must end with exit code 0 (every check passed, no step failed) and
/// the report must show the work was done.
/// </summary>
[Collection(SmokeCollection.Name)]
[Trait("Category", "LoadSmoke")]
public sealed class SmokeTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);
    private readonly string _reports = Path.Combine(Path.GetTempPath(), "fedagg-load-smoke-" + Guid.NewGuid().ToString("N"));

    public SmokeTests()
    {
        // The server child process runs from the test's folder, outside the repository's node_modules.
        Environment.SetEnvironmentVariable("FEDAGG_ANVIL", Foundry.AnvilPath);
    }

    [Fact]
    public async Task Submit_FewSeconds_EveryReceiptedUpdateIsInItsManifest()
    {
        var report = await RunAsync("submit", "--peers", "8", "--size", "16KiB", "--load", "inject:20/s", "--duration", "3s", "--warmup", "1s");

        var submit = report.Result.Scenario("submit").Step("submit");
        Assert.Equal(60, submit.Ok);
        Assert.Equal(0, submit.Failed);
        var manifest = report.Checks.Single(static c => c.Name.StartsWith("every receipted update", StringComparison.Ordinal));
        Assert.True(manifest.Passed, manifest.Detail);

        // 20 warm-up and 60 measured updates from 8 peers: 10 rounds closed and checked.
        Assert.StartsWith("80/80 found over 10 rounds", manifest.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelDownload_FewSeconds_DownloadsTheModelWithoutErrors()
    {
        var report = await RunAsync("model-download", "--peers", "4", "--size", "64KiB", "--load", "keep:4", "--duration", "2s", "--warmup", "0s");

        var download = report.Result.Scenario("model-download").Step("download");
        Assert.True(download.Ok > 0);
        Assert.Equal(download.Ok * 65536, download.BytesReceived);
    }

    [Fact]
    public async Task HandshakeStorm_FewSeconds_EveryConnectionHandshakesIdentifiesAndCloses()
    {
        var report = await RunAsync("handshake-storm", "--load", "inject:50/s", "--duration", "2s", "--warmup", "0s");

        var scenario = report.Result.Scenario("handshake-storm");
        Assert.All(scenario.Steps, static s => Assert.Equal(100, s.Ok));
    }

    [Fact]
    public async Task HostileMix_FewSeconds_ServerDefendsItselfAndHonestUpdatesAllLand()
    {
        var report = await RunAsync("hostile-mix", "--peers", "8", "--size", "16KiB", "--load", "inject:20/s", "--duration", "2s", "--warmup", "0s", "--hostile", "1");

        Assert.Equal(40, report.Result.Scenario("submit-clean").Step("submit").Ok);
        Assert.Equal(40, report.Result.Scenario("submit-hostile").Step("submit").Ok);
        foreach (var hostile in new[] { "hostile-garbage", "hostile-stall", "hostile-noread", "hostile-oversized", "hostile-badsig" })
        {
            Assert.True(report.Result.Scenario(hostile).Steps[0].Ok > 0, $"{hostile} never ran");
        }

        Assert.All(report.Checks, static c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task Rounds_FiveRoundsOnTheChain_EachPublishedAnchoredAndComplete()
    {
        var report = await RunAsync("rounds", "--rounds", "5", "--peers", "3", "--size", "4KiB", "--chain", "auto", "--heap-every", "5");

        Assert.Equal(15, report.Result.Scenario("rounds").Step("submit").Ok);
        Assert.Contains(report.Checks, static c => c.Name == "every round anchored" && c.Passed && c.Detail.StartsWith("5/5", StringComparison.Ordinal));
        Assert.Contains(report.Tables, static t => t.Title == "Server resources, second quarter of the run vs last quarter");

        // server.status with a forced collection before round 1, after round 5 (--heap-every 5) and at the end.
        Assert.Equal([0L, 5, 5], report.HeapSamples.Select(static h => h.Round));
        Assert.All(report.HeapSamples, static h => Assert.True(h.RetainedBytes > 0 && h.RetainedSmallObjectBytes > 0 && h.WorkingSetBytes > h.RetainedBytes, h.ToString()));
        Assert.True(report.HeapSamples[^1].Gen2Collections > report.HeapSamples[0].Gen2Collections);
        Assert.Contains(report.Notes, static n => n.StartsWith("Retained heap: too few samples past the 50-round warm-up", StringComparison.Ordinal));
        var csv = await File.ReadAllLinesAsync(Path.Combine(Directory.GetDirectories(_reports).Single(), "resources.csv"));
        Assert.Equal(3, csv.Count(static l => l.Contains(",server-heap,", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Submit_WithTheCoordinatorKey_SamplesTheServerHeapAtTheStartAndTheEnd()
    {
        var report = await RunAsync("submit", "--peers", "2", "--size", "4KiB", "--load", "inject:10/s", "--duration", "1s", "--warmup", "0s", "--heap-interval", "0");

        Assert.Equal(2, report.HeapSamples.Count);
        Assert.All(report.HeapSamples, static h => Assert.True(h.RetainedBytes > 0, h.ToString()));
    }

    public void Dispose()
    {
        if (Directory.Exists(_reports))
        {
            Directory.Delete(_reports, recursive: true);
        }
    }

    private async Task<LoadReport> RunAsync(string scenario, params string[] arguments)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        using var timeout = new CancellationTokenSource(RunTimeout);
        string[] args = [scenario, "--dev", "--quiet", "--report-dir", _reports, .. arguments];
        var outcome = await LoadProgram.RunAsync(args, output, errors, timeout.Token);

        Assert.True(outcome.ExitCode == 0, $"fedagg-load {string.Join(' ', args)} exited with {outcome.ExitCode}\nstdout:\n{output}\nstderr:\n{errors}");
        Assert.NotNull(outcome.Report);
        Assert.NotNull(outcome.ReportDirectory);
        foreach (var name in LoadReport.FileNames)
        {
            Assert.True(File.Exists(Path.Combine(outcome.ReportDirectory, name)), $"{name} missing from {outcome.ReportDirectory}");
        }

        Assert.Contains(outcome.Report.Checks, static c => c.Name.StartsWith("server still running", StringComparison.Ordinal) && c.Passed);
        return outcome.Report;
    }
}
