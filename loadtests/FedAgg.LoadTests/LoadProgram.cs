using System.Globalization;
using FedAgg.Libp2p;
using FedAgg.LoadTests.Hosting;
using FedAgg.LoadTests.Reports;
using FedAgg.LoadTests.Runner;
using FedAgg.LoadTests.Scenarios;

namespace FedAgg.LoadTests;

/// <summary>What one <c>fedagg-load</c> run produced.</summary>
/// <param name="ExitCode">0: ran and every check passed; 1: a check failed or a step failed unexpectedly; 2: bad arguments or no server.</param>
/// <param name="ReportDirectory">The report folder (null when nothing ran).</param>
/// <param name="Report">The report (null when nothing ran).</param>
public sealed record LoadOutcome(int ExitCode, string? ReportDirectory, LoadReport? Report);

/// <summary>
/// <c>fedagg-load</c>: parses the command line, starts a dev server as a child process (or uses <c>--target</c>), runs the
/// scenario, samples the runner's and the server's CPU, memory, threads and handles every second, and writes the report
/// under <c>&lt;report-dir&gt;/&lt;UTC timestamp&gt;-&lt;scenario&gt;/</c>.
/// </summary>
public static class LoadProgram
{
    /// <summary>
    /// The environment the rounds scenario gives its dev server unless the runner's environment sets these names: idle
    /// grain activations collected after 1 s (checked every 250 ms) instead of 15 min. Short rounds run at 10–20 per
    /// second here, so with the default age every round's grain would still be in memory at the end of a run, and with
    /// 5 s the number waiting for the collector would still be climbing after 100 rounds: either would read as growth
    /// per round. With 1 s about 20–40 idle activations wait at any time, from the warm-up on.
    /// </summary>
    public static IReadOnlyList<(string Name, string Value)> LeakHuntEnvironment { get; } =
    [
        ("FedAgg__Grains__Collection__CollectionAge", "00:00:01"),
        ("FedAgg__Grains__Collection__CollectionQuantum", "00:00:00.250"),
    ];

    /// <summary>Runs <paramref name="args"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Live lines and the summary.</param>
    /// <param name="errors">Errors.</param>
    /// <param name="cancellationToken">Stops the run early (a report is still written).</param>
    /// <returns>The outcome.</returns>
    public static async Task<LoadOutcome> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter errors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        LoadCommandLine line;
        try
        {
            line = LoadCommandLine.Parse(args);
        }
        catch (FormatException e)
        {
            await errors.WriteLineAsync($"fedagg-load: {e.Message}\n{LoadCommandLine.Usage}").ConfigureAwait(false);
            return new LoadOutcome(2, null, null);
        }

