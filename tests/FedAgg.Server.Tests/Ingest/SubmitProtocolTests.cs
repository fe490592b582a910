using System.Security.Cryptography;
using FedAgg.Core.Codecs;
using FedAgg.Core.Updates;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Server.Tests.Ingest;

/// <summary>/fedagg/submit/1.0.0 end to end: C# participants over real libp2p to an in-process server.</summary>
public sealed class SubmitProtocolTests
{
    private const int Elements = 1000;

    [Fact]
    public async Task Submit_ValidUpdate_ReceiptSignedByServerStoredAndRecordedInRound()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, request, payload) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        var receipt = result.Receipt;
        Assert.True(receipt.Status == SubmitStatus.Accepted, receipt.Reason);
        Assert.True(receipt.VerifyServerSignature(server.Server.PeerId));
        Assert.Equal(1UL, receipt.Sequence);
        var updateId = UpdatePreimage.ComputeUpdateId(request.Preimage.Span);
        Assert.Equal(updateId, receipt.UpdateId.ToArray());
        var status = await server.Round().GetStatusAsync();
        var recorded = Assert.Single(status.Updates);
        Assert.Equal(Hex.Encode(updateId), recorded.UpdateId);
        Assert.Equal(participant.PeerId.ToString(), recorded.PeerId);
        Assert.Equal(receipt.Sequence, recorded.Sequence);
        Assert.Equal((long)receipt.ReceivedUnixMs, recorded.ReceivedUnixMs);
        Assert.Equal(Hex.Encode(SHA256.HashData(payload)), recorded.PayloadSha256);
        Assert.Equal(payload, await File.ReadAllBytesAsync(server.Server.Stores.Updates.GetPayloadPath(TestServer.TaskId, 1, updateId)));
    }

    [Fact]
    public async Task Submit_SameUpdateAgain_OriginalReceiptEveryTime()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        var (first, request, payload) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        var second = await participant.SubmitAsync(request, payload);
        var third = await participant.SubmitAsync(request, payload);

        Assert.Equal(SubmitStatus.Accepted, first.Receipt.Status);
        Assert.Equal(SubmitStatus.Duplicate, second.Receipt.Status);
        Assert.Equal(first.Receipt.Sequence, second.Receipt.Sequence);
        Assert.Equal(first.Receipt.ReceivedUnixMs, second.Receipt.ReceivedUnixMs);
        Assert.Equal(first.Receipt.ServerSignature.ToArray(), second.Receipt.ServerSignature.ToArray());
        Assert.Equal(first.Receipt.ServerPublicKey.ToArray(), second.Receipt.ServerPublicKey.ToArray());
        Assert.True(second.Receipt.VerifyServerSignature(server.Server.PeerId));
        Assert.Equal(second.Raw, third.Raw);
        Assert.Single((await server.Round().GetStatusAsync()).Updates);
    }

    [Fact]
    public async Task Submit_SecondDifferentUpdateSamePeerSameRound_AlreadySubmittedAndFirstStands()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        var (first, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        var (second, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.Accepted, first.Receipt.Status);
        Assert.Equal(SubmitStatus.AlreadySubmitted, second.Receipt.Status);
        Assert.True(second.Receipt.ServerSignature.IsEmpty);
        var recorded = Assert.Single((await server.Round().GetStatusAsync()).Updates);
        Assert.Equal(Hex.Encode(first.Receipt.UpdateId.Span), recorded.UpdateId);
    }

    [Fact]
    public async Task Submit_WrongRound_RoundNotOpen()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 2, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.RoundNotOpen, result.Receipt.Status);
        Assert.Contains("round 2 is not open (round 1 is)", result.Receipt.Reason, StringComparison.Ordinal);
        Assert.Empty((await server.Round().GetStatusAsync()).Updates);
    }

    [Fact]
    public async Task Submit_StaleBaseModel_StaleBaseModelStatus()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, Hex.Encode(RandomNumberGenerator.GetBytes(32)), Elements);

        Assert.Equal(SubmitStatus.StaleBaseModel, result.Receipt.Status);
    }

    [Fact]
    public async Task Submit_BadSignature_BadSignatureAndNothingStored()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        var payload = Participant.RandomPayload(Elements);
        var request = participant.Sign(Participant.Preimage(TestServer.TaskId, 1, task.CurrentModelHash, payload));
        var signature = request.Signature.ToArray();
        signature[10] ^= 0x01;

        var result = await participant.SubmitAsync(request with { Signature = signature }, payload);

        Assert.Equal(SubmitStatus.BadSignature, result.Receipt.Status);
        Assert.Empty(server.Server.Stores.Updates.ReadRound(TestServer.TaskId, 1));
        Assert.Empty((await server.Round().GetStatusAsync()).Updates);
    }

    [Fact]
    public async Task Submit_EarlyRejectionOfAnUploadLargerThanTheWindow_ClientGetsTheReceiptWithoutSendingTheRest()
    {
        // 1 MiB of payload, four times the Yamux window: the server answers after the header and stops reading, so the
        // client must stop writing on the receipt rather than wait for window that will not come.
        const int elements = 1 << 18;
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(elements));
        var task = await server.TaskAsync();
        using var key = Core.Identity.Ed25519PrivateKey.Generate();
        await using var client = await Client.FedAggClient.ConnectAsync(server.Address, key, new Client.FedAggClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) });
        var payload = Participant.RandomPayload(elements);
        var request = SubmitRequest.Create(Participant.Preimage(TestServer.TaskId, 1, task.CurrentModelHash, payload), key);
        var signature = request.Signature.ToArray();
        signature[10] ^= 0x01;
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await client.SubmitAsync(request with { Signature = signature }, payload).WaitAsync(TestServer.Timeout);

        Assert.Equal(SubmitStatus.BadSignature, outcome.Receipt.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the rejected submission took {watch.Elapsed}");
        Assert.Empty(server.Server.Stores.Updates.ReadRound(TestServer.TaskId, 1));

        // The connection is still good for the next submission.
        var good = SubmitRequest.Create(Participant.Preimage(TestServer.TaskId, 1, task.CurrentModelHash, payload), key);
        Assert.Equal(SubmitStatus.Accepted, (await client.SubmitAsync(good, payload).WaitAsync(TestServer.Timeout)).Receipt.Status);
    }

    [Fact]
    public async Task Submit_PayloadOverServerLimit_TooLarge()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements), o => o.MaxPayloadBytes = 1024);
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.TooLarge, result.Receipt.Status);
        Assert.Contains("more than the limit of 1024", result.Receipt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_WrongElementCount_ShapeMismatch()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements - 1);

        Assert.Equal(SubmitStatus.ShapeMismatch, result.Receipt.Status);
    }

    [Fact]
    public async Task Submit_UnknownTask_UnknownTaskStatus()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (result, _, _) = await participant.SubmitRandomAsync("no-such-task", 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.UnknownTask, result.Receipt.Status);
    }

    [Fact]
    public async Task Submit_GarbageHeader_MalformedThenTheServerCarriesOn()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var garbage = await participant.SubmitRawAsync([0xFF, 0xFF, 0x01], ReadOnlyMemory<byte>.Empty);
        var (valid, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.Malformed, garbage.Receipt.Status);
        Assert.Equal(SubmitStatus.Accepted, valid.Receipt.Status);
    }

    [Fact]
    public async Task Submit_PayloadShorterThanDeclared_HashMismatchAndTheSlotIsFreed()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        var payload = Participant.RandomPayload(Elements);
        var request = participant.Sign(Participant.Preimage(TestServer.TaskId, 1, task.CurrentModelHash, payload));

        var truncated = await participant.SubmitAsync(request, payload.AsMemory(0, payload.Length - 4));
        var retry = await participant.SubmitAsync(request, payload);

        Assert.Equal(SubmitStatus.PayloadHashMismatch, truncated.Receipt.Status);
        Assert.Equal(SubmitStatus.Accepted, retry.Receipt.Status);
        var status = await server.Round().GetStatusAsync();
        Assert.Equal(0, status.Pending);
        Assert.Single(status.Updates);
    }

    [Fact]
    public async Task Submit_TwentyConcurrentParticipants_AllReceiptedWithDenseSequencesAndAllRecorded()
    {
        const int Count = 20;
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        var participants = await Task.WhenAll(Enumerable.Range(0, Count).Select(_ => Participant.ConnectAsync(server.Address)));
        try
        {
            var results = await Task.WhenAll(participants.Select(p => p.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements)));

            Assert.All(results, r => Assert.True(r.Result.Receipt.Status == SubmitStatus.Accepted, r.Result.Receipt.Reason));
            Assert.All(results, r => Assert.True(r.Result.Receipt.VerifyServerSignature(server.Server.PeerId)));
            Assert.Equal(Enumerable.Range(1, Count).Select(i => (ulong)i), results.Select(r => r.Result.Receipt.Sequence).Order());
            var status = await server.Round().GetStatusAsync();
            Assert.Equal(Count, status.Updates.Count);
            Assert.Equal(0, status.Pending);
            Assert.Equal(
                results.Select(r => Hex.Encode(r.Result.Receipt.UpdateId.Span)).Order(StringComparer.Ordinal),
                status.Updates.Select(u => u.UpdateId).Order(StringComparer.Ordinal));
            Assert.Equal(Enumerable.Range(1, Count).Select(i => (ulong)i), status.Updates.Select(u => u.Sequence));
            Assert.Equal(participants.Select(p => p.PeerId.ToString()).Order(StringComparer.Ordinal), status.Updates.Select(u => u.PeerId).Order(StringComparer.Ordinal));
        }
        finally
        {
            foreach (var participant in participants)
            {
                await participant.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Submit_SamePayloadFromAnotherPeer_CopiedPayload()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var honest = await Participant.ConnectAsync(server.Address);
        await using var copier = await Participant.ConnectAsync(server.Address);
        var (original, _, payload) = await honest.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        var copy = await copier.SubmitAsync(copier.Sign(Participant.Preimage(TestServer.TaskId, 1, task.CurrentModelHash, payload)), payload);

        Assert.Equal(SubmitStatus.Accepted, original.Receipt.Status);
        Assert.Equal(SubmitStatus.CopiedPayload, copy.Receipt.Status);
        var status = await server.Round().GetStatusAsync();
        Assert.Single(status.Updates);
        Assert.Equal(0, status.Pending);
    }
}
