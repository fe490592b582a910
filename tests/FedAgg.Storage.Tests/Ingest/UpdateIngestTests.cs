using System.Security.Cryptography;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.Storage.Ingest;

namespace FedAgg.Storage.Tests.Ingest;

public sealed class UpdateIngestTests
{
    [Fact]
    public async Task Submit_ValidUpdate_DurableAndSignedReceipt()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(1);
        var preimage = fixture.Preimage(payload);

        var receipt = await fixture.SubmitAsync(participant, payload, preimage);

        Assert.Equal(SubmitStatus.Accepted, receipt.Status);
        Assert.True(receipt.VerifyServerSignature(fixture.ServerKey.PeerId));
        Assert.Equal(UpdatePreimage.ComputeUpdateId(preimage.Encode()), receipt.UpdateId.ToArray());
        Assert.Equal(1UL, receipt.Sequence);
        Assert.Equal(1_900_000_000_000UL, receipt.ReceivedUnixMs);
        var stored = Assert.Single(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
        Assert.False(stored.IsCorrupt);
        Assert.Equal(participant.PublicKey.ToProtobuf(), stored.Entry.SignerPublicKey.ToArray());
        var file = fixture.Store.GetPayloadPath(IngestFixture.TaskId, 1, receipt.UpdateId.Span);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(File.ReadAllBytes(file)));
    }

    [Fact]
    public async Task Submit_RetryOfAcceptedUpdate_OriginalReceiptWithoutReadingPayload()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(2);
        var request = SubmitRequest.Create(fixture.Preimage(payload), participant);
        var first = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new MemoryStream(payload));
        fixture.Time.Advance(TimeSpan.FromSeconds(5));

        var retry = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new UnreadableStream());

        Assert.Equal(SubmitStatus.Duplicate, retry.Status);
        Assert.Equal((first.Sequence, first.ReceivedUnixMs), (retry.Sequence, retry.ReceivedUnixMs));
        Assert.Equal(first.ServerSignature.ToArray(), retry.ServerSignature.ToArray());
        Assert.True(retry.VerifyServerSignature(fixture.ServerKey.PeerId));
        Assert.Single(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
    }

    [Fact]
    public async Task Submit_RetryAfterRestartAndRoundClosed_StillOriginalReceipt()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(3);
        var request = SubmitRequest.Create(fixture.Preimage(payload), participant);
        var first = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new MemoryStream(payload));

        await fixture.RestartAsync();
        fixture.Target = fixture.Target with { OpenRound = 2 };
        var retry = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new UnreadableStream());

        Assert.Equal(SubmitStatus.Duplicate, retry.Status);
        Assert.Equal(first.ServerSignature.ToArray(), retry.ServerSignature.ToArray());
    }

    public static TheoryData<string, SubmitStatus> HeaderRejections => new()
    {
        { "other peer", SubmitStatus.PeerMismatch },
        { "garbage key", SubmitStatus.Malformed },
        { "garbage preimage", SubmitStatus.Malformed },
        { "unknown task", SubmitStatus.UnknownTask },
        { "wrong chain", SubmitStatus.WrongChain },
        { "round not open", SubmitStatus.RoundNotOpen },
        { "stale base", SubmitStatus.StaleBaseModel },
        { "expired", SubmitStatus.Expired },
        { "shape", SubmitStatus.ShapeMismatch },
        { "too large", SubmitStatus.TooLarge },
        { "bad signature", SubmitStatus.BadSignature },
    };

    [Theory]
    [MemberData(nameof(HeaderRejections))]
    public async Task Submit_HeaderRejection_AnsweredBeforeThePayloadAndNothingStored(string problem, SubmitStatus expected)
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        using var other = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(4);
        var preimage = fixture.Preimage(payload);
        var request = SubmitRequest.Create(preimage, participant);
        var peer = participant.PeerId;
        switch (problem)
        {
            case "other peer": peer = other.PeerId; break;
            case "garbage key": request = request with { PublicKey = new byte[] { 1, 2, 3 } }; break;
            case "garbage preimage": request = request with { Preimage = new byte[40] }; break;
            case "unknown task": request = SubmitRequest.Create(preimage with { TaskId = "no-such-task" }, participant); break;
            case "wrong chain": request = SubmitRequest.Create(preimage with { ChainId = 1 }, participant); break;
            case "round not open": request = SubmitRequest.Create(preimage with { Round = 2 }, participant); break;
            case "stale base": request = SubmitRequest.Create(preimage with { BaseModelHash = new byte[32] }, participant); break;
            case "expired": fixture.Time.Advance(TimeSpan.FromMinutes(2)); break;
            case "shape": request = SubmitRequest.Create(preimage with { NumElements = IngestFixture.Elements - 1 }, participant); break;
            case "too large": fixture.Target = fixture.Target with { MaxPayloadBytes = payload.Length - 1 }; break;
            case "bad signature": request = request with { Signature = other.Sign(request.Preimage.Span) }; break;
        }

        var receipt = await fixture.Ingest.SubmitAsync(request, peer, new UnreadableStream());

        Assert.Equal(expected, receipt.Status);
        Assert.False(string.IsNullOrWhiteSpace(receipt.Reason));
        Assert.True(receipt.ServerSignature.IsEmpty);
        Assert.Empty(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
    }

    [Theory]
    [InlineData(SubmitStatus.NotAdmitted)]
    [InlineData(SubmitStatus.RateLimited)]
    public async Task Submit_GateRefuses_StatusFromGateBeforePayload(SubmitStatus status)
    {
        await using var fixture = new IngestFixture(new RefusingGate(status));
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(5);

        var receipt = await fixture.Ingest.SubmitAsync(SubmitRequest.Create(fixture.Preimage(payload), participant), participant.PeerId, new UnreadableStream());

        Assert.Equal(status, receipt.Status);
        Assert.Equal("refused by the test gate", receipt.Reason);
    }

    [Fact]
    public async Task Submit_PayloadNotMatchingSignedHash_RejectedNothingKeptAndCorrectRetryAccepted()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(6);
        var request = SubmitRequest.Create(fixture.Preimage(payload), participant);
        var tampered = (byte[])payload.Clone();
        tampered[^1] ^= 1;

        var rejected = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new MemoryStream(tampered));
        var roundDirectory = Path.GetDirectoryName(fixture.Store.GetPayloadPath(IngestFixture.TaskId, 1, rejected.UpdateId.Span))!;
        var leftovers = Directory.Exists(roundDirectory) ? Directory.GetFiles(roundDirectory) : [];
        var accepted = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new MemoryStream(payload));

        Assert.Equal(SubmitStatus.PayloadHashMismatch, rejected.Status);
        Assert.Contains("the signed payloadSha256 is", rejected.Reason, StringComparison.Ordinal);
        Assert.Empty(leftovers);
        Assert.Equal(SubmitStatus.Accepted, accepted.Status);
    }

    [Fact]
    public async Task Submit_PayloadEndsEarly_HashMismatchSayingHowMuchArrived()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(7);

        var receipt = await fixture.Ingest.SubmitAsync(
            SubmitRequest.Create(fixture.Preimage(payload), participant), participant.PeerId, new MemoryStream(payload, 0, 1000));

        Assert.Equal(SubmitStatus.PayloadHashMismatch, receipt.Status);
        Assert.Contains($"ended after 1000 of {payload.Length} bytes", receipt.Reason, StringComparison.Ordinal);
        Assert.Empty(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
    }

    [Fact]
    public async Task Submit_PayloadStalls_RefusedAfterIdleTimeout()
    {
        await using var fixture = new IngestFixture(options: new UpdateIngestOptions { PayloadIdleTimeout = TimeSpan.FromMilliseconds(100) });
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(8);
        var stream = new ScriptedStream(payload.Length - 10, i => payload[i], stallAtEnd: true);

        var receipt = await fixture.Ingest.SubmitAsync(SubmitRequest.Create(fixture.Preimage(payload), participant), participant.PeerId, stream);

        Assert.Equal(SubmitStatus.Malformed, receipt.Status);
        Assert.Contains("stalled", receipt.Reason, StringComparison.Ordinal);
        Assert.Empty(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
    }

    [Fact]
    public async Task Submit_SecondUpdateOfPeerInRound_AlreadySubmittedFirstStands()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var first = await fixture.SubmitAsync(participant, IngestFixture.Payload(9));

        var second = await fixture.SubmitAsync(participant, IngestFixture.Payload(10));

        Assert.Equal(SubmitStatus.Accepted, first.Status);
        Assert.Equal(SubmitStatus.AlreadySubmitted, second.Status);
        Assert.Equal(first.UpdateId.ToArray(), Assert.Single(fixture.Store.ReadRound(IngestFixture.TaskId, 1)).Entry.UpdateId.ToArray());
    }

    [Fact]
    public async Task Submit_SamePayloadFromAnotherPeer_CopiedPayload()
    {
        await using var fixture = new IngestFixture();
        using var honest = Ed25519PrivateKey.Generate();
        using var copycat = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(11);
        await fixture.SubmitAsync(honest, payload);

        var copy = await fixture.SubmitAsync(copycat, payload, fixture.Preimage(payload, nonce: 99));

        Assert.Equal(SubmitStatus.CopiedPayload, copy.Status);
        Assert.Contains("another participant", copy.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_OwnPayloadReplayedInALaterRound_CopiedPayload()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var payload = IngestFixture.Payload(12);
        await fixture.SubmitAsync(participant, payload);
        fixture.Target = fixture.Target with { OpenRound = 2 };

        var replay = await fixture.SubmitAsync(participant, payload, fixture.Preimage(payload, round: 2));

        Assert.Equal(SubmitStatus.CopiedPayload, replay.Status);
        Assert.Contains("replay", replay.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_TwoUpdatesOfOnePeerAtOnce_OnlyOneStored()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();
        var firstPayload = IngestFixture.Payload(13);
        var held = new ScriptedStream(firstPayload.Length, i => firstPayload[i], pauseAfter: 4096);
        var firstTask = fixture.Ingest.SubmitAsync(SubmitRequest.Create(fixture.Preimage(firstPayload), participant), participant.PeerId, held);
        await held.Paused.WaitAsync(TimeSpan.FromSeconds(10));

        var whileHeld = await fixture.SubmitAsync(participant, IngestFixture.Payload(14));
        held.Resume();
        var first = await firstTask.WaitAsync(TimeSpan.FromSeconds(10));
        var afterwards = await fixture.SubmitAsync(participant, IngestFixture.Payload(14));

        Assert.Equal(SubmitStatus.Unavailable, whileHeld.Status);
        Assert.Equal(SubmitStatus.Accepted, first.Status);
        Assert.Equal(SubmitStatus.AlreadySubmitted, afterwards.Status);
        Assert.Single(fixture.Store.ReadRound(IngestFixture.TaskId, 1));
    }

    [Fact]
    public async Task Submit_ManyPeersConcurrently_AllAcceptedWithDenseSequences()
    {
        await using var fixture = new IngestFixture();
        var participants = Enumerable.Range(0, 32).Select(_ => Ed25519PrivateKey.Generate()).ToArray();
        try
        {
            var receipts = await Task.WhenAll(participants.Select((p, i) => Task.Run(() => fixture.SubmitAsync(p, IngestFixture.Payload(100 + i)))));

            Assert.All(receipts, r => Assert.Equal(SubmitStatus.Accepted, r.Status));
            Assert.Equal(Enumerable.Range(1, 32).Select(static i => (ulong)i), receipts.Select(static r => r.Sequence).Order());
            Assert.All(receipts, r => Assert.True(r.VerifyServerSignature(fixture.ServerKey.PeerId)));
            Assert.Equal(32, fixture.Store.ReadRound(IngestFixture.TaskId, 1).Count);
        }
        finally
        {
            foreach (var p in participants)
            {
                p.Dispose();
            }
        }
    }

    [Fact]
    public async Task Submit_GarbageFrame_Malformed()
    {
        await using var fixture = new IngestFixture();
        using var participant = Ed25519PrivateKey.Generate();

        var receipt = await fixture.Ingest.SubmitAsync(new byte[] { 0x0A, 0xFF, 0xFF }, participant.PeerId, new UnreadableStream());

        Assert.Equal(SubmitStatus.Malformed, receipt.Status);
    }

    private sealed class RefusingGate(SubmitStatus status) : ISubmissionGate
    {
        public ValueTask<SubmissionCheck> AdmitAsync(DecodedSubmission submission, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new SubmissionCheck(status, "refused by the test gate"));
    }
}

/// <summary>
/// Allocation measurements read the process's allocated-bytes counter, which test classes running in parallel also move:
/// these run alone.
/// </summary>
[Collection(AllocationMeasurementCollection.Name)]
public sealed class UpdateIngestAllocationTests
{
    [Fact]
    public async Task Submit_LargePayload_StreamedNotBuffered()
    {
        const ulong elements = 12 << 20; // 48 MiB
        await using var fixture = new IngestFixture();
        fixture.Target = fixture.Target with { NumElements = elements };
        using var participant = Ed25519PrivateKey.Generate();
        static byte Generate(long i) => (byte)((i * 2654435761L) >> 13);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 20];
        for (long offset = 0; offset < (long)elements * 4; offset += chunk.Length)
        {
            for (var i = 0; i < chunk.Length; i++)
            {
                chunk[i] = Generate(offset + i);
            }

            hash.AppendData(chunk);
        }

        var preimage = fixture.Preimage(new byte[4]) with { NumElements = elements, PayloadSha256 = hash.GetHashAndReset() };
        var request = SubmitRequest.Create(preimage, participant);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var receipt = await fixture.Ingest.SubmitAsync(request, participant.PeerId, new ScriptedStream((long)elements * 4, Generate));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(SubmitStatus.Accepted, receipt.Status);
        Assert.True(allocated < 8 << 20, $"ingest of a 48 MiB payload allocated {allocated / 1048576.0:0.0} MiB; it must stream");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurementCollection
{
    public const string Name = "allocation measurements";
}