        var loadBefore = ProcessSampler.LoadAverage();
        DevServer? server = null;
        try
        {
            if (line.Dev)
            {
                await output.WriteLineAsync($"starting fedagg server --dev ({line.SizeBytes / 4} elements, chain {(line.Chain ? "auto" : "none")})...").ConfigureAwait(false);
                var options = new DevServerOptions
                {
                    Elements = checked((int)(line.SizeBytes / 4)),
                    Rule = line.Rule,
                    Chain = line.Chain,
                    DataDirectory = line.ServerData,
                };
                if (line.Scenario == "rounds")
                {
                    foreach (var (name, value) in LeakHuntEnvironment)
                    {
                        if (Environment.GetEnvironmentVariable(name) is null)
                        {
                            options.Environment[name] = value;
                        }
                    }
                }

                server = await DevServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"server {server.Address} (pid {server.Pid})").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
        {
            await errors.WriteLineAsync($"fedagg-load: {e.Message}").ConfigureAwait(false);
            return new LoadOutcome(2, null, null);
        }

        try
        {
            var address = server?.Address ?? line.Target!;
            var coordinatorKey = server?.CoordinatorKeyFile ?? line.CoordinatorKey;
            var sampler = new ProcessSampler();
            sampler.Track("runner", Environment.ProcessId);
            if (server is not null)
            {
                sampler.Track("server", server.Pid);
            }

            var runner = new ScenarioRunner(new ScenarioRunnerOptions
            {
                Live = line.Quiet ? null : output,
                Errors = errors,
                OnInterval = sampler.Sample,
            });
            sampler.Sample(TimeSpan.Zero);
            await using var heap = coordinatorKey is null ? null : new ServerHeapMonitor(address, coordinatorKey);
            var heapStarted = heap is not null && await StartHeapAsync(heap, errors, cancellationToken).ConfigureAwait(false);
            using var periodic = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var heapLoop = Task.CompletedTask;
            if (heapStarted && line.Scenario != "rounds")
            {
                await heap!.SampleAsync(0, collect: true, cancellationToken).ConfigureAwait(false);
                if (line.HeapInterval > TimeSpan.Zero)
                {
                    heapLoop = heap.RunPeriodicAsync(line.HeapInterval, collect: false, static () => 0, periodic.Token);
                }
            }

            LoadReport report;
            try
            {
                report = line.Scenario switch
                {
                    "submit" => await SubmitAsync(line, runner, address, coordinatorKey, cancellationToken).ConfigureAwait(false),
                    "model-download" => await ModelDownloadAsync(line, runner, address, cancellationToken).ConfigureAwait(false),
                    "handshake-storm" => await HandshakeStormAsync(line, runner, address, cancellationToken).ConfigureAwait(false),
                    "hostile-mix" => await HostileMixAsync(line, runner, address, coordinatorKey, server, cancellationToken).ConfigureAwait(false),
                    _ => await RoundsAsync(line, runner, address, coordinatorKey, sampler, heapStarted ? heap : null, server?.DataDirectory, cancellationToken).ConfigureAwait(false),
                };
            }
            finally
            {
                await periodic.CancelAsync().ConfigureAwait(false);
                await heapLoop.ConfigureAwait(false);
            }

            if (heapStarted && line.Scenario != "rounds")
            {
                await heap!.SampleAsync(0, collect: true, CancellationToken.None).ConfigureAwait(false);
            }

            if (heap is not null)
            {
                report.HeapSamples = heap.Samples;
                if (heap.Failures > 0)
                {
                    report.Notes.Add($"server.status failed {heap.Failures} times (last: {heap.LastError}); the heap figures miss those samples.");
                }
            }

            report.Samples = sampler.Samples;
            report.Settings.Insert(0, new("command", "fedagg-load " + string.Join(' ', line.Arguments)));
            report.Settings.Add(new("server", server is null ? $"{address} (given)" : $"{address} (child pid {server.Pid}, --dev, chain {(line.Chain ? "auto" : "none")}, rule {line.Rule})"));
            report.Settings.Add(new("machine", $"{Environment.ProcessorCount} cores, load average before {loadBefore ?? "n/a"}, after {ProcessSampler.LoadAverage() ?? "n/a"}"));
            report.Settings.Add(new("started", report.Result.StartedAt.ToString("O", CultureInfo.InvariantCulture)));
            if (server is not null)
            {
                report.Checks.Add(new ReportCheck("server still running, listener never restarted", !server.HasExited && server.ListeningLines == 1,
                    $"exited: {server.HasExited}, LISTENING lines: {server.ListeningLines}, stderr log lines: {server.ErrorLineCount}"));
                report.Notes.Add("The server logs every submission at Information to stderr (drained by the runner); that cost is part of the server's CPU.");
            }

            var directory = Path.Combine(line.ReportDirectory ?? DefaultReportRoot(),
                $"{report.Result.StartedAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{line.Scenario}");
            await report.WriteAsync(directory, CancellationToken.None).ConfigureAwait(false);
            var passed = report.Passed();
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteLineAsync(report.RenderMarkdown()).ConfigureAwait(false);
            await output.WriteLineAsync($"report: {directory} ({(passed ? "all checks passed" : "CHECKS FAILED")})").ConfigureAwait(false);
            if (!passed && server is not null)
            {
                await errors.WriteLineAsync("last server log lines:\n" + string.Join('\n', server.ErrorTail().TakeLast(20))).ConfigureAwait(false);
            }

            return new LoadOutcome(passed ? 0 : 1, directory, report);
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary><c>loadtests/reports</c> of the repository holding the working directory, else <c>./loadtests-reports</c>.</summary>
    /// <returns>The folder.</returns>
    public static string DefaultReportRoot()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FedAgg.sln")))
            {
                return Path.Combine(directory.FullName, "loadtests", "reports");
            }
        }

        return Path.Combine(Environment.CurrentDirectory, "loadtests-reports");
    }

