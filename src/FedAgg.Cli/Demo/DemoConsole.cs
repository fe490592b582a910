using System.Globalization;
using System.Text.Json;
using FedAgg.Attacks;
using FedAgg.Training.Models;

namespace FedAgg.Cli.Demo;

/// <summary>The demo's live output: a table row per round, or one JSON object per line with <c>--json</c>.</summary>
internal sealed class DemoConsole(TextWriter output, bool json)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = false };

    public bool Json => json;

    public void Line(string text)
    {
        if (!json)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }

    public void Event(string type, object payload)
    {
        if (json)
        {
            output.WriteLine($"{{\"type\":\"{type}\",\"data\":{JsonSerializer.Serialize(payload, JsonOptions)}}}");
            output.Flush();
        }
    }

    public void RunHeader(string taskId, string rule, AttackKind attack, int nodes, int byzantine, int rounds, Mlp model)
    {
        Event("run", new { taskId, rule, attack = AttackKinds.CliName(attack), nodes, byzantine, rounds, layers = model.LayerSizes, parameters = model.ParameterCount });
        if (json)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine($"━━ task '{taskId}': rule {rule}, {nodes - byzantine} honest + {byzantine} Byzantine ({AttackKinds.CliName(attack)}), {rounds} rounds, MLP {string.Join('-', model.LayerSizes)} ({model.ParameterCount:N0} parameters)");
        output.WriteLine($"{"round",5} {"acc",7} {"loss",6} {"accepted",8}  {"rejected",-22} {"byz contribution",-17} {"byz credit",10}  {"anchor tx",-13} {"train",6} {"submit",6} {"agg+anchor",10} {"verify",6}");
        output.WriteLine(new string('─', 134));
        output.Flush();
    }

    public void Round(DemoRoundResult r)
    {
        Event("round", r);
        if (json)
        {
            return;
        }

        var rejected = r.Rejected.Count == 0
            ? "–"
            : string.Join(", ", r.Rejected.GroupBy(static x => x.Status).Select(static g => $"{g.Count()} {g.Key}"));
        var contribution = r.Selected.Count > 0
            ? $"sel {r.Selected.Count}, byz {r.SelectedByzantine}"
            : $"{r.ByzantineContributionShare * 100,5:0.0}%";
        var anchor = r.AnchorTx is { Length: > 12 } tx ? $"{tx[..8]}…{tx[^4..]}" : "none";
        var verified = r.Verified && r.InclusionPassed == r.InclusionChecked ? "" : "  NOT VERIFIED";
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{r.Round,5} {r.Accuracy,7:0.0000} {r.Loss,6:0.000} {r.Accepted,5}/{r.Submitted,-2}  {Clip(rejected, 22),-22} {contribution,-17} {r.ByzantineCreditShare * 100,9:0.0}%  {anchor,-13} {r.TrainSeconds,5:0.00}s {r.SubmitSeconds,5:0.00}s {r.AggregateAnchorSeconds,9:0.00}s {r.VerifySeconds,5:0.00}s{verified}"));
        output.Flush();
    }

    public void RunFailed(string taskId, string message)
    {
        Event("error", new { taskId, message });
        Line($"   task '{taskId}' stopped: {message}");
    }

    private static string Clip(string text, int width) => text.Length <= width ? text : string.Concat(text.AsSpan(0, width - 1), "…");
}
