using System.Globalization;
using FedAgg.LoadTests.Hosting;
using FedAgg.LoadTests.Runner;
using FedAgg.Reporting;

namespace FedAgg.LoadTests.Reports;

/// <summary>A named pass/fail check of a run (e.g. "every receipted update is in its manifest").</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Detail">The figures behind it.</param>
public sealed record ReportCheck(string Name, bool Passed, string Detail);

/// <summary>An extra table of a report.</summary>
/// <param name="Title">Its heading.</param>
/// <param name="Headers">Column headers.</param>
/// <param name="Rows">Rows.</param>
public sealed record ReportTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// Everything one <c>fedagg-load</c> run reports, written by <see cref="WriteAsync"/> as <c>report.md</c>,
/// <c>report.html</c> (tables and SVG charts), <c>steps.csv</c>, <c>intervals.csv</c> and <c>resources.csv</c>.
/// </summary>
public sealed class LoadReport
{
    /// <summary>The file names a report folder holds.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["report.md", "report.html", "steps.csv", "intervals.csv", "resources.csv"];

    /// <summary>The step table's columns (steps.csv and the Markdown/HTML tables).</summary>
    public static IReadOnlyList<string> StepHeaders { get; } =
    [
        "scenario", "step", "ok", "failed", "ok_per_s", "p50_ms", "p75_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "sent_mb", "received_mb", "sent_mb_per_s", "received_mb_per_s",
    ];

    /// <summary>Creates a report.</summary>
    /// <param name="title">The title (e.g. <c>fedagg-load submit</c>).</param>
    /// <param name="result">What the runner measured.</param>
    public LoadReport(string title, RunResult result)
    {
        Title = title;
        Result = result;
    }

    /// <summary>The title.</summary>
    public string Title { get; }

    /// <summary>The runner's result.</summary>
    public RunResult Result { get; }

    /// <summary>The run's settings (command line, server, machine).</summary>
    public IList<KeyValuePair<string, string>> Settings { get; } = [];

    /// <summary>Checks and their outcome.</summary>
    public IList<ReportCheck> Checks { get; } = [];

    /// <summary>Extra tables (per round, clean vs hostile, ...).</summary>
    public IList<ReportTable> Tables { get; } = [];

    /// <summary>Free-text notes.</summary>
    public IList<string> Notes { get; } = [];

    /// <summary>Process samples (CPU split, memory, threads, handles).</summary>
    public IReadOnlyList<ResourceSample> Samples { get; set; } = [];

    /// <summary>The server's managed heap over the run (<c>server.status</c>; only with the coordinator's key).</summary>
    public IReadOnlyList<HeapSample> HeapSamples { get; set; } = [];

    /// <summary>The columns of resources.csv: the /proc samples, then the managed-heap samples (process <c>server-heap</c>).</summary>
    public static IReadOnlyList<string> ResourceHeaders { get; } =
    [
        "at_s", "process", "cpu_cores", "cpu_seconds", "rss_bytes", "threads", "handles", "round", "gc_heap_bytes", "retained_bytes", "gen0", "gen1", "gen2", "allocated_bytes", "retained_large_object_bytes",
    ];

    /// <summary>Whether every check passed and no step failed (except reasons in <paramref name="expectedFailures"/>).</summary>
    /// <param name="expectedFailures">Failure reasons that do not count (e.g. hostile steps' expected outcomes); none by default.</param>
    /// <returns>The verdict.</returns>
    public bool Passed(params string[] expectedFailures) =>
        Checks.All(static c => c.Passed)
        && Result.Scenarios.SelectMany(static s => s.Steps).All(s => s.FailuresByReason.All(f => expectedFailures.Contains(f.Key, StringComparer.Ordinal)));

    /// <summary>The step table's rows.</summary>
    /// <returns>One row per step.</returns>
    public IReadOnlyList<IReadOnlyList<string>> StepRows() =>
    [
        .. Result.Scenarios.SelectMany(static s => s.Steps).Select(static s => (IReadOnlyList<string>)
        [
            s.Scenario, s.Step, Int(s.Ok), Int(s.Failed), Num(s.OkPerSecond, "0.0"), Num(s.PercentileMs(50)), Num(s.PercentileMs(75)), Num(s.PercentileMs(95)),
            Num(s.PercentileMs(99)), Num(s.Latency.Max / 1000.0), Num(s.Latency.Mean / 1000.0), Num(s.BytesSent / 1e6), Num(s.BytesReceived / 1e6),
            Num(s.SentMegabytesPerSecond), Num(s.ReceivedMegabytesPerSecond),
        ]),
    ];