    private static Scenario Build(LoadCommandLine line, string name, Step[] steps, LoadSimulation? load = null, bool warmUp = true, long? maxIterations = null) =>
        new(name, steps)
        {
            LoadSimulations = [load ?? line.Load],
            WarmUp = warmUp ? line.WarmUp : TimeSpan.Zero,
            MaxInFlight = line.MaxInFlight,
            GracePeriod = line.Grace,
            MaxIterations = maxIterations,
        };

    private static async Task<LoadReport> SubmitAsync(LoadCommandLine line, ScenarioRunner runner, Multiaddress address, string? coordinatorKey, CancellationToken cancellationToken)
    {
        var workload = new SubmitWorkload(address, line.Peers, coordinatorKey);
        await using (workload.ConfigureAwait(false))
        {
            await workload.InitAsync(cancellationToken).ConfigureAwait(false);
            var result = await runner.RunAsync([Build(line, "submit", workload.Steps(), maxIterations: workload.RollsRounds ? null : line.Peers)], cancellationToken).ConfigureAwait(false);
            var check = await workload.FinishAsync(cancellationToken).ConfigureAwait(false);
            var report = new LoadReport("fedagg-load submit", result);
            AddWorkloadSettings(report, line, workload);
            AddManifestCheck(report, check, workload);
            var submit = result.Scenario("submit").Step("submit");
            AddTargets(report,
                ("ingest ≥ 300 MB/s (100 peers, 1 MiB)", $"{submit.SentMegabytesPerSecond:0.0} MB/s, {submit.OkPerSecond:0.0} updates/s", submit.SentMegabytesPerSecond >= 300),
                ("submit p99 ≤ 250 ms at 50 updates/s", $"p99 {submit.PercentileMs(99):0.0} ms at {line.LoadText}", submit.PercentileMs(99) <= 250),
                ("no receipted update missing", $"{check.Found}/{check.Receipted}", check.Passed));
            return report;
        }
    }

    private static async Task<LoadReport> ModelDownloadAsync(LoadCommandLine line, ScenarioRunner runner, Multiaddress address, CancellationToken cancellationToken)
    {
        var workload = new ModelDownloadWorkload(address, line.Peers);
        await using (workload.ConfigureAwait(false))
        {
            await workload.InitAsync(cancellationToken).ConfigureAwait(false);
            var result = await runner.RunAsync([Build(line, "model-download", workload.Steps())], cancellationToken).ConfigureAwait(false);
            var report = new LoadReport("fedagg-load model-download", result);
            report.Settings.Add(new("peers", line.Peers.ToString(CultureInfo.InvariantCulture)));
            report.Settings.Add(new("load", result.Scenarios[0].Load));
            return report;
        }
    }

    private static async Task<LoadReport> HandshakeStormAsync(LoadCommandLine line, ScenarioRunner runner, Multiaddress address, CancellationToken cancellationToken)
    {
        await using var workload = new HandshakeStormWorkload(address);
        var result = await runner.RunAsync([Build(line, "handshake-storm", workload.Steps())], cancellationToken).ConfigureAwait(false);
        var report = new LoadReport("fedagg-load handshake-storm", result);
        report.Settings.Add(new("load", result.Scenarios[0].Load));
        report.Settings.Add(new("peers", $"{workload.PeersCreated} distinct identities, each reused only after its connection closed"));
        var close = result.Scenario("handshake-storm").Step("close");
        var failed = result.Scenarios[0].Steps.Sum(static s => s.Failed);
        AddTargets(report, ("≥ 500 handshakes/s with no errors", $"{close.OkPerSecond:0.0}/s completed, {failed} failed", close.OkPerSecond >= 500 && failed == 0));
        return report;
    }

