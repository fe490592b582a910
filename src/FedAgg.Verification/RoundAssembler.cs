using FedAgg.Aggregation;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;

namespace FedAgg.Verification;

/// <summary>A receipted update as the server closes the round with it.</summary>
public sealed record RoundSubmission
{
    /// <summary>The signed preimage bytes.</summary>
    public required ReadOnlyMemory<byte> Preimage { get; init; }

    /// <summary>The participant's signature over the preimage.</summary>
    public required ReadOnlyMemory<byte> Signature { get; init; }

    /// <summary>The participant's key.</summary>
    public required Ed25519PublicKey Signer { get; init; }

    /// <summary>The signed <c>SubmitReceipt</c> protobuf the server sent.</summary>
    public required ReadOnlyMemory<byte> Receipt { get; init; }

    /// <summary><see cref="SubmitStatus.Accepted"/> to include the update; another status leaves it out with <see cref="Reason"/>.</summary>
    public SubmitStatus Status { get; init; } = SubmitStatus.Accepted;

    /// <summary>Why the update is left out (required then).</summary>
    public string Reason { get; init; } = "";

    /// <summary>The address the participant bound for its credits (20 bytes), or empty.</summary>
    public ReadOnlyMemory<byte> BoundAddress { get; init; }

    /// <summary>The participant's <c>FEDAGG-BIND-V1</c> signature for <see cref="BoundAddress"/>, or empty.</summary>
    public ReadOnlyMemory<byte> BindingSignature { get; init; }
}

/// <summary>Everything needed to close a round.</summary>
public sealed record RoundAssemblyInput
{
    /// <summary>The task's settings.</summary>
    public required TaskSettings Settings { get; init; }

    /// <summary>The round, from 1.</summary>
    public required ulong Round { get; init; }

    /// <summary>The chain ID (0 without a chain).</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The ledger address (20 bytes; zeros without a chain).</summary>
    public required ReadOnlyMemory<byte> Ledger { get; init; }

    /// <summary>The server's identity key, which signed the receipts.</summary>
    public required Ed25519PublicKey ServerKey { get; init; }

    /// <summary>The model the round started from.</summary>
    public required Bytes32 ParentModelHash { get; init; }

    /// <summary>Its vector.</summary>
    public required ReadOnlyMemory<float> ParentModel { get; init; }

    /// <summary>The optimizer state after the previous round; null in round 1 (zeros).</summary>
    public IReadOnlyList<float[]>? PreviousState { get; init; }

    /// <summary>The previous round's cumulative credits (empty in round 1).</summary>
    public IReadOnlyList<RoundCredit> PreviousCredits { get; init; } = [];

    /// <summary>Every receipted update, in receipt sequence order.</summary>
    public required IReadOnlyList<RoundSubmission> Submissions { get; init; }

    /// <summary>Opens an accepted update's payload (a readable, seekable stream of the bytes as received) by update ID.</summary>
    public required Func<Bytes32, Stream> OpenPayload { get; init; }
}

/// <summary>A closed round: the manifest (without <c>anchorTx</c> until anchored) and what was computed.</summary>
/// <param name="Manifest">The manifest.</param>
/// <param name="Computation">The new model, its optimizer state, and the aggregation's report.</param>
public sealed record RoundAssembly(RoundManifest Manifest, RoundComputationResult Computation);

/// <summary>
/// Closes a round by the rules <see cref="RoundVerifier"/> checks (docs/PROTOCOL.md, "Round manifest"): the server's
/// side of the contract, so that what it publishes verifies by construction.
/// </summary>
public static class RoundAssembler
{
    /// <summary>Aggregates the accepted updates, applies the optimizer, splits and accumulates credits, builds both roots and the manifest.</summary>
    /// <exception cref="AggregationException">The rule cannot run on the accepted updates.</exception>
    /// <exception cref="ArgumentException">A submission does not parse or the inputs disagree with the settings.</exception>
    public static RoundAssembly Assemble(RoundAssemblyInput input, AggregationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var settings = input.Settings;
        settings.Validate();
        var entries = new List<(RoundSubmission Submission, Bytes32 UpdateId)>();
        foreach (var submission in input.Submissions)
        {
            if (!UpdatePreimage.TryParse(submission.Preimage.Span, out _, out var error))
            {
                throw new ArgumentException($"a submission's preimage does not parse: {error}", nameof(input));
            }

            entries.Add((submission, new Bytes32(UpdatePreimage.ComputeUpdateId(submission.Preimage.Span))));
        }

        var accepted = entries.Where(static e => e.Submission.Status == SubmitStatus.Accepted).ToList();
        var streams = new List<Stream>();
        RoundComputationResult computation;
        try
        {
            foreach (var entry in accepted)
            {
                streams.Add(input.OpenPayload(entry.UpdateId));
            }

            using var source = new PayloadUpdateSource(streams, [.. accepted.Select(static e => e.UpdateId.ToString())], settings.Codec, settings.Model.NumElements);
            streams.Clear();
            computation = RoundComputation.Run(settings, source, input.ParentModel.Span, input.PreviousState, options, cancellationToken);
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        var updates = new List<RoundUpdate>();
        var acceptedIndex = 0;
        foreach (var (submission, updateId) in entries)
        {
            var isAccepted = submission.Status == SubmitStatus.Accepted;
            var index = isAccepted ? acceptedIndex++ : -1;
            updates.Add(new RoundUpdate
            {
                UpdateId = updateId,
                PeerId = submission.Signer.PeerId.ToString(),
                SignerPublicKey = new Bytes32(submission.Signer.Bytes),
                Preimage = submission.Preimage.ToArray(),
                Signature = submission.Signature.ToArray(),
                Receipt = submission.Receipt.ToArray(),
                Accepted = isAccepted,
                Status = submission.Status,
                Reason = isAccepted ? "" : submission.Reason,
                Score = isAccepted ? computation.ScoreOf(index, settings) : null,
                Contribution = isAccepted ? computation.Aggregation.Contributions[index] : 0,
                Credit = isAccepted ? computation.Credits[index] : 0,
                BoundAddress = submission.BoundAddress.ToArray(),
                BindingSignature = submission.BindingSignature.ToArray(),
            });
        }

        var credits = RoundComputation.AccumulateCredits(
            input.PreviousCredits,
            updates.Where(static u => u.Accepted && !u.BoundAddress.IsEmpty).Select(static u => (u.BoundAddress, u.Credit)));
        var manifest = new RoundManifest
        {
            TaskId = settings.TaskId,
            Round = input.Round,
            ChainId = input.ChainId,
            Ledger = input.Ledger.ToArray(),
            ServerPeerId = input.ServerKey.PeerId.ToString(),
            ServerPublicKey = input.ServerKey.ToProtobuf(),
            ParentModelHash = input.ParentModelHash,
            ModelHash = computation.ModelHash,
            OptimizerStateHash = computation.OptimizerStateHash,
            SettingsHash = settings.ComputeHash(),
            Settings = settings,
            UpdatesRoot = RoundComputation.ComputeUpdatesRoot(updates),
            CreditsRoot = RoundComputation.ComputeCreditsRoot(credits),
            Aggregation = new RoundAggregation(
                [.. computation.Aggregation.Selected],
                [.. computation.Aggregation.Excluded.Select(static e => new RoundExclusion(e.Index, e.Reason))]),
            Updates = updates,
            Credits = credits,
        };
        return new RoundAssembly(manifest, computation);
    }
}
