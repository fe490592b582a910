using System.Diagnostics.CodeAnalysis;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Core.Updates;

/// <summary>A request whose key and preimage decoded, from the connection's peer.</summary>
/// <param name="Request">The request as received.</param>
/// <param name="Preimage">The parsed preimage.</param>
/// <param name="UpdateId">SHA-256 of the preimage bytes.</param>
/// <param name="Signer">The participant's key (already checked to be the connection's peer).</param>
public sealed record DecodedSubmission(SubmitRequest Request, UpdatePreimage Preimage, ReadOnlyMemory<byte> UpdateId, Ed25519PublicKey Signer)
{
    /// <summary>The update's ID as 0x-hex.</summary>
    public string UpdateIdHex => Hex.Encode(UpdateId.Span);
}

/// <summary>The result of a check: <see cref="SubmitStatus.Accepted"/> means "passed so far".</summary>
/// <param name="Status">The status to answer with when it is not <see cref="SubmitStatus.Accepted"/>.</param>
/// <param name="Reason">Why, for people.</param>
public readonly record struct SubmissionCheck(SubmitStatus Status, string Reason)
{
    /// <summary>The check passed.</summary>
    public static SubmissionCheck Passed => new(SubmitStatus.Accepted, "");

    /// <summary>Whether the check passed.</summary>
    public bool IsPassed => Status == SubmitStatus.Accepted;
}

/// <summary>
/// The stateless checks of a submitted update, in two steps so the caller can answer an idempotent retry (a known
/// updateId) between them: <see cref="TryDecode"/> (decoding, the key is the connection's peer) and
/// <see cref="Check"/> (the task, chain, round, base model, expiry, shape, size, and last the signature, the costly part).
/// </summary>
public sealed class UpdateVerifier
{
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a verifier reading the time from <paramref name="timeProvider"/> (expiry).</summary>
    public UpdateVerifier(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// Decodes the key and the preimage and checks the key is <paramref name="connectionPeer"/>'s. On failure
    /// <paramref name="rejection"/> holds <see cref="SubmitStatus.Malformed"/> or <see cref="SubmitStatus.PeerMismatch"/>.
    /// </summary>
    public static bool TryDecode(
        SubmitRequest request, PeerId connectionPeer, [NotNullWhen(true)] out DecodedSubmission? submission, out SubmissionCheck rejection)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(connectionPeer);
        submission = null;
        if (!Ed25519PublicKey.TryFromProtobuf(request.PublicKey.Span, out var signer, out var keyError))
        {
            rejection = new(SubmitStatus.Malformed, $"publicKey: {keyError}");
            return false;
        }

        if (!signer.PeerId.Equals(connectionPeer))
        {
            rejection = new(SubmitStatus.PeerMismatch, $"the update is signed by {signer.PeerId}, but the connection is from {connectionPeer}");
            return false;
        }

        if (!UpdatePreimage.TryParse(request.Preimage.Span, out var preimage, out var preimageError))
        {
            rejection = new(SubmitStatus.Malformed, preimageError);
            return false;
        }

        submission = new DecodedSubmission(request, preimage, UpdatePreimage.ComputeUpdateId(request.Preimage.Span), signer);
        rejection = SubmissionCheck.Passed;
        return true;
    }

    /// <summary>
    /// Checks <paramref name="submission"/> against the task's current <paramref name="target"/> (<c>null</c>: no such
    /// task), in this order: task, chain and ledger, round, base model, expiry, shape, size, signature.
    /// </summary>
    public SubmissionCheck Check(DecodedSubmission submission, SubmissionTarget? target)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var p = submission.Preimage;
        if (target is null)
        {
            return new(SubmitStatus.UnknownTask, $"there is no task '{p.TaskId}'");
        }

        if (p.ChainId != target.ChainId || !p.Ledger.Span.SequenceEqual(target.Ledger.Span))
        {
            return new(SubmitStatus.WrongChain,
                $"the update is for chain {p.ChainId} ledger {Hex.Encode(p.Ledger.Span)}, this server anchors on chain {target.ChainId} ledger {Hex.Encode(target.Ledger.Span)}");
        }

        if (target.OpenRound != p.Round)
        {
            return new(SubmitStatus.RoundNotOpen, target.OpenRound is { } open
                ? $"round {p.Round} is not open (round {open} is)"
                : $"round {p.Round} is not open (no round of task '{p.TaskId}' is)");
        }

        if (!p.BaseModelHash.Span.SequenceEqual(target.OpenRoundBaseModelHash.Span))
        {
            return new(SubmitStatus.StaleBaseModel,
                $"the update was computed from model {Hex.Encode(p.BaseModelHash.Span)}, round {p.Round} starts from {Hex.Encode(target.OpenRoundBaseModelHash.Span)}");
        }

        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (now < 0 || p.ExpiresUnixMs < (ulong)now)
        {
            return new(SubmitStatus.Expired, $"the update expired at {p.ExpiresUnixMs} (now {now}, Unix ms)");
        }

        if (p.Codec != target.Codec || p.NumElements != target.NumElements)
        {
            return new(SubmitStatus.ShapeMismatch,
                $"the update has {p.NumElements} {p.Codec.ToWireName()} elements, the task's model has {target.NumElements} {target.Codec.ToWireName()}");
        }

        if (p.PayloadLength is not { } length || length > target.MaxPayloadBytes)
        {
            return new(SubmitStatus.TooLarge, $"the payload would be {p.NumElements} × {p.Codec.ElementSize()} bytes, more than the limit of {target.MaxPayloadBytes}");
        }

        if (!submission.Signer.Verify(submission.Request.Preimage.Span, submission.Request.Signature.Span))
        {
            return new(SubmitStatus.BadSignature, $"the signature does not verify with the key of {submission.Signer.PeerId}");
        }

        return SubmissionCheck.Passed;
    }
}