    private static async Task<LoadReport> HostileMixAsync(
        LoadCommandLine line, ScenarioRunner runner, Multiaddress address, string? coordinatorKey, DevServer? server, CancellationToken cancellationToken)
    {
        var workload = new SubmitWorkload(address, line.Peers, coordinatorKey);
        await using (workload.ConfigureAwait(false))
        {
            await workload.InitAsync(cancellationToken).ConfigureAwait(false);
            var maxIterations = workload.RollsRounds ? (long?)null : line.Peers / 2;
            var clean = await runner.RunAsync([Build(line, "submit-clean", workload.Steps(), maxIterations: maxIterations)], cancellationToken).ConfigureAwait(false);
            var hostile = new HostileWorkload(address, workload);
            var scenarios = new List<Scenario> { Build(line, "submit-hostile", workload.Steps(), warmUp: false, maxIterations: maxIterations) };
            var hostileLoad = line.HostileRate > 0
                ? LoadSimulation.Inject(line.HostileRate, TimeSpan.FromSeconds(1), line.Duration)
                : LoadSimulation.KeepConstant(line.Hostile, line.Duration);
            scenarios.AddRange(hostile.Scenarios().Select(h => Build(line, h.Name, h.Steps, hostileLoad, warmUp: false)));
            var mixed = await runner.RunAsync(scenarios, cancellationToken).ConfigureAwait(false);
            var check = await workload.FinishAsync(cancellationToken).ConfigureAwait(false);

            // A model fetch after the storm shows the server still serves.
            var alive = false;
            if (workload.Clients.Count > 0)
            {
                var model = await workload.Clients[0].FetchModelAsync("demo", cancellationToken: cancellationToken).ConfigureAwait(false);
                alive = model.Response.Status == Core.Protocol.ModelStatus.Ok;
            }

            var result = new RunResult(clean.StartedAt, clean.Elapsed + mixed.Elapsed, [.. clean.Scenarios, .. mixed.Scenarios]);
            var report = new LoadReport("fedagg-load hostile-mix", result);
            AddWorkloadSettings(report, line, workload);
            report.Settings.Add(line.HostileRate > 0
                ? new("hostile load per kind", $"inject {line.HostileRate}/s")
                : new("hostile load per kind", $"{line.Hostile} closed-loop copies"));
            AddManifestCheck(report, check, workload);
            report.Checks.Add(new ReportCheck("server serves the model after the hostile phase", alive, alive ? "model fetched" : "fetch failed"));
            var cleanSubmit = clean.Scenario("submit-clean").Step("submit");
            var hostileSubmit = mixed.Scenario("submit-hostile").Step("submit");
            var ratio = cleanSubmit.PercentileMs(99) > 0 ? hostileSubmit.PercentileMs(99) / cleanSubmit.PercentileMs(99) : double.NaN;
            report.Tables.Add(new ReportTable("Honest submit latency, clean vs under hostile traffic", ["phase", "ok", "failed", "ok/s", "p50 ms", "p99 ms", "max ms"],
            [
                .. new[] { ("clean", cleanSubmit), ("hostile", hostileSubmit) }.Select(static p => (IReadOnlyList<string>)
                [
                    p.Item1, LoadReport.Int(p.Item2.Ok), LoadReport.Int(p.Item2.Failed), LoadReport.Num(p.Item2.OkPerSecond, "0.0"),
                    LoadReport.Num(p.Item2.PercentileMs(50)), LoadReport.Num(p.Item2.PercentileMs(99)), LoadReport.Num(p.Item2.Latency.Max / 1000.0),
                ]),
            ]));
            AddTargets(report,
                ("honest p99 within 2× of the clean run", $"{hostileSubmit.PercentileMs(99):0.0} ms vs {cleanSubmit.PercentileMs(99):0.0} ms (×{ratio:0.00})", ratio <= 2),
                ("server never crashes or restarts", server is null ? "not observed (--target)" : $"exited {server.HasExited}, LISTENING lines {server.ListeningLines}",
                    server is null || (!server.HasExited && server.ListeningLines == 1)));
            return report;
        }
    }

    private static async Task<bool> StartHeapAsync(ServerHeapMonitor heap, TextWriter errors, CancellationToken cancellationToken)
    {
        try
        {
            await heap.StartAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is Libp2pException or IOException or Core.Identity.KeyFileException or Client.FedAggProtocolException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await errors.WriteLineAsync($"fedagg-load: no server.status samples (the coordinator could not connect: {e.Message.Split('\n')[0]})").ConfigureAwait(false);
            return false;
        }
    }

