using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.TestKit.Time;

namespace FedAgg.Core.Tests.Updates;

public sealed class UpdateVerifierTests : IDisposable
{
    private readonly Ed25519PrivateKey _participant = Ed25519PrivateKey.Generate();
    private readonly ManualTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_000));
    private readonly UpdatePreimage _preimage = UpdateSamples.Preimage();

    public void Dispose() => _participant.Dispose();

    private SubmissionTarget Target => new()
    {
        TaskId = _preimage.TaskId,
        ChainId = _preimage.ChainId,
        Ledger = _preimage.Ledger,
        Codec = _preimage.Codec,
        NumElements = _preimage.NumElements,
        OpenRound = _preimage.Round,
        OpenRoundBaseModelHash = _preimage.BaseModelHash,
        MaxPayloadBytes = 1 << 20,
    };

    [Fact]
    public void Check_ValidUpdate_Passes()
    {
        var submission = Decode(SubmitRequest.Create(_preimage, _participant));

        Assert.True(new UpdateVerifier(_time).Check(submission, Target).IsPassed);
        Assert.Equal(UpdatePreimage.ComputeUpdateId(_preimage.Encode()), submission.UpdateId.ToArray());
    }

    [Fact]
    public void TryDecode_KeyOfAnotherPeer_PeerMismatch()
    {
        using var connection = Ed25519PrivateKey.Generate();
        var request = SubmitRequest.Create(_preimage, _participant);

        Assert.False(UpdateVerifier.TryDecode(request, connection.PeerId, out _, out var rejection));
        Assert.Equal(SubmitStatus.PeerMismatch, rejection.Status);
        Assert.Contains(connection.PeerId.ToString(), rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_GarbageKeyOrPreimage_Malformed()
    {
        var request = SubmitRequest.Create(_preimage, _participant);

        Assert.False(UpdateVerifier.TryDecode(request with { PublicKey = new byte[] { 8, 2 } }, _participant.PeerId, out _, out var badKey));
        Assert.Equal(SubmitStatus.Malformed, badKey.Status);
        Assert.False(UpdateVerifier.TryDecode(request with { Preimage = request.Preimage[..50] }, _participant.PeerId, out _, out var badPreimage));
        Assert.Equal(SubmitStatus.Malformed, badPreimage.Status);
    }

    [Fact]
    public void Check_SignatureFromAnotherKey_BadSignature()
    {
        using var other = Ed25519PrivateKey.Generate();
        var request = SubmitRequest.Create(_preimage, _participant) with { Signature = other.Sign(_preimage.Encode()) };

        Assert.Equal(SubmitStatus.BadSignature, new UpdateVerifier(_time).Check(Decode(request), Target).Status);
    }

    [Fact]
    public void Check_PreimageChangedAfterSigning_BadSignature()
    {
        var signed = SubmitRequest.Create(_preimage, _participant);
        var altered = SubmitRequest.Create(_preimage with { NumSamples = 1 }, _participant) with { Signature = signed.Signature };

        Assert.Equal(SubmitStatus.BadSignature, new UpdateVerifier(_time).Check(Decode(altered), Target).Status);
    }

    public static TheoryData<string, SubmitStatus> TargetMismatches => new()
    {
        { "no task", SubmitStatus.UnknownTask },
        { "chain", SubmitStatus.WrongChain },
        { "ledger", SubmitStatus.WrongChain },
        { "closed", SubmitStatus.RoundNotOpen },
        { "next round", SubmitStatus.RoundNotOpen },
        { "base model", SubmitStatus.StaleBaseModel },
        { "elements", SubmitStatus.ShapeMismatch },
        { "codec", SubmitStatus.ShapeMismatch },
        { "limit", SubmitStatus.TooLarge },
    };

    [Theory]
    [MemberData(nameof(TargetMismatches))]
    public void Check_TargetMismatch_PreciseStatus(string mismatch, SubmitStatus expected)
    {
        var target = Target;
        target = mismatch switch
        {
            "no task" => null,
            "chain" => target with { ChainId = 1 },
            "ledger" => target with { Ledger = new byte[20] },
            "closed" => target with { OpenRound = null },
            "next round" => target with { OpenRound = _preimage.Round + 1 },
            "base model" => target with { OpenRoundBaseModelHash = new byte[32] },
            "elements" => target with { NumElements = _preimage.NumElements + 1 },
            "codec" => target with { Codec = PayloadCodec.Float16 },
            "limit" => target with { MaxPayloadBytes = 3999 },
            _ => throw new ArgumentOutOfRangeException(nameof(mismatch)),
        };

        var check = new UpdateVerifier(_time).Check(Decode(SubmitRequest.Create(_preimage, _participant)), target);

        Assert.Equal(expected, check.Status);
        Assert.False(string.IsNullOrWhiteSpace(check.Reason));
    }

    [Fact]
    public void Check_ExpiryIsInclusiveOfItsMillisecond()
    {
        var verifier = new UpdateVerifier(_time);
        var submission = Decode(SubmitRequest.Create(_preimage with { ExpiresUnixMs = 1_900_000_000_000 }, _participant));

        Assert.True(verifier.Check(submission, Target).IsPassed);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(SubmitStatus.Expired, verifier.Check(submission, Target).Status);
    }

    [Fact]
    public void Check_UnsignedAndWrongTargetTogether_ReportsTheCheapCheckFirst()
    {
        // A junk update for a closed round is refused before the (costly) signature check runs.
        var request = SubmitRequest.Create(_preimage, _participant) with { Signature = new byte[64] };

        Assert.Equal(SubmitStatus.RoundNotOpen, new UpdateVerifier(_time).Check(Decode(request), Target with { OpenRound = null }).Status);
    }

    private DecodedSubmission Decode(SubmitRequest request)
    {
        Assert.True(UpdateVerifier.TryDecode(request, _participant.PeerId, out var submission, out var rejection), rejection.Reason);
        return submission;
    }
}
