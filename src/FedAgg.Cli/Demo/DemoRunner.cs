using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using FedAgg.Attacks;
using FedAgg.Client;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Node;
using FedAgg.Training;
using FedAgg.Training.Data;
using FedAgg.Training.Models;
using FedAgg.Verification;

namespace FedAgg.Cli.Demo;

/// <summary>Runs one configuration (a rule against an attack) round by round on the shared chain, server and participants.</summary>
internal sealed class DemoRunner(DemoSettings settings, DemoSystem system, FashionMnistData data, IReadOnlyList<DemoParticipant> participants, DemoConsole console)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(3);
    private readonly Mlp _evaluator = new(settings.LayerSizes(data.Train.FeatureCount));

    public Mlp Model => _evaluator;

    public async Task<DemoRunResult> RunAsync(string taskId, string rule, AttackKind attackKind, int rounds, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var n = participants.Count;
        var attack = UpdateAttacks.Create(attackKind);
        var ruleDescription = settings.DescribeRule(rule, n);
        var layers = settings.LayerSizes(data.Train.FeatureCount);
        var initial = new float[_evaluator.ParameterCount];
        _evaluator.Initialize(initial, settings.Seed);
        await system.CreateTaskAsync(Settings(taskId, rule, layers, n), initial, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(participants.Select(p => p.ConnectAsync(system, taskId, cancellationToken))).ConfigureAwait(false);

        // Credits go to a bound Ethereum address (the peer's key signs the binding).
        var ledger = system.Devnet.Ledger.Address.ToArray();
        await Task.WhenAll(participants.Select(p => p.Node.BindAddressAsync(system.Devnet.Chain.ChainId, ledger, p.Account.Address, cancellationToken))).ConfigureAwait(false);
        foreach (var participant in participants)
        {
            participant.History.Clear();
        }

        var attackers = participants.Count(p => p.IsByzantine);
        console.RunHeader(taskId, ruleDescription, attackKind, n, attackers, rounds, _evaluator);
        var results = new List<DemoRoundResult>();
        var credits = new BigInteger[n];
        var acceptedCounts = new int[n];
        var rejectedCounts = new int[n];
        string? error = null;
        try
        {
            for (ulong round = 1; round <= (ulong)rounds; round++)
            {
                var result = await RunRoundAsync(taskId, round, attack, credits, acceptedCounts, rejectedCounts, cancellationToken).ConfigureAwait(false);
                results.Add(result);
                console.Round(result);
            }
        }
        catch (Exception e) when (e is DemoException or ParticipantNodeException or FedAggProtocolException or Chain.ChainException)
        {
            error = e.Message;
            console.RunFailed(taskId, e.Message);
        }

        var total = credits.Aggregate(BigInteger.Zero, static (sum, c) => sum + c);
        var byzantineCredits = participants.Where(p => p.IsByzantine).Aggregate(BigInteger.Zero, (sum, p) => sum + credits[p.Index]);
        return new DemoRunResult
        {
            TaskId = taskId,
            Rule = rule,
            RuleDescription = ruleDescription,
            Attack = AttackKinds.CliName(attackKind),
            Nodes = n,
            Byzantine = attackers,
            AssumedF = settings.AssumedF,
            Rounds = results,
            Participants = [.. participants.Select(p => new DemoParticipantResult(
                p.Index, p.PeerId, p.IsByzantine, p.IsByzantine ? AttackKinds.CliName(attackKind) : "honest", p.Account.Address.ToString(),
                credits[p.Index].ToString(CultureInfo.InvariantCulture), Share(credits[p.Index], total), acceptedCounts[p.Index], rejectedCounts[p.Index]))],
            FinalAccuracy = results.Count > 0 ? results[^1].Accuracy : 0,
            ByzantineCreditShare = Share(byzantineCredits, total),
            AllVerified = error is null && results.All(static r => r.Verified && r.InclusionPassed == r.InclusionChecked),
            Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            Error = error,
        };
    }

    private TaskSettings Settings(string taskId, string rule, int[] layers, int n)
    {
        var tensors = new List<TensorSpec>();
        for (var l = 1; l < layers.Length; l++)
        {
            tensors.Add(new TensorSpec($"fc{l}.weight", [layers[l], layers[l - 1]]));
            tensors.Add(new TensorSpec($"fc{l}.bias", [layers[l]]));
        }

        return new TaskSettings
        {
            TaskId = taskId,
            Model = new ModelSpec(tensors),
            Codec = PayloadCodec.Float32,
            Rule = settings.RuleSpecFor(rule, n),
            Optimizer = new OptimizerSpec("fedavg") { Eta = 1.0 },
            CreditsPerRound = 1_000_000,
            MinParticipants = 1,
            MaxParticipants = n,
            RoundDurationSeconds = 3600,
            Admission = AdmissionPolicy.Open,
        };
    }

    private async Task<DemoRoundResult> RunRoundAsync(
        string taskId, ulong round, IUpdateAttack attack, BigInteger[] credits, int[] acceptedCounts, int[] rejectedCounts, CancellationToken cancellationToken)
    {
        var n = participants.Count;

        // Every participant fetches the open round's model over libp2p (checked against its hash).
        var models = await FetchModelsAsync(round, cancellationToken).ConfigureAwait(false);
        var baseModel = models[0].ToFloats();

        // Train: honest participants, and attackers whose attack starts from their own (possibly label-flipped) update.
        var trainClock = Stopwatch.GetTimestamp();
        var trained = new TrainedUpdate?[n];
        var toTrain = participants.Where(p => !p.IsByzantine || attack.Inputs.HasFlag(AttackInputs.OwnUpdate) || attack.Kind == AttackKind.Replay).ToArray();
        Parallel.ForEach(
            toTrain,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Threads), CancellationToken = cancellationToken },
            p => trained[p.Index] = ParticipantNode.Train(p.Trainer, baseModel, TrainingOptions(p, round, attack), cancellationToken));
        var trainSeconds = Stopwatch.GetElapsedTime(trainClock).TotalSeconds;

        // Attack: the omniscient attacks see the round's honest updates (in-process coordination, as in the papers).
        var honest = participants.Where(p => !IsAttacking(p, attack)).ToArray();
        var honestUpdates = honest.Select(p => (ReadOnlyMemory<float>)trained[p.Index]!.Update).ToArray();
        var payloads = new float[n][];
        var attackerNumber = 0;
        foreach (var p in participants)
        {
            payloads[p.Index] = IsAttacking(p, attack) ? Attack(p, round, attack, baseModel, trained[p.Index], honest, honestUpdates, attackerNumber++) : trained[p.Index]!.Update;
        }

        // Submit: every participant signs its update and sends it (retries resend the same signed bytes).
        var submitClock = Stopwatch.GetTimestamp();
        var submissions = await Task.WhenAll(participants.Select(p =>
        {
            var update = p.Node.Prepare(models[p.Index].Response, payloads[p.Index], (ulong)(trained[p.Index]?.Training.SamplesSeen ?? 0));
            return p.Node.SubmitAsync(update, cancellationToken);
        })).ConfigureAwait(false);
        var submitSeconds = Stopwatch.GetElapsedTime(submitClock).TotalSeconds;
        for (var i = 0; i < n; i++)
        {
            if (submissions[i].Stored)
            {
                participants[i].History.Add(payloads[i]);
            }
        }

        // The round closes by itself once all n are accepted; if the server refused some, the coordinator closes it.
        var aggregateClock = Stopwatch.GetTimestamp();
        var accepted = submissions.Count(static s => s.Outcome.Receipt.Status == SubmitStatus.Accepted);
        if (accepted == 0)
        {
            throw new DemoException($"the server refused every update of round {round}: {submissions[0].Outcome.Receipt.Status} {submissions[0].Outcome.Receipt.Reason}");
        }

        if (accepted < n)
        {
            await system.CloseRoundAsync(taskId, round, "demo: every participant has answered").ConfigureAwait(false);
        }

        await system.WaitPublishedAsync(taskId, round, PublishTimeout, cancellationToken).ConfigureAwait(false);
        var aggregateSeconds = Stopwatch.GetElapsedTime(aggregateClock).TotalSeconds;

        // Verify: each participant checks its own inclusion proof and the anchor; then the whole round is re-run bit-exactly.
        var verifyClock = Stopwatch.GetTimestamp();
        var manifest = await participants[0].Node.FetchManifestAsync(round, cancellationToken).ConfigureAwait(false)
            ?? throw new DemoException($"round {round} is published but the server serves no manifest for it");
        var stored = participants.Where(p => submissions[p.Index].Stored).ToArray();
        var inclusions = await Task.WhenAll(stored.Select(p => p.Node.CheckInclusionAsync(round, manifest, system.Devnet.Ledger, cancellationToken))).ConfigureAwait(false);
        var checks = await new RoundVerifier().VerifyAsync(
            new DataDirectoryRoundArtifacts(system.ServerDataDirectory, taskId, round),
            new RoundChain(system.Devnet.Rpc, system.Devnet.Ledger.Address),
            cancellationToken).ConfigureAwait(false);
        var verifySeconds = Stopwatch.GetElapsedTime(verifyClock).TotalSeconds;
        var failed = checks.Where(static c => !c.Passed).ToArray();
        var verified = failed.Length == 0;

        // Evaluate the new global model on the test set.
        var evaluateClock = Stopwatch.GetTimestamp();
        var next = await participants[0].Node.Client.FetchModelAsync(taskId, manifest.ModelHash.ToArray(), cancellationToken).ConfigureAwait(false);
        var model = next.ToFloats();
        var evaluation = _evaluator.Evaluate(model, data.Test);
        var evaluateSeconds = Stopwatch.GetElapsedTime(evaluateClock).TotalSeconds;

        return Summarise(round, manifest, submissions, inclusions, verified, failed, credits, acceptedCounts, rejectedCounts) with
        {
            Accuracy = evaluation.Accuracy,
            Loss = evaluation.MeanLoss,
            TrainSeconds = trainSeconds,
            SubmitSeconds = submitSeconds,
            AggregateAnchorSeconds = aggregateSeconds,
            VerifySeconds = verifySeconds,
            EvaluateSeconds = evaluateSeconds,
            SamplesTrained = trained.Sum(static t => t?.Training.SamplesSeen ?? 0),
            TrainLoss = honest.Length == 0 ? 0 : honest.Average(p => trained[p.Index]!.Training.MeanLoss),
            HonestUpdateNorm = honestUpdates.Length == 0 ? 0 : honestUpdates.Average(static u => (double)TensorPrimitives.Norm(u.Span)),
            AggregateNorm = Distance(model, baseModel),
        };
    }

    private async Task<ModelDownload[]> FetchModelsAsync(ulong round, CancellationToken cancellationToken)
    {
        // The server opens the next round as it publishes; a participant that asks a moment too early asks again.
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var models = await Task.WhenAll(participants.Select(p => p.Node.FetchModelAsync(cancellationToken))).ConfigureAwait(false);
            if (models.All(m => m.Response.OpenRound == round && m.Response.ModelHash.Span.SequenceEqual(models[0].Response.ModelHash.Span)))
            {
                return models;
            }

            if (models.Any(m => m.Response.OpenRound > round))
            {
                throw new DemoException($"the server has round {models.Max(static m => m.Response.OpenRound)} open; the demo expected round {round}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken).ConfigureAwait(false);
        }

        throw new DemoException($"round {round} did not open");
    }

    private LocalTrainingOptions TrainingOptions(DemoParticipant participant, ulong round, IUpdateAttack attack) => new()
    {
        LocalSteps = settings.LocalSteps,
        BatchSize = settings.BatchSize,
        Optimizer = OptimizerKind.AdamW,
        LearningRate = settings.LearningRate,
        Seed = participant.Seed ^ round,
        LabelMap = participant.IsByzantine && attack.TrainsOnFlippedLabels ? LabelFlip.Map : null,
    };

    private static bool IsAttacking(DemoParticipant participant, IUpdateAttack attack) => participant.IsByzantine && attack.Kind != AttackKind.None;

    private float[] Attack(
        DemoParticipant participant, ulong round, IUpdateAttack attack, float[] baseModel, TrainedUpdate? own,
        DemoParticipant[] honest, ReadOnlyMemory<float>[] honestUpdates, int attackerNumber)
    {
        var context = new AttackContext
        {
            ParticipantId = participant.PeerId,
            Round = round,
            Seed = AttackContext.DeriveSeed(settings.Seed, participant.Index, round),
            HonestUpdate = own?.Update ?? ReadOnlyMemory<float>.Empty,
            BaseModel = baseModel,
            HonestUpdates = honestUpdates,
            TotalParticipants = participants.Count,
            ByzantineCount = participants.Count(static p => p.IsByzantine),
            OwnEarlierUpdates = participant.History,
            OtherPayloads = [.. honest.Select((p, i) => new ParticipantUpdate(p.PeerId, honestUpdates[i]))],
        };
        if (!attack.CanProduce(context, out _))
        {
            // Replay has nothing to replay in its first round: it submits its honest update once.
            return own?.Update ?? new float[baseModel.Length];
        }

        var update = attack.Produce(context);
        if (attack.Kind is AttackKind.Alie or AttackKind.Ipm && attackerNumber > 0 && attackerNumber <= update.Length)
        {
            // Colluding attackers send the same vector; each moves one coordinate by one ulp so the server's copy check
            // (status 12: the same bytes as another update) does not catch them, as a real adversary would.
            update[attackerNumber - 1] = MathF.BitIncrement(update[attackerNumber - 1]);
        }

        return update;
    }

    private DemoRoundResult Summarise(
        ulong round, RoundManifest manifest, NodeSubmission[] submissions, InclusionReport[] inclusions, bool verified, VerificationCheck[] failed,
        BigInteger[] credits, int[] acceptedCounts, int[] rejectedCounts)
    {
        var byPeer = participants.ToDictionary(static p => p.PeerId, StringComparer.Ordinal);
        var rejected = new List<DemoRejection>();
        for (var i = 0; i < submissions.Length; i++)
        {
            var receipt = submissions[i].Outcome.Receipt;
            if (!receipt.IsStored)
            {
                rejected.Add(new DemoRejection(i, participants[i].IsByzantine, Status(receipt.Status), receipt.Reason));
                rejectedCounts[i]++;
            }
        }

        var acceptedUpdates = new List<RoundUpdate>();
        BigInteger roundTotal = 0, roundByzantine = 0;
        double contributionTotal = 0, contributionByzantine = 0;
        foreach (var update in manifest.Updates)
        {
            var participant = byPeer.GetValueOrDefault(update.PeerId);
            if (!update.Accepted)
            {
                if (participant is not null)
                {
                    rejected.Add(new DemoRejection(participant.Index, participant.IsByzantine, Status(update.Status), update.Reason));
                    rejectedCounts[participant.Index]++;
                }

                continue;
            }

            acceptedUpdates.Add(update);
            roundTotal += update.Credit;
            contributionTotal += update.Contribution;
            if (participant is not null)
            {
                credits[participant.Index] += update.Credit;
                acceptedCounts[participant.Index]++;
                if (participant.IsByzantine)
                {
                    roundByzantine += update.Credit;
                    contributionByzantine += update.Contribution;
                }
            }
        }

        var selected = manifest.Aggregation.Selected
            .Where(i => i >= 0 && i < acceptedUpdates.Count)
            .Select(i => byPeer.TryGetValue(acceptedUpdates[i].PeerId, out var p) ? p.Index : -1)
            .ToArray();
        return new DemoRoundResult
        {
            Round = round,
            Accuracy = 0,
            Loss = 0,
            Accepted = manifest.AcceptedCount,
            Submitted = submissions.Length,
            Rejected = rejected,
            Selected = selected,
            SelectedByzantine = selected.Count(i => i >= 0 && participants[i].IsByzantine),
            ByzantineContributionShare = contributionTotal > 0 ? contributionByzantine / contributionTotal : 0,
            ByzantineCreditShare = Share(roundByzantine, roundTotal),
            AnchorTx = manifest.AnchorTx?.ToString(),
            ModelHash = manifest.ModelHash.ToString(),
            UpdatesRoot = manifest.UpdatesRoot.ToString(),
            CreditsRoot = manifest.CreditsRoot.ToString(),
            Verified = verified,
            VerifyDetail = verified ? "all checks passed" : string.Join("; ", failed.Select(static c => $"{c.Outcome} {c.Name}: {c.Detail}")),
            InclusionPassed = inclusions.Count(static r => r.Included && r.Anchored == true),
            InclusionChecked = inclusions.Length,
            TrainSeconds = 0,
            SubmitSeconds = 0,
            AggregateAnchorSeconds = 0,
            VerifySeconds = 0,
            EvaluateSeconds = 0,
            SamplesTrained = 0,
            TrainLoss = 0,
            HonestUpdateNorm = 0,
            AggregateNorm = 0,
        };
    }

    public static string Status(SubmitStatus status) => status switch
    {
        SubmitStatus.CopiedPayload => "copied payload",
        SubmitStatus.AlreadySubmitted => "already submitted",
        SubmitStatus.StaleBaseModel => "stale base model",
        SubmitStatus.RoundNotOpen => "round not open",
        SubmitStatus.BadSignature => "bad signature",
        SubmitStatus.NotAdmitted => "not admitted",
        SubmitStatus.RateLimited => "rate limited",
        SubmitStatus.ShapeMismatch => "shape mismatch",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static double Share(BigInteger part, BigInteger total) => total.IsZero ? 0 : (double)part / (double)total;

    private static double Distance(float[] a, float[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = (double)a[i] - b[i];
            sum += d * d;
        }

        return Math.Sqrt(sum);
    }
}