    private static async Task<LoadReport> RoundsAsync(
        LoadCommandLine line, ScenarioRunner runner, Multiaddress address, string? coordinatorKey, ProcessSampler sampler, ServerHeapMonitor? heap, string? dataDirectory,
        CancellationToken cancellationToken)
    {
        if (coordinatorKey is null)
        {
            throw new InvalidOperationException("the rounds scenario closes rounds: use --dev or --coordinator-key");
        }

        var workload = new SubmitWorkload(address, line.Peers, coordinatorKey);
        await using (workload.ConfigureAwait(false))
        {
            await workload.InitAsync(cancellationToken).ConfigureAwait(false);
            var firstRound = (long)workload.BaseModel.OpenRound;
            if (heap is not null)
            {
                await heap.SampleAsync(firstRound - 1, collect: true, cancellationToken).ConfigureAwait(false);
                if (line.HeapEvery > 0)
                {
                    workload.BetweenRounds = (round, token) => (long)round % line.HeapEvery == 0
                        ? heap.SampleAsync((long)round, collect: true, token)
                        : Task.CompletedTask;
                }
            }

            var result = await runner.RunAsync([Build(line, "rounds", workload.Steps(), maxIterations: (long)line.Rounds * line.Peers)], cancellationToken).ConfigureAwait(false);
            var check = await workload.FinishAsync(cancellationToken).ConfigureAwait(false);
            if (heap is not null)
            {
                await heap.SampleAsync(workload.Rounds.Count == 0 ? firstRound - 1 : (long)workload.Rounds.Max(static r => r.Round), collect: true, cancellationToken).ConfigureAwait(false);
            }

            var report = new LoadReport("fedagg-load rounds", result);
            AddWorkloadSettings(report, line, workload);
            AddManifestCheck(report, check, workload);
            var rounds = workload.Rounds;
            var anchored = rounds.Count(static r => r.Anchored);
            if (line.Chain)
            {
                report.Checks.Add(new ReportCheck("every round anchored", anchored == rounds.Count, $"{anchored}/{rounds.Count} manifests name an anchor transaction"));
            }

            var server = sampler.Of("server");
            var (rssGrowth, threadGrowth, handleGrowth) = Growth(server);
            report.Tables.Add(new ReportTable("Server resources, second quarter of the run vs last quarter", ["measure", "change"],
            [
                ["resident memory (median)", double.IsNaN(rssGrowth) ? "n/a" : $"{rssGrowth * 100:+0.0;-0.0} %"],
                ["threads (max)", LoadReport.Num(threadGrowth, "+0;-0")],
                ["open handles (max)", LoadReport.Num(handleGrowth, "+0;-0")],
            ]));
            var flat = !double.IsNaN(rssGrowth) && rssGrowth <= 0.10 && threadGrowth <= 4 && handleGrowth <= 16;
            var heapTarget = AddHeapCheck(report, line, workload, heap, dataDirectory);
            AddTargets(report,
                ($"{line.Rounds} rounds published", $"{rounds.Count}", rounds.Count >= line.Rounds),
                ("flat memory, threads, handles", $"RSS {rssGrowth * 100:+0.0;-0.0} %, threads {threadGrowth:+0;-0}, handles {handleGrowth:+0;-0} (limits +10 %, +4, +16)", flat),
                heapTarget);
            return report;
        }
    }

    /// <summary>
    /// Rounds past the warm-up a run needs before the retained-heap check counts: measured here, the small-object heap
    /// grows 6–7 KB per round for 130–260 rounds and then drops by about 1.2 MB at once, so a shorter window sees only the
    /// climb (about 1 KB per round above design over 150 rounds) and a longer one the whole cycle.
    /// </summary>
    public const int HeapCheckMinRounds = 300;

    /// <summary>The retained managed heap's growth per round beyond what the server keeps per round by design, in bytes, that still counts as flat.</summary>
    public const double RetainedGrowthBoundBytesPerRound = 1024;