    /// <summary>Writes the report's files into <paramref name="directory"/> (created).</summary>
    /// <param name="directory">The report folder.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <returns>A task that completes when written.</returns>
    public async Task WriteAsync(string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.md"), RenderMarkdown(), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.html"), RenderHtml(), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "steps.csv"), CsvWriter.Render(StepHeaders, StepRows()), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "intervals.csv"), CsvWriter.Render(
            ["scenario", "step", "end_s", "length_s", "ok", "failed", "ok_per_s", "p50_ms", "p99_ms", "max_ms", "sent_bytes", "received_bytes"],
            Result.Scenarios.SelectMany(static s => s.Intervals).Select(static i => (IReadOnlyList<string>)
            [
                i.Scenario, i.Step, Num(i.End.TotalSeconds), Num(i.Length.TotalSeconds), Int(i.Ok), Int(i.Failed), Num(i.OkPerSecond, "0.0"),
                Num(i.P50Ms), Num(i.P99Ms), Num(i.MaxMs), Int(i.BytesSent), Int(i.BytesReceived),
            ])), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "resources.csv"), CsvWriter.Render(ResourceHeaders, ResourceCsvRows()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The rows of resources.csv in time order: a /proc sample per process per second (the heap columns empty), and a
    /// <c>server-heap</c> row per <c>server.status</c> sample (rss_bytes is the server's working set; retained_bytes is
    /// empty when no collection was forced; cpu and handles empty).
    /// </summary>
    /// <returns>The rows.</returns>
    public IReadOnlyList<IReadOnlyList<string>> ResourceCsvRows() =>
    [
        .. Samples.Select(static s => (At: s.At, Row: (IReadOnlyList<string>)
            [
                Num(s.At.TotalSeconds), s.Process, Num(s.CpuCores, "0.000"), Num(s.CpuSeconds), Int(s.RssBytes), Int(s.Threads), Int(s.Handles), "", "", "", "", "", "", "", "",
            ]))
            .Concat(HeapSamples.Select(static h => (At: h.At, Row: (IReadOnlyList<string>)
            [
                Num(h.At.TotalSeconds), "server-heap", "", "", Int(h.WorkingSetBytes), Int(h.Threads), "", Int(h.Round), Int(h.GcHeapBytes),
                h.RetainedBytes is { } retained ? Int(retained) : "", Int(h.Gen0Collections), Int(h.Gen1Collections), Int(h.Gen2Collections), Int(h.TotalAllocatedBytes), h.RetainedLargeObjectBytes is { } large ? Int(large) : "",
            ])))
            .OrderBy(static r => r.At)
            .Select(static r => r.Row),
    ];

    /// <summary>The CPU split over the run: CPU seconds per tracked process and the machine, and the average cores each used.</summary>
    /// <returns>Rows of (process, cpu seconds, average cores, peak RSS MB, peak threads, peak handles).</returns>
    public IReadOnlyList<IReadOnlyList<string>> ResourceRows()
    {
        var rows = new List<IReadOnlyList<string>>();
        var wall = Samples.Count == 0 ? 0 : (Samples[^1].At - Samples[0].At).TotalSeconds;
        double tracked = 0;
        double machine = 0;
        foreach (var group in Samples.GroupBy(static s => s.Process))
        {
            var cpu = group.Max(static s => s.CpuSeconds);
            if (group.Key == "machine")
            {
                machine = cpu;
            }
            else
            {
                tracked += cpu;
            }

            rows.Add([group.Key, Num(cpu), Num(wall > 0 ? cpu / wall : 0, "0.00"), Num(group.Max(static s => s.RssBytes) / 1e6, "0.0"),
                Int(group.Max(static s => s.Threads)), Int(group.Max(static s => s.Handles))]);
        }

        if (machine > 0)
        {
            rows.Add(["others (machine − tracked)", Num(Math.Max(0, machine - tracked)), Num(wall > 0 ? Math.Max(0, machine - tracked) / wall : 0, "0.00"), "", "", ""]);
        }

        return rows;
    }

    /// <summary>The report as Markdown.</summary>
    /// <returns>The text.</returns>
    public string RenderMarkdown()
    {
        var text = new System.Text.StringBuilder();
        text.Append("# ").AppendLine(Title).AppendLine();
        text.AppendLine(MarkdownTable.Render(["setting", "value"], Settings.Select(static s => (IReadOnlyList<string>)[s.Key, s.Value])));
        text.AppendLine("## Steps").AppendLine();
        text.AppendLine(MarkdownTable.Render(StepHeaders, StepRows()));
        var failures = FailureRows();
        if (failures.Count > 0)
        {
            text.AppendLine("## Failures by reason").AppendLine();
            text.AppendLine(MarkdownTable.Render(["scenario", "step", "reason", "count"], failures));
        }

        if (Checks.Count > 0)
        {
            text.AppendLine("## Checks").AppendLine();
            text.AppendLine(MarkdownTable.Render(["check", "result", "detail"], Checks.Select(static c => (IReadOnlyList<string>)[c.Name, c.Passed ? "pass" : "FAIL", c.Detail])));
        }

        foreach (var table in Tables)
        {
            text.Append("## ").AppendLine(table.Title).AppendLine();
            text.AppendLine(MarkdownTable.Render(table.Headers, table.Rows));
        }

        if (Samples.Count > 0)
        {
            text.AppendLine("## Resources (CPU split)").AppendLine();
            text.AppendLine(MarkdownTable.Render(["process", "cpu_s", "avg_cores", "peak_rss_mb", "peak_threads", "peak_handles"], ResourceRows()));
        }

        if (HeapSamples.Count > 0)
        {
            text.AppendLine("## Server managed heap (server.status)").AppendLine();
            text.AppendLine(MarkdownTable.Render(HeapHeaders, HeapRows()));
        }

        foreach (var note in Notes)
        {
            text.Append("- ").AppendLine(note);
        }

        return text.ToString();
    }

    /// <summary>The report as a self-contained HTML page with charts.</summary>
    /// <returns>The page.</returns>
    public string RenderHtml()
    {
        var html = new HtmlReport(Title);
        html.KeyValues(Settings);
        html.Heading("Steps").Table(StepHeaders, StepRows());
        var failures = FailureRows();
        if (failures.Count > 0)
        {
            html.Heading("Failures by reason").Table(["scenario", "step", "reason", "count"], failures);
        }

        if (Checks.Count > 0)
        {
            html.Heading("Checks").Table(["check", "result", "detail"], [.. Checks.Select(static c => (IReadOnlyList<string>)[c.Name, c.Passed ? "pass" : "FAIL", c.Detail])]);
        }

        var intervals = Result.Scenarios.SelectMany(static s => s.Intervals).ToList();
        if (intervals.Count > 0)
        {
            var series = intervals.GroupBy(static i => $"{i.Scenario}/{i.Step}").ToList();
            html.Heading("Over time");
            html.Chart(new LineChart("Successes per second", "seconds", "ok/s",
                [.. series.Select(static g => new ChartSeries(g.Key, [.. g.Select(static i => i.End.TotalSeconds)], [.. g.Select(static i => i.OkPerSecond)]))]) { YMin = 0 });
            html.Chart(new LineChart("Latency p99 per interval", "seconds", "ms",
                [.. series.Select(static g => new ChartSeries(g.Key, [.. g.Select(static i => i.End.TotalSeconds)], [.. g.Select(static i => i.P99Ms)]))]) { YMin = 0 });
            html.Chart(new LineChart("Latency p50 per interval", "seconds", "ms",
                [.. series.Select(static g => new ChartSeries(g.Key, [.. g.Select(static i => i.End.TotalSeconds)], [.. g.Select(static i => i.P50Ms)]))]) { YMin = 0 });
        }

        var steps = Result.Scenarios.SelectMany(static s => s.Steps).ToList();
        if (steps.Count > 0)
        {
            html.Chart(new BarChart("Latency percentiles", "ms", [.. steps.Select(static s => $"{s.Scenario}/{s.Step}")],
                [.. new[] { 50.0, 95, 99 }.Select(p => new ChartSeries($"p{p:0}", [.. steps.Select(static (_, i) => (double)i)], [.. steps.Select(s => s.PercentileMs(p))]))]));
        }

        foreach (var table in Tables)
        {
            html.Heading(table.Title).Table(table.Headers, table.Rows);
        }

        if (Samples.Count > 0)
        {
            var byProcess = Samples.GroupBy(static s => s.Process).ToList();
            html.Heading("Resources").Table(["process", "cpu_s", "avg_cores", "peak_rss_mb", "peak_threads", "peak_handles"], ResourceRows());
            html.Chart(new LineChart("CPU (cores)", "seconds", "cores",
                [.. byProcess.Select(static g => new ChartSeries(g.Key, [.. g.Select(static s => s.At.TotalSeconds)], [.. g.Select(static s => s.CpuCores)]))]) { YMin = 0 });
            var processes = byProcess.Where(static g => g.Key != "machine").ToList();
            html.Chart(new LineChart("Resident memory", "seconds", "MB",
                [.. processes.Select(static g => new ChartSeries(g.Key, [.. g.Select(static s => s.At.TotalSeconds)], [.. g.Select(static s => s.RssBytes / 1e6)]))]) { YMin = 0 });
            html.Chart(new LineChart("Threads", "seconds", "threads",
                [.. processes.Select(static g => new ChartSeries(g.Key, [.. g.Select(static s => s.At.TotalSeconds)], [.. g.Select(static s => (double)s.Threads)]))]) { YMin = 0 });
            html.Chart(new LineChart("Open handles", "seconds", "fds",
                [.. processes.Select(static g => new ChartSeries(g.Key, [.. g.Select(static s => s.At.TotalSeconds)], [.. g.Select(static s => (double)s.Handles)]))]) { YMin = 0 });
        }

        if (HeapSamples.Count > 0)
        {
            html.Heading("Server managed heap").Table(HeapHeaders, HeapRows());
            var retained = HeapSamples.Where(static h => h.RetainedBytes is not null).ToList();
            List<ChartSeries> series =
            [
                new("GC heap (at last GC)", [.. HeapSamples.Select(static h => h.At.TotalSeconds)], [.. HeapSamples.Select(static h => h.GcHeapBytes / 1e6)]),
                new("working set", [.. HeapSamples.Select(static h => h.At.TotalSeconds)], [.. HeapSamples.Select(static h => h.WorkingSetBytes / 1e6)]),
            ];
            if (retained.Count > 0)
            {
                series.Add(new("retained (after full GC)", [.. retained.Select(static h => h.At.TotalSeconds)], [.. retained.Select(static h => h.RetainedBytes!.Value / 1e6)]));
                series.Add(new("retained, small-object heap", [.. retained.Select(static h => h.At.TotalSeconds)], [.. retained.Select(static h => h.RetainedSmallObjectBytes!.Value / 1e6)]));
            }

            html.Chart(new LineChart("Server managed heap", "seconds", "MB", series) { YMin = 0 });
            if (retained.Any(static h => h.Round > 0))
            {
                html.Chart(new LineChart("Server retained heap per round", "round", "MB",
                    [
                        new ChartSeries("retained (after full GC)", [.. retained.Select(static h => (double)h.Round)], [.. retained.Select(static h => h.RetainedBytes!.Value / 1e6)]),
                        new ChartSeries("retained, small-object heap", [.. retained.Select(static h => (double)h.Round)], [.. retained.Select(static h => h.RetainedSmallObjectBytes!.Value / 1e6)]),
                    ]) { YMin = 0 });
            }
        }

        foreach (var note in Notes)
        {
            html.Paragraph(note);
        }

        return html.Render();
    }

    /// <summary>The managed-heap table's columns.</summary>
    public static IReadOnlyList<string> HeapHeaders { get; } = ["at_s", "round", "gc_heap_mb", "retained_mb", "retained_soh_mb", "working_set_mb", "gen0", "gen1", "gen2", "allocated_mb", "threads"];

    /// <summary>The managed-heap table: every sample when there are at most 40, else 40 spread evenly (the first and last included).</summary>
    /// <returns>The rows.</returns>
    public IReadOnlyList<IReadOnlyList<string>> HeapRows()
    {
        const int MaxRows = 40;
        var count = HeapSamples.Count;
        var picked = count <= MaxRows ? Enumerable.Range(0, count) : Enumerable.Range(0, MaxRows).Select(i => (int)Math.Round(i * (count - 1) / (double)(MaxRows - 1))).Distinct();
        return
        [
            .. picked.Select(i => HeapSamples[i]).Select(static h => (IReadOnlyList<string>)
            [
                Num(h.At.TotalSeconds, "0.0"), Int(h.Round), Num(h.GcHeapBytes / 1e6), h.RetainedBytes is { } r ? Num(r / 1e6, "0.000") : "", h.RetainedSmallObjectBytes is { } soh ? Num(soh / 1e6, "0.000") : "", Num(h.WorkingSetBytes / 1e6, "0.0"),
                Int(h.Gen0Collections), Int(h.Gen1Collections), Int(h.Gen2Collections), Num(h.TotalAllocatedBytes / 1e6, "0.0"), Int(h.Threads),
            ]),
        ];
    }

    private List<IReadOnlyList<string>> FailureRows() =>
    [
        .. Result.Scenarios.SelectMany(static s => s.Steps)
            .SelectMany(static s => s.FailuresByReason.Select(f => (IReadOnlyList<string>)[s.Scenario, s.Step, f.Key, Int(f.Value)])),
    ];

    internal static string Num(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    internal static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
