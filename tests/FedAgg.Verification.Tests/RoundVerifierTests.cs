using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Aggregation;
using FedAgg.Chain.Ledger;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Verification.Tests.Support;

namespace FedAgg.Verification.Tests;

/// <summary>
/// Rounds built with the real libraries (Ed25519 participants, the update store, the aggregation engine, fedavg and
/// fedavgm, the model stores, the credit split, both trees, anchoring on a real anvil) verify on every check; each
/// tampering is caught by the check that owns it and by no other.
/// </summary>
public sealed class RoundWorldFixture : IAsyncLifetime
{
    public const string MeanTask = "verify/mean";
    public const string MomentumTask = "verify/momentum";
    public const string WrongAnchorTask = "verify/wrong-anchor";

    internal RoundWorld World { get; private set; } = null!;

    internal PublishedRound Mean { get; private set; } = null!;

    internal float[] MeanParent { get; private set; } = [];

    internal float[][] MeanDeltas { get; private set; } = [];

    internal IReadOnlyList<Participant> MeanParticipants { get; private set; } = [];

    internal PublishedRound Momentum1 { get; private set; } = null!;

    internal PublishedRound Momentum2 { get; private set; } = null!;

    internal PublishedRound WrongAnchor { get; private set; } = null!;

    public static TaskSettings Settings(string taskId, AggregationRule rule, OuterOptimizer optimizer) => new()
    {
        TaskId = taskId,
        Model = new ModelSpec([new TensorSpec("layer.weight", [3, 4]), new TensorSpec("layer.bias", [4])]),
        Rule = rule.ToRuleSpec(),
        Optimizer = optimizer.ToOptimizerSpec(),
        CreditsPerRound = 1000,
        MinParticipants = 3,
        MaxParticipants = 10,
        RoundDurationSeconds = 600,
    };

    public async Task InitializeAsync()
    {
        World = await RoundWorld.CreateAsync();

        var mean = Settings(MeanTask, new MeanRule(), new FedAvgOptimizer());
        MeanParticipants = RoundWorld.Participants(5, unbound: 4);
        MeanParent = RoundWorld.Deltas(1, mean.Model.NumElements, 7)[0];
        MeanDeltas = RoundWorld.Deltas(5, mean.Model.NumElements, 11);
        Mean = await PublishFirstRoundAsync(mean, MeanParent, MeanParticipants, MeanDeltas);

        var momentum = Settings(MomentumTask, new MultiKrumRule(1), new FedAvgMOptimizer(1.0, 0.9));
        var participants = RoundWorld.Participants(5);
        var initial = RoundWorld.Deltas(1, momentum.Model.NumElements, 8)[0];
        Momentum1 = await PublishFirstRoundAsync(momentum, initial, participants, RoundWorld.Deltas(5, momentum.Model.NumElements, 12));
        var submissions = new List<RoundSubmission>();
        var deltas = RoundWorld.Deltas(5, momentum.Model.NumElements, 13);
        for (var i = 0; i < participants.Count; i++)
        {
            submissions.Add(await World.SubmitAsync(participants[i], momentum, 2, Momentum1.Manifest.ModelHash, deltas[i]));
        }

        Momentum2 = await World.PublishAsync(World.Input(momentum, 2, Momentum1.Manifest.ModelHash, Momentum1.Model, Momentum1, submissions));

        var wrong = Settings(WrongAnchorTask, new MeanRule(), new FedAvgOptimizer(0.5));
        var wrongInitial = RoundWorld.Deltas(1, wrong.Model.NumElements, 9)[0];
        WrongAnchor = await PublishFirstRoundAsync(wrong, wrongInitial, RoundWorld.Participants(3), RoundWorld.Deltas(3, wrong.Model.NumElements, 14),
            anchor => anchor with { CreditsRoot = new Bytes32(SHA256.HashData("not the credits"u8)) });
    }

    public async Task DisposeAsync() => await World.DisposeAsync();

    private async Task<PublishedRound> PublishFirstRoundAsync(
        TaskSettings settings, float[] initial, IReadOnlyList<Participant> participants, float[][] deltas, Func<RoundAnchor, RoundAnchor>? tamperAnchor = null)
    {
        var initialHash = await World.PutModelAsync(settings, initial);
        await World.RegisterAsync(settings, initialHash);
        var submissions = new List<RoundSubmission>();
        for (var i = 0; i < participants.Count; i++)
        {
            submissions.Add(await World.SubmitAsync(participants[i], settings, 1, initialHash, deltas[i]));
        }

        return await World.PublishAsync(World.Input(settings, 1, initialHash, initial, null, submissions), tamperAnchor: tamperAnchor);
    }
}