    /// <summary>
    /// The rounds check on the retained heap: the small-object heap's growth per round from the warm-up on (least-squares
    /// slope over the samples taken with a forced collection; the large-object heap's pooled buffers, which come and go
    /// by the megabyte, are reported apart), less <see cref="ByDesignRetention.BytesPerRound"/>, must stay under
    /// <see cref="RetainedGrowthBoundBytesPerRound"/>. Added as a check (it sets the exit code) only when the run has at
    /// least <see cref="HeapCheckMinRounds"/> rounds past the warm-up; a note and the target row otherwise.
    /// </summary>
    private static (string Target, string Measured, bool Met) AddHeapCheck(LoadReport report, LoadCommandLine line, SubmitWorkload workload, ServerHeapMonitor? heap, string? dataDirectory)
    {
        const string Target = "flat retained small-object heap (after full GC)";
        if (heap is null)
        {
            return (Target, "not measured (no server.status samples)", false);
        }

        var samples = heap.Samples;
        var growth = HeapGrowth.Compute(samples, line.HeapWarmupRounds);
        if (growth is null)
        {
            report.Notes.Add($"Retained heap: too few samples past the {line.HeapWarmupRounds}-round warm-up to measure growth per round ({samples.Count} samples).");
            return (Target, "too few rounds past the warm-up", false);
        }

        var rounds = workload.Rounds.Where(r => (long)r.Round > growth.BaselineRound && (long)r.Round <= growth.EndRound).ToList();
        var updatesPerRound = rounds.Count == 0 ? line.Peers : rounds.Average(static r => r.Updates);
        var preimage = Core.Updates.UpdatePreimage.FixedLength + System.Text.Encoding.UTF8.GetByteCount(workload.TaskId);
        var byDesign = ByDesignRetention.BytesPerRound(updatesPerRound, preimage, (dataDirectory ?? new string('x', 64)).Length);
        var excess = growth.SlopeBytesPerRound - byDesign;
        var passed = excess < RetainedGrowthBoundBytesPerRound;
        var first = samples.First(static s => s.RetainedBytes is not null);
        var last = samples.Last(static s => s.RetainedBytes is not null);
        var baseline = samples.First(s => s.RetainedSmallObjectBytes is not null && s.Round == growth.BaselineRound);
        var span = Math.Max(1, growth.EndRound - growth.BaselineRound);
        report.Tables.Add(new ReportTable("Server memory over the run: RSS and retained managed heap", ["measure", "start", $"round {growth.BaselineRound} (after warm-up)", $"end (round {growth.EndRound})", "per round after warm-up"],
        [
            ["retained small-object heap (after full GC), MB", Mb(first.RetainedSmallObjectBytes), Mb(growth.BaselineBytes), Mb(growth.EndBytes), $"{growth.SlopeBytesPerRound:0} B (slope), {growth.EndpointBytesPerRound:0} B (endpoints)"],
            ["retained large/pinned-object heap, MB", Mb(first.RetainedLargeObjectBytes), Mb(baseline.RetainedLargeObjectBytes), Mb(last.RetainedLargeObjectBytes), $"{((last.RetainedLargeObjectBytes ?? 0) - (baseline.RetainedLargeObjectBytes ?? 0)) / (double)span:0} B (endpoints)"],
            ["retained managed heap in all, MB", Mb(first.RetainedBytes), Mb(baseline.RetainedBytes), Mb(last.RetainedBytes), $"{((last.RetainedBytes ?? 0) - (baseline.RetainedBytes ?? 0)) / (double)span:0} B (endpoints)"],
            ["GC heap at last collection, MB", Mb(first.GcHeapBytes), Mb(baseline.GcHeapBytes), Mb(last.GcHeapBytes), $"{(last.GcHeapBytes - baseline.GcHeapBytes) / (double)span:0} B (endpoints)"],
            ["server working set (RSS), MB", Mb(first.WorkingSetBytes), Mb(baseline.WorkingSetBytes), Mb(last.WorkingSetBytes), $"{(last.WorkingSetBytes - baseline.WorkingSetBytes) / (double)span:0} B (endpoints)"],
            ["gen2 collections (forced ones included)", LoadReport.Int(first.Gen2Collections), LoadReport.Int(baseline.Gen2Collections), LoadReport.Int(last.Gen2Collections), ""],
            ["kept by design (journal index, model list)", "", "", "", $"{byDesign:0} B ({updatesPerRound:0.#} updates per round)"],
            ["small-object growth beyond design", "", "", "", $"{excess:0} B (bound {RetainedGrowthBoundBytesPerRound:0} B)"],
        ]));
        var detail = $"retained small-object heap {Mb(growth.BaselineBytes)} MB at round {growth.BaselineRound} → {Mb(growth.EndBytes)} MB at round {growth.EndRound}: {growth.SlopeBytesPerRound:0} B/round " +
            $"(least squares over {growth.Samples} samples); by design {byDesign:0} B/round; beyond design {excess:0} B/round (bound < {RetainedGrowthBoundBytesPerRound:0})";
        if (growth.EndRound - growth.BaselineRound >= HeapCheckMinRounds)
        {
            report.Checks.Add(new ReportCheck("retained managed heap flat (small-object growth per round beyond design < 1 KiB)", passed, detail));
        }
        else
        {
            report.Notes.Add($"Retained heap (not an exit-code check: fewer than {HeapCheckMinRounds} rounds past the warm-up): {detail}.");
        }

        return (Target, $"{excess:+0;-0} B/round beyond the {byDesign:0} B/round kept by design (slope {growth.SlopeBytesPerRound:0} B/round)", passed);

        static string Mb(long? bytes) => bytes is { } b ? LoadReport.Num(b / 1e6, "0.000") : "";
    }

