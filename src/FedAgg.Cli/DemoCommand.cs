using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FedAgg.Attacks;
using FedAgg.Chain;
using FedAgg.Chain.Sending;
using FedAgg.Cli.Demo;
using FedAgg.Core.Rounds;
using FedAgg.Node;
using FedAgg.Training.Data;
using FedAgg.Verification;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg demo</c>: the whole system in one process on Fashion-MNIST: the embedded chain, the server, N participant
/// nodes (some Byzantine) training an MLP, a robust rule, every round anchored and verified, credits claimed, and a report.
/// <c>--synthetic</c> runs the earlier aggregation-only demo on generated updates.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var synthetic = new Option<bool>("--synthetic") { Description = "Run the aggregation-only demo on generated updates (no training, chain or network); --honest and --d imply it" };
        var honest = new Option<int?>("--honest") { Description = $"--synthetic: honest updates (default {SyntheticDemo.DefaultHonest})" };
        var dimension = new Option<int?>("--d") { Description = $"--synthetic: parameters per update (default {SyntheticDemo.DefaultDimension})" };
        var nodes = new Option<int>("--nodes") { Description = "Participants (default 10)", DefaultValueFactory = _ => 10 };
        var byzantine = new Option<int?>("--byzantine") { Description = $"Byzantine participants among them (default 2; --synthetic: {SyntheticDemo.DefaultByzantine})" };
        var attack = new Option<string>("--attack") { Description = "What the Byzantine participants do (default alie)", DefaultValueFactory = _ => "alie" };
        attack.AcceptOnlyFromAmong([.. AttackKinds.CliNames]);
        var rule = new Option<string>("--rule") { Description = "The robust rule (default trimmed-mean)", DefaultValueFactory = _ => DemoSettings.DefaultRule };
        rule.AcceptOnlyFromAmong(DemoSettings.Rules);
        var beta = new Option<double?>("--beta") { Description = "trimmed-mean: the fraction trimmed per side (default f/n, which trims f)" };
        var f = new Option<int?>("--f") { Description = "The Byzantine count the rule assumes (default --byzantine)" };
        var tau = new Option<double>("--tau") { Description = "centered-clipping: the radius τ (default 5)", DefaultValueFactory = _ => 5.0 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds (default 20; with --sweep 5)", DefaultValueFactory = _ => 20 };
        var localSteps = new Option<int>("--local-steps") { Description = "H, local AdamW steps per round (default 100)", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch") { Description = "Minibatch size (default 64)", DefaultValueFactory = _ => 64 };
        var learningRate = new Option<float>("--lr") { Description = "AdamW learning rate (default 0.001)", DefaultValueFactory = _ => 1e-3f };
        var alpha = new Option<double?>("--alpha") { Description = "Non-IID: Dirichlet concentration α of the label split (default: IID)" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the split, the model, the training order and the attacks (default 7)", DefaultValueFactory = _ => 7 };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes (default 256,128)", DefaultValueFactory = _ => "256,128" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line (each run and round, then the summary) instead of the table" };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = $"Fashion-MNIST idx files (default {FashionMnist.DefaultDirectory}, installed with apt-get when missing and run as root)", HelpName = "dir" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Report folder (default demo-report)", DefaultValueFactory = _ => new DirectoryInfo("demo-report"), HelpName = "dir" };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Keep the chain, server and node data here (default: a temporary folder, removed at the end)", HelpName = "dir" };
        var sweep = new Option<bool>("--sweep") { Description = "Run every rule against every attack (none, sign-flip, gaussian, alie, ipm, label-flip) with the same seeds" };
        var sweepRules = new Option<string?>("--sweep-rules") { Description = "--sweep: only these rules (comma-separated)" };
        var sweepAttacks = new Option<string?>("--sweep-attacks") { Description = "--sweep: only these attacks (comma-separated)" };
        var trainSamples = new Option<int>("--train-samples") { Description = "Use only the first N training samples (default all)" };
        var testSamples = new Option<int>("--test-samples") { Description = "Evaluate on the first N test samples (default all)" };
        var threads = new Option<int>("--threads") { Description = "Participants training at once (default: the CPU count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var verbose = new Option<bool>("--verbose") { Description = "Server and chain logs on stderr" };
        var command = new Command("demo", "The whole system on Fashion-MNIST: participants that train, Byzantine ones that attack, a robust rule, every round anchored, verified and paid")
        {
            synthetic, honest, dimension, nodes, byzantine, attack, rule, beta, f, tau, rounds, localSteps, batch, learningRate, alpha, seed, hidden, json,
            dataDir, output, data, sweep, sweepRules, sweepAttacks, trainSamples, testSamples, threads, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(synthetic) || parse.GetResult(honest) is { Implicit: false } || parse.GetResult(dimension) is { Implicit: false })
            {
                return SyntheticDemo.Run(
                    parse.GetValue(honest) ?? SyntheticDemo.DefaultHonest, parse.GetValue(byzantine) ?? SyntheticDemo.DefaultByzantine,
                    parse.GetValue(dimension) ?? SyntheticDemo.DefaultDimension, parse.GetValue(seed));
            }

            DemoSettings settings;
            try
            {
                var isSweep = parse.GetValue(sweep);
                settings = new DemoSettings
                {
                    Nodes = parse.GetValue(nodes),
                    Byzantine = parse.GetValue(byzantine) ?? 2,
                    Attack = AttackKinds.Parse(parse.GetValue(attack)),
                    Rule = parse.GetValue(rule)!,
                    Beta = parse.GetValue(beta),
                    F = parse.GetValue(f),
                    Tau = parse.GetValue(tau),
                    Rounds = parse.GetResult(rounds) is { Implicit: false } || !isSweep ? parse.GetValue(rounds) : 5,
                    LocalSteps = parse.GetValue(localSteps),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(learningRate),
                    Alpha = parse.GetValue(alpha),
                    Seed = parse.GetValue(seed),
                    Hidden = ParseHidden(parse.GetValue(hidden)!),
                    Json = parse.GetValue(json),
                    DatasetDirectory = parse.GetValue(dataDir)?.FullName ?? FashionMnist.DefaultDirectory,
                    DatasetDirectoryGiven = parse.GetValue(dataDir) is not null,
                    OutputDirectory = parse.GetValue(output)!.FullName,
                    DataDirectory = parse.GetValue(data)?.FullName,
                    Sweep = isSweep,
                    SweepRules = ParseList(parse.GetValue(sweepRules), DemoSettings.Rules, "--sweep-rules"),
                    SweepAttackNames = ParseList(parse.GetValue(sweepAttacks), [.. AttackKinds.CliNames], "--sweep-attacks"),
                    TrainSamples = parse.GetValue(trainSamples),
                    TestSamples = parse.GetValue(testSamples),
                    Threads = parse.GetValue(threads),
                    Verbose = parse.GetValue(verbose),
                };
                Validate(settings);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"fedagg demo: error: {PeerCommand.OneLine(e.Message)}");
                return 2;
            }

            try
            {
                return await RunAsync(settings, string.Join(' ', ["fedagg", .. parse.Tokens.Select(static t => t.Value)]), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine("fedagg demo: stopped");
                return 130;
            }
            catch (Exception e) when (e is DemoException or ChainException or Libp2p.Libp2pException or ParticipantNodeException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fedagg demo: error: {PeerCommand.OneLine(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    private static void Validate(DemoSettings s)
    {
        Check(s.Nodes is >= 1 and <= 256, $"--nodes must be 1 … 256; it is {s.Nodes}");
        Check(s.Byzantine >= 0 && s.Byzantine < s.Nodes, $"--byzantine must be 0 … {s.Nodes - 1} (at least one honest participant); it is {s.Byzantine}");
        Check(s.AssumedF >= 0 && 2 * s.AssumedF < s.Nodes, $"--f must be 0 … {(s.Nodes - 1) / 2}; it is {s.AssumedF}");
        Check(s.Rounds is >= 1 and <= 10_000, $"--rounds must be 1 … 10000; it is {s.Rounds}");
        Check(s.LocalSteps is >= 1 and <= 100_000, $"--local-steps must be 1 … 100000; it is {s.LocalSteps}");
        Check(s.BatchSize is >= 1 and <= 4096, $"--batch must be 1 … 4096; it is {s.BatchSize}");
        Check(s.LearningRate > 0 && float.IsFinite(s.LearningRate), "--lr must be positive");
        Check(s.Alpha is null or (>= 1e-3 and <= 1e6), "--alpha must be 0.001 … 1000000");
        Check(s.Beta is null or (>= 0 and < 0.5), "--beta must be in [0, 0.5)");
        Check(s.Tau > 0 && double.IsFinite(s.Tau), "--tau must be positive");
        Check(s.TrainSamples >= 0 && s.TestSamples >= 0, "--train-samples and --test-samples must be ≥ 0");
        Check(s.Threads is >= 1 and <= 1024, "--threads must be 1 … 1024");
        if (s.Rule == "krum" || s.Rule == "multi-krum")
        {
            Check(s.Nodes >= (2 * s.AssumedF) + 3, $"{s.Rule} needs n ≥ 2f + 3; n = {s.Nodes}, f = {s.AssumedF}");
        }

        if (s.Attack == AttackKind.Alie && s.Byzantine > 0)
        {
            try
            {
                _ = Alie.ZMax(s.Nodes, s.Byzantine);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new ArgumentException($"alie needs more honest participants: n = {s.Nodes}, f = {s.Byzantine} leaves no supporters (s = ⌊n/2 + 1⌋ − f < 1)");
            }
        }
    }

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }

    private static int[] ParseHidden(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] is < 1 or > 65_536)
            {
                throw new ArgumentException($"--hidden must be comma-separated layer sizes 1 … 65536, e.g. 256,128; got '{text}'");
            }
        }

        return sizes;
    }

    private static string[]? ParseList(string? text, string[] allowed, string option)
    {
        if (text is null)
        {
            return null;
        }

        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in items)
        {
            Check(allowed.Contains(item, StringComparer.Ordinal), $"{option}: '{item}' is not one of {string.Join(", ", allowed)}");
        }

        return items.Length > 0 ? items : throw new ArgumentException($"{option} names nothing");
    }

    private static async Task<int> RunAsync(DemoSettings settings, string commandLine, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        var console = new DemoConsole(Console.Out, settings.Json);
        console.Line("FedAgg demo: federated training with Byzantine participants, a robust rule, and every round anchored on chain and verified.");
        var dataset = await DemoDataset.LoadAsync(settings, Console.Error, cancellationToken).ConfigureAwait(false);
        console.Line($"data      {dataset.Train.Count:N0} training and {dataset.Test.Count:N0} test images from {settings.DatasetDirectory}, split {(settings.Alpha is { } a ? $"non-IID (Dirichlet α = {a.ToString(CultureInfo.InvariantCulture)})" : "IID")} over {settings.Nodes} participants");

        await using var system = await DemoSystem.StartAsync(settings.DataDirectory, settings.Verbose, cancellationToken).ConfigureAwait(false);
        console.Line($"chain     anvil at {system.Devnet.Chain.RpcUrl} (chain id {system.Devnet.Chain.ChainId}), FedAggLedger {system.Devnet.Ledger.Address}");
        console.Line($"server    {system.Address}");
        console.Line($"training  H = {settings.LocalSteps} AdamW steps (lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {settings.BatchSize}) per round, update = local − global, {settings.Threads} participants training at once");

        var layers = settings.LayerSizes(dataset.Train.FeatureCount);
        var shards = settings.Alpha is { } alpha
            ? Partitioner.Dirichlet(dataset.Train.Labels, settings.Nodes, alpha, settings.Seed)
            : Partitioner.Iid(dataset.Train.Count, settings.Nodes, settings.Seed);
        var participants = new List<DemoParticipant>();
        try
        {
            for (var i = 0; i < settings.Nodes; i++)
            {
                // The last `byzantine` participants are the attackers; the first ones hold anvil's funded keys and can pay for a claim.
                participants.Add(DemoParticipant.Create(i, i >= settings.Nodes - settings.Byzantine, settings.Seed, layers, dataset.Train.Subset(shards[i])));
            }

            var setupSeconds = total.Elapsed.TotalSeconds;
            var runner = new DemoRunner(settings, system, dataset, participants, console);
            var runs = new List<DemoRunResult>();
            if (settings.Sweep)
            {
                var rules = settings.SweepRules ?? DemoSettings.Rules;
                var attacks = settings.SweepAttackNames ?? DemoSettings.SweepAttacks;
                console.Line($"sweep     {rules.Count} rules × {attacks.Count} attacks, {settings.Rounds} rounds each (--rounds to change), the same seeds for every run");
                foreach (var rule in rules)
                {
                    foreach (var attack in attacks)
                    {
                        runs.Add(await runner.RunAsync($"sweep-{rule}-{attack}", rule, AttackKinds.Parse(attack), settings.Rounds, cancellationToken).ConfigureAwait(false));
                        console.Line($"   → {rule} / {attack}: final accuracy {runs[^1].FinalAccuracy:0.0000}, Byzantine credit share {runs[^1].ByzantineCreditShare * 100:0.0}%{(runs[^1].Error is { } error ? $", stopped: {error}" : "")}");
                    }
                }
            }
            else
            {
                runs.Add(await runner.RunAsync("demo", settings.Rule, settings.Attack, settings.Rounds, cancellationToken).ConfigureAwait(false));
            }

            // `fedagg verify` of every round: a one-line verdict each (the checks already ran after each round).
            var main = runs[0];
            console.Line("");
            console.Line($"verify (task '{main.TaskId}': manifests, signatures, receipts, Merkle roots, bit-exact re-aggregation, credits, anchors on chain):");
            foreach (var round in main.Rounds)
            {
                console.Line(round.Verified && round.InclusionPassed == round.InclusionChecked
                    ? $"  round {round.Round,3}: VERIFIED  ({round.InclusionPassed}/{round.InclusionChecked} inclusion proofs, anchored in {round.AnchorTx})"
                    : $"  round {round.Round,3}: NOT VERIFIED  {round.VerifyDetail} ({round.InclusionPassed}/{round.InclusionChecked} inclusion proofs)");
            }

            // The honest participant with the most credits claims them (its account is one of anvil's funded keys, so it can pay the gas).
            var claimant = main.Participants.Where(static p => !p.Byzantine && p.Index + 2 < Chain.Devnet.LocalChain.DevelopmentKeys.Count)
                .OrderByDescending(static p => System.Numerics.BigInteger.Parse(p.Credits, CultureInfo.InvariantCulture)).ThenBy(static p => p.Index).FirstOrDefault();
            var claim = claimant is null ? null : await ClaimAsync(system, participants[claimant.Index], main, console, cancellationToken).ConfigureAwait(false);
            var allRounds = runs.SelectMany(static r => r.Rounds).ToArray();
            var trainers = Math.Min(settings.Threads, Environment.ProcessorCount);
            var results = new DemoResults
            {
                Command = commandLine,
                StartedUtc = started.ToString("O", CultureInfo.InvariantCulture),
                Settings = new Dictionary<string, object?>
                {
                    ["nodes"] = settings.Nodes, ["byzantine"] = settings.Byzantine, ["attack"] = AttackKinds.CliName(settings.Attack), ["rule"] = settings.Rule,
                    ["assumedF"] = settings.AssumedF, ["beta"] = settings.Beta, ["tau"] = settings.Tau, ["rounds"] = settings.Rounds, ["localSteps"] = settings.LocalSteps,
                    ["batchSize"] = settings.BatchSize, ["learningRate"] = settings.LearningRate, ["alpha"] = settings.Alpha, ["seed"] = settings.Seed,
                    ["layers"] = layers, ["parameters"] = runner.Model.ParameterCount, ["trainSamples"] = dataset.Train.Count, ["testSamples"] = dataset.Test.Count,
                    ["sweep"] = settings.Sweep, ["threads"] = settings.Threads,
                },
                Machine = new Dictionary<string, object?>
                {
                    ["processors"] = Environment.ProcessorCount, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                    ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                    ["avx512"] = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, ["avx2"] = System.Runtime.Intrinsics.X86.Avx2.IsSupported,
                },
                Runs = runs,
                Claim = claim,
                TotalSeconds = total.Elapsed.TotalSeconds,
                SetupSeconds = setupSeconds,
                SamplesPerSecondPerCore = allRounds.Sum(static r => r.TrainSeconds) > 0 ? allRounds.Sum(static r => (double)r.SamplesTrained) / allRounds.Sum(static r => r.TrainSeconds) / trainers : 0,
                MeanAggregateAnchorSeconds = allRounds.Length > 0 ? allRounds.Average(static r => r.AggregateAnchorSeconds) : 0,
                MeanTrainSeconds = allRounds.Length > 0 ? allRounds.Average(static r => r.TrainSeconds) : 0,
                LedgerAddress = system.Devnet.Ledger.Address.ToString(),
                ChainRpc = system.Devnet.Chain.RpcUrl.ToString(),
                DataDirectory = settings.DataDirectory,
            };
            var (html, jsonPath) = DemoReport.Write(settings.OutputDirectory, results);
            console.Event("summary", results);
            console.Line("");
            console.Line($"result    final test accuracy {main.FinalAccuracy:0.0000} after {main.Rounds.Count} rounds; Byzantine participants earned {main.ByzantineCreditShare * 100:0.0}% of the credits");
            console.Line($"timing    {results.TotalSeconds:0.0} s in all ({setupSeconds:0.0} s set-up); training {results.SamplesPerSecondPerCore:N0} samples/s per core; aggregation + anchoring {results.MeanAggregateAnchorSeconds:0.00} s per round");
            console.Line($"report    {html}");
            console.Line($"          {jsonPath}");
            if (settings.DataDirectory is not null)
            {
                console.Line($"data      {settings.DataDirectory} (try: fedagg verify --data {system.ServerDataDirectory} --task {main.TaskId} --round 1)");
            }

            return runs.All(static r => r.AllVerified) ? 0 : 1;
        }
        finally
        {
            foreach (var participant in participants)
            {
                await participant.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<DemoClaimResult?> ClaimAsync(DemoSystem system, DemoParticipant participant, DemoRunResult run, DemoConsole console, CancellationToken cancellationToken)
    {
        if (run.Rounds.Count == 0 || run.Participants[participant.Index].Credits == "0")
        {
            console.Line("claim     no honest participant earned credits to claim");
            return null;
        }

        var last = run.Rounds[^1].Round;
        RoundManifest manifest = await new DataDirectoryRoundArtifacts(system.ServerDataDirectory, run.TaskId, last).ReadManifestAsync(cancellationToken).ConfigureAwait(false);
        using var sender = new TransactionSender(system.Devnet.Rpc, participant.Account);
        var claim = await CreditClaims.ClaimAsync(system.Devnet.Ledger, sender, manifest, participant.Account.Address, cancellationToken).ConfigureAwait(false);
        console.Line("");
        console.Line($"claim     participant {participant.Index} claimed {claim.Paid:N0} credits of task '{run.TaskId}' for {claim.Account} with a Merkle proof into round {last}'s credits root");
        console.Line($"          tx {claim.TransactionHash} (block {claim.BlockNumber}); on-chain credit balance {claim.Balance:N0}");
        return new DemoClaimResult(
            participant.Index, claim.Account.ToString(), claim.Paid.ToString(CultureInfo.InvariantCulture), claim.CumulativeAmount.ToString(CultureInfo.InvariantCulture),
            claim.TransactionHash.ToString(), claim.BlockNumber, claim.Balance.ToString(CultureInfo.InvariantCulture));
    }
}