[Trait("Category", "Chain")]
public sealed class RoundVerifierTests(RoundWorldFixture fixture) : IClassFixture<RoundWorldFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private RoundWorld World => fixture.World;

    [Fact]
    public async Task VerifyAsync_HonestRoundWithChain_EveryCheckPasses()
    {
        var checks = await VerifyAsync(World.Artifacts(RoundWorldFixture.MeanTask, 1), World.Chain);

        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Outcome} {c.Detail}"));
        var names = checks.Select(static c => c.Name).ToHashSet();
        foreach (var expected in new[]
        {
            "manifest", "settingsHash", "update[0].preimage", "update[4].signature", "update[4].peerId", "update[4].receipt", "update[4].payload",
            "update[0].binding", "receipts", "updatesRoot", "parentModel", "modelHash", "optimizerStateHash", "aggregation",
            "credits.split", "credits.cumulative", "creditsRoot", "chain.roundCommitment", "chain.anchorEvent",
        })
        {
            Assert.Contains(expected, names);
        }

        Assert.DoesNotContain("update[4].binding", names);
    }

    [Fact]
    public void HonestRound_MeanAndFedAvg_ModelHashIsTheScalarReference()
    {
        // Independent of the engine: mean = f32(dsum / n) per coordinate, then θ = f32(θ + 1·Δ), hashed as float32 LE.
        var parent = fixture.MeanParent;
        var deltas = fixture.MeanDeltas;
        var model = new float[parent.Length];
        for (var c = 0; c < parent.Length; c++)
        {
            var sum = 0.0;
            foreach (var delta in deltas)
            {
                sum += delta[c];
            }

            var mean = (float)(sum / deltas.Length);
            model[c] = (float)(parent[c] + (1.0 * mean));
        }

        var manifest = fixture.Mean.Manifest;
        Assert.Equal(new Bytes32(SHA256.HashData(MemoryMarshal.AsBytes(model.AsSpan()))), manifest.ModelHash);
        Assert.All(manifest.Updates, u => Assert.Equal(new BigInteger(200), u.Credit));
        Assert.Equal(4, manifest.Credits.Count);
        Assert.All(manifest.Credits, c => Assert.Equal(new BigInteger(200), c.CumulativeAmount));
        Assert.Equal(
            fixture.MeanParticipants.Where(static p => p.Address is not null).Select(static p => Convert.ToHexStringLower(p.Address!)).Order(StringComparer.Ordinal),
            manifest.Credits.Select(static c => Convert.ToHexStringLower(c.Account.Span)));
    }

    [Fact]
    public async Task VerifyAsync_TwoFedAvgMRounds_BothVerifyAndCarryStateAndCredits()
    {
        var first = await VerifyAsync(World.Artifacts(RoundWorldFixture.MomentumTask, 1), World.Chain);
        var second = await VerifyAsync(World.Artifacts(RoundWorldFixture.MomentumTask, 2), World.Chain);

        Assert.All(first.Concat(second), c => Assert.True(c.Passed, $"{c.Name}: {c.Outcome} {c.Detail}"));
        Assert.Contains(second, static c => c.Name == "previousRound");
        Assert.Contains(second, static c => c.Name == "previousOptimizerState");
        var m1 = fixture.Momentum1.Manifest;
        var m2 = fixture.Momentum2.Manifest;
        Assert.NotNull(m1.OptimizerStateHash);
        Assert.NotEqual(m1.OptimizerStateHash, m2.OptimizerStateHash);
        Assert.Equal(4, m1.Aggregation.Selected.Count);
        Assert.Equal(2 * 1000, m2.Credits.Select(static c => c.CumulativeAmount).Sum());
        Assert.All(m2.Updates, u => Assert.NotNull(u.Score));
    }

    [Fact]
    public async Task VerifyAsync_FlippedPayloadByte_OnlyThatPayloadFails()
    {
        var target = fixture.Mean.Manifest.Updates[2].UpdateId;
        var checks = await VerifyAsync(new TamperedArtifacts(World.Artifacts(RoundWorldFixture.MeanTask, 1), flipPayloadOf: target), World.Chain);

        AssertFailures(checks, "update[2].payload");
        Assert.Equal(CheckOutcome.Skip, checks.Single(static c => c.Name == "modelHash").Outcome);
    }

    [Fact]
    public async Task VerifyAsync_ForgedSignature_OnlyThatSignatureFails()
    {
        using var forger = Ed25519PrivateKey.Generate();
        var checks = await VerifyTamperedAsync(m => Replace(m, 1, u => u with { Signature = forger.Sign(u.Preimage.Span) }));

        AssertFailures(checks, "update[1].signature");
    }

    [Fact]
    public async Task VerifyAsync_WrongReceiptSignature_OnlyThatReceiptFails()
    {
        var checks = await VerifyTamperedAsync(m => Replace(m, 3, u =>
        {
            Assert.True(SubmitReceipt.TryDecode(u.Receipt.Span, out var receipt, out _));
            var signature = receipt.ServerSignature.ToArray();
            signature[10] ^= 0x40;
            return u with { Receipt = (receipt with { ServerSignature = signature }).Encode() };
        }));

        AssertFailures(checks, "update[3].receipt");
    }

    [Fact]
    public async Task VerifyAsync_UpdateDroppedFromAConsistentManifest_OnlyTheReceiptSequenceFails()
    {
        // A server that leaves out a receipted update and recomputes everything else consistently: only the gap in the
        // receipts' sequence numbers gives it away.
        var input = fixture.Mean.Input;
        var dropped = RoundAssembler.Assemble(input with { Submissions = [.. input.Submissions.Where((_, i) => i != 2)] }).Manifest;

        var checks = await VerifyTamperedAsync(_ => dropped, chain: false);

        AssertFailures(checks, "receipts");
    }

    [Fact]
    public async Task VerifyAsync_CreditMovedBetweenParticipants_OnlyTheSplitFails()
    {
        var checks = await VerifyTamperedAsync(m =>
        {
            m = Replace(m, 0, u => u with { Credit = u.Credit - 1 });
            m = Replace(m, 1, u => u with { Credit = u.Credit + 1 });
            var credits = RoundComputation.AccumulateCredits([], m.Updates.Where(static u => u.Accepted && !u.BoundAddress.IsEmpty).Select(static u => (u.BoundAddress, u.Credit)));
            return m with { Credits = credits, CreditsRoot = RoundComputation.ComputeCreditsRoot(credits) };
        }, chain: false);

        AssertFailures(checks, "credits.split");
    }

    [Fact]
    public async Task VerifyAsync_ModelHashOffByOneBit_OnlyModelHashFails()
    {
        var checks = await VerifyTamperedAsync(m =>
        {
            var bytes = m.ModelHash.ToArray();
            bytes[31] ^= 0x01;
            return m with { ModelHash = new Bytes32(bytes) };
        }, chain: false);

        AssertFailures(checks, "modelHash");
    }

    [Fact]
    public async Task VerifyAsync_ChangedSetting_OnlySettingsHashFailsAndTheReRunIsSkipped()
    {
        var checks = await VerifyTamperedAsync(m => m with { Settings = m.Settings with { Optimizer = new OptimizerSpec("fedavg") { Eta = 0.5 } } }, chain: false);

        AssertFailures(checks, "settingsHash");
        Assert.Equal(CheckOutcome.Skip, checks.Single(static c => c.Name == "modelHash").Outcome);
    }

    [Fact]
    public async Task VerifyAsync_DifferentOnChainCommitment_OnlyTheChainChecksFail()
    {
        var checks = await VerifyAsync(World.Artifacts(RoundWorldFixture.WrongAnchorTask, 1), World.Chain);

        AssertFailures(checks, "chain.roundCommitment", "chain.anchorEvent");
    }

    [Fact]
    public async Task VerifyAsync_ManifestOfAnotherRound_FailsManifestCheck()
    {
        var checks = await VerifyTamperedAsync(m => m with { Round = 2 }, chain: false);

        Assert.Contains(checks, static c => c.Name == "manifest" && c.Outcome == CheckOutcome.Fail);
    }

    [Fact]
    public async Task VerifyAsync_MissingManifest_OneFailedManifestCheck()
    {
        var checks = await VerifyAsync(World.Artifacts("verify/no-such-task", 1), null);

        var check = Assert.Single(checks);
        Assert.Equal("manifest", check.Name);
        Assert.Equal(CheckOutcome.Fail, check.Outcome);
    }

    private static RoundManifest Replace(RoundManifest manifest, int index, Func<RoundUpdate, RoundUpdate> change)
    {
        var updates = manifest.Updates.ToArray();
        updates[index] = change(updates[index]);
        return manifest with { Updates = updates };
    }

    private static void AssertFailures(IReadOnlyList<VerificationCheck> checks, params string[] expected)
    {
        var failed = checks.Where(static c => c.Outcome == CheckOutcome.Fail).Select(static c => c.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(failed),
            $"expected exactly [{string.Join(", ", expected)}] to fail, got:\n{string.Join("\n", checks.Where(static c => !c.Passed).Select(static c => $"{c.Outcome} {c.Name}: {c.Detail}"))}");
    }

    private Task<IReadOnlyList<VerificationCheck>> VerifyTamperedAsync(Func<RoundManifest, RoundManifest> change, bool chain = true) =>
        VerifyAsync(new TamperedArtifacts(World.Artifacts(RoundWorldFixture.MeanTask, 1), change), chain ? World.Chain : null);

    private static async Task<IReadOnlyList<VerificationCheck>> VerifyAsync(IRoundArtifacts artifacts, RoundChain? chain)
    {
        using var cancellation = new CancellationTokenSource(Timeout);
        return await new RoundVerifier().VerifyAsync(artifacts, chain, cancellation.Token);
    }
}
