using System.Globalization;
using System.Text.Json;
using FedAgg.Reporting;

namespace FedAgg.Cli.Demo;

/// <summary>Writes <c>index.html</c> (self-contained, inline SVG charts) and <c>results.json</c> (every figure) into the report folder.</summary>
internal static class DemoReport
{
    private static readonly JsonSerializerOptions Indented = new(DemoConsole.JsonOptions) { WriteIndented = true };

    public static (string Html, string Json) Write(string directory, DemoResults results)
    {
        Directory.CreateDirectory(directory);
        var jsonPath = Path.Combine(directory, "results.json");
        AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(results, Indented) + "\n");
        var htmlPath = Path.Combine(directory, "index.html");
        Build(results).WriteTo(htmlPath);
        return (htmlPath, jsonPath);
    }

    private static HtmlReport Build(DemoResults results)
    {
        var main = results.Runs[0];
        var sweep = results.Runs.Count > 1;
        var report = new HtmlReport(sweep ? "FedAgg demo: rules × attacks on Fashion-MNIST" : "FedAgg demo: Byzantine-robust federated training on Fashion-MNIST");
        report.Paragraph(sweep
            ? $"{results.Runs.Count} runs of {main.Nodes} participants ({main.Byzantine} Byzantine) over {main.Rounds.Count} rounds each, every run with the same seeds. Each round was aggregated by the FedAgg server, anchored on a local chain (anvil) and verified."
            : $"{main.Nodes - main.Byzantine} honest participants and {main.Byzantine} Byzantine ones ({main.Attack}) trained an MLP on Fashion-MNIST for {main.Rounds.Count} rounds; the server combined their signed updates with {main.RuleDescription}, anchored every round on a local chain (anvil) and every round was re-verified bit-exactly against the chain.");
        var summary = new List<KeyValuePair<string, string>>
        {
            new("command", results.Command),
            new(sweep ? "first run's final test accuracy" : "final test accuracy", Percent(main.FinalAccuracy, 2)),
            new("credits earned by Byzantine participants", Percent(main.ByzantineCreditShare, 2)),
            new("rounds verified", $"{results.Runs.Sum(static r => r.Rounds.Count(static x => x.Verified))} of {results.Runs.Sum(static r => r.Rounds.Count)}"),
            new("training throughput", $"{results.SamplesPerSecondPerCore:N0} samples/s per core"),
            new("mean train time per round", Seconds(results.MeanTrainSeconds)),
            new("mean aggregation + anchoring time per round", Seconds(results.MeanAggregateAnchorSeconds)),
            new("total time (set-up included)", Seconds(results.TotalSeconds)),
        };
        if (results.Claim is { } claim)
        {
            summary.Add(new("credit claim", $"participant {claim.Participant} ({claim.Account}) claimed {claim.Paid} credits in {claim.Transaction}; on-chain balance {claim.Balance}"));
        }

        if (results.LedgerAddress is not null)
        {
            summary.Add(new("ledger", $"{results.LedgerAddress} on {results.ChainRpc}"));
        }

        report.KeyValues(summary);

        report.Heading("Test accuracy per round");
        report.Chart(new LineChart(
            "Test accuracy (10,000 test images)", "round", "accuracy",
            [.. results.Runs.Select(r => new ChartSeries(sweep ? $"{r.Rule} / {r.Attack}" : r.RuleDescription, [.. r.Rounds.Select(static x => (double)x.Round)], [.. r.Rounds.Select(static x => x.Accuracy)]))])
        { Height = sweep ? 520 : 340 });

        if (sweep)
        {
            AddSweep(report, results);
        }

        report.Heading(sweep ? $"Credits per participant ({main.Rule} / {main.Attack})" : "Credits per participant");
        report.Chart(new BarChart(
            "Share of all credits paid", "share of credits (%)",
            [.. main.Participants.Select(static p => $"#{p.Index} {(p.Byzantine ? "Byzantine" : "honest")}")],
            [
                new ChartSeries("honest", [], [.. main.Participants.Select(static p => p.Byzantine ? double.NaN : p.CreditShare * 100)]),
                new ChartSeries("Byzantine", [], [.. main.Participants.Select(static p => p.Byzantine ? p.CreditShare * 100 : double.NaN)]),
            ])
        { Stacked = true });

        report.Heading("Byzantine vs honest credit share per round");
        report.Chart(new BarChart(
            "Credits paid per round", "share of the round's credits (%)",
            [.. main.Rounds.Select(static r => r.Round.ToString(CultureInfo.InvariantCulture))],
            [
                new ChartSeries("honest", [], [.. main.Rounds.Select(static r => (1 - r.ByzantineCreditShare) * 100)]),
                new ChartSeries("Byzantine", [], [.. main.Rounds.Select(static r => r.ByzantineCreditShare * 100)]),
            ])
        { Stacked = true });

        report.Heading("Seconds per phase, per round");
        report.Chart(new BarChart(
            "Where each round's time goes", "seconds",
            [.. main.Rounds.Select(static r => r.Round.ToString(CultureInfo.InvariantCulture))],
            [
                new ChartSeries("train (all participants, parallel)", [], [.. main.Rounds.Select(static r => r.TrainSeconds)]),
                new ChartSeries("sign + submit", [], [.. main.Rounds.Select(static r => r.SubmitSeconds)]),
                new ChartSeries("aggregate + anchor + publish", [], [.. main.Rounds.Select(static r => r.AggregateAnchorSeconds)]),
                new ChartSeries("verify (proofs + bit-exact re-run)", [], [.. main.Rounds.Select(static r => r.VerifySeconds)]),
            ])
        { Stacked = true });

        report.Heading(sweep ? $"Rounds of {main.Rule} / {main.Attack}" : "Rounds");
        report.Table(
            ["round", "accuracy", "loss", "accepted", "rejected", "Byzantine contribution", "Byzantine credit", "anchor tx", "train s", "submit s", "agg+anchor s", "verify s", "verified"],
            main.Rounds.Select(static r => (IReadOnlyList<string>)
            [
                r.Round.ToString(CultureInfo.InvariantCulture), r.Accuracy.ToString("0.0000", CultureInfo.InvariantCulture), r.Loss.ToString("0.000", CultureInfo.InvariantCulture),
                $"{r.Accepted}/{r.Submitted}",
                r.Rejected.Count == 0 ? "–" : string.Join("; ", r.Rejected.Select(static x => $"#{x.Participant} {x.Status}")),
                r.Selected.Count > 0 ? $"selected {r.Selected.Count}, {r.SelectedByzantine} Byzantine" : Percent(r.ByzantineContributionShare, 1),
                Percent(r.ByzantineCreditShare, 1), r.AnchorTx ?? "none",
                Fixed(r.TrainSeconds), Fixed(r.SubmitSeconds), Fixed(r.AggregateAnchorSeconds), Fixed(r.VerifySeconds),
                r.Verified && r.InclusionPassed == r.InclusionChecked ? "yes" : $"NO: {r.VerifyDetail}",
            ]));

        report.Heading("Participants");
        report.Table(
            ["#", "peer id", "role", "credits account", "credits", "share", "accepted", "rejected"],
            main.Participants.Select(static p => (IReadOnlyList<string>)
            [
                p.Index.ToString(CultureInfo.InvariantCulture), p.PeerId, p.Byzantine ? $"Byzantine ({p.Attack})" : "honest", p.Address, p.Credits,
                Percent(p.CreditShare, 1), p.Accepted.ToString(CultureInfo.InvariantCulture), p.Rejected.ToString(CultureInfo.InvariantCulture),
            ]));
        report.Paragraph("Every figure on this page is in results.json beside it.");
        return report;
    }

    private static void AddSweep(HtmlReport report, DemoResults results)
    {
        var rules = results.Runs.Select(static r => r.Rule).Distinct().ToArray();
        var attacks = results.Runs.Select(static r => r.Attack).Distinct().ToArray();
        DemoRunResult? Find(string rule, string attack) => results.Runs.FirstOrDefault(r => r.Rule == rule && r.Attack == attack);

        report.Heading("Final test accuracy: rule × attack");
        report.Table(
            ["rule", .. attacks],
            rules.Select(rule => (IReadOnlyList<string>)[rule, .. attacks.Select(a => Find(rule, a) is { } run ? Cell(run) : "–")]));
        report.Chart(new BarChart(
            "Final test accuracy per rule, one bar per attack", "accuracy",
            rules,
            [.. attacks.Select(a => new ChartSeries(a, [], [.. rules.Select(rule => Find(rule, a) is { Error: null } run ? run.FinalAccuracy : double.NaN)]))])
        { Height = 420 });

        report.Heading("Credits earned by Byzantine participants: rule × attack");
        report.Table(
            ["rule", .. attacks.Where(static a => a != "none")],
            rules.Select(rule => (IReadOnlyList<string>)[rule, .. attacks.Where(static a => a != "none").Select(a => Find(rule, a) is { } run ? Percent(run.ByzantineCreditShare, 1) : "–")]));
    }

    private static string Cell(DemoRunResult run) => run.Error is null ? run.FinalAccuracy.ToString("0.0000", CultureInfo.InvariantCulture) : $"failed: {run.Error}";

    private static string Percent(double value, int decimals) => (value * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%";

    private static string Seconds(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    private static string Fixed(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