    /// <summary>Relative change of median RSS, and absolute change of max threads and handles, from the run's second quarter to its last.</summary>
    internal static (double Rss, double Threads, double Handles) Growth(IReadOnlyList<ResourceSample> samples)
    {
        if (samples.Count < 8)
        {
            return (double.NaN, 0, 0);
        }

        var quarter = samples.Count / 4;
        var second = samples.Skip(quarter).Take(quarter).ToList();
        var last = samples.Skip(samples.Count - quarter).ToList();
        static double Median(IEnumerable<long> values)
        {
            var sorted = values.Order().ToArray();
            return sorted[sorted.Length / 2];
        }

        var before = Median(second.Select(static s => s.RssBytes));
        return (before > 0 ? (Median(last.Select(static s => s.RssBytes)) / before) - 1 : double.NaN,
            last.Max(static s => s.Threads) - second.Max(static s => s.Threads),
            last.Max(static s => s.Handles) - second.Max(static s => s.Handles));
    }

    private static void AddWorkloadSettings(LoadReport report, LoadCommandLine line, SubmitWorkload workload)
    {
        report.Settings.Add(new("participants", line.Peers.ToString(CultureInfo.InvariantCulture)));
        report.Settings.Add(new("update", $"{workload.Elements} float32 ({workload.PayloadBytes} bytes)"));
        report.Settings.Add(new("load", $"{line.Load}, warm-up {line.WarmUp.TotalSeconds:0.#} s"));
        report.Settings.Add(new("rounds", workload.RollsRounds ? "closed by the coordinator when every participant has submitted" : "not closed (no coordinator key)"));
        var rounds = workload.Rounds;
        if (rounds.Count > 0)
        {
            report.Tables.Add(new ReportTable("Rounds published during the run", ["round", "updates", "close ms", "publish ms", "next round ms", "anchored"],
                [.. rounds.OrderBy(static r => r.Round).Select(static r => (IReadOnlyList<string>)
                [
                    r.Round.ToString(CultureInfo.InvariantCulture), LoadReport.Int(r.Updates), LoadReport.Num(r.CloseMs, "0.0"), LoadReport.Num(r.PublishMs, "0.0"),
                    LoadReport.Num(r.NextRoundMs, "0.0"), r.Anchored ? "yes" : "no",
                ])]));
        }

        report.Notes.Add("acquire waits for a participant that has not submitted in the open round (the server takes one update per peer per round), so its latency includes the waits for a round to be published; submit is the signed upload and its receipt.");
    }

    private static void AddManifestCheck(LoadReport report, ManifestCheck check, SubmitWorkload workload) =>
        report.Checks.Add(new ReportCheck("every receipted update is in its round's manifest", check.Passed,
            $"{check.Found}/{check.Receipted} found over {check.Rounds} rounds; unchecked {check.Unchecked}{(check.Missing.Count > 0 ? "; missing " + string.Join(", ", check.Missing) : "")}{(workload.RollsRounds ? "" : " (no coordinator: rounds not closed)")}"));

    private static void AddTargets(LoadReport report, params (string Target, string Measured, bool Met)[] targets) =>
        report.Tables.Add(new ReportTable("Targets (issue 8)", ["target", "measured", "met"],
            [.. targets.Select(static t => (IReadOnlyList<string>)[t.Target, t.Measured, t.Met ? "yes" : "no"])]));
}
