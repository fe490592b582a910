using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;
using FedAgg.Storage;

namespace FedAgg.Server.Tests.Grains;

/// <summary>Rounds closing (cap, deadline, coordinator) and surviving restarts.</summary>
public sealed class RoundLifecycleTests
{
    private const int Elements = 256;

    [Fact]
    public async Task Submit_MaxParticipantsReached_RoundClosesOnceAndLaterUpdatesAreRefused()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements, maxParticipants: 3));
        var task = await server.TaskAsync();
        var participants = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Participant.ConnectAsync(server.Address)));
        try
        {
            foreach (var participant in participants[..3])
            {
                var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
                Assert.Equal(SubmitStatus.Accepted, result.Receipt.Status);
            }

            var (late, _, _) = await participants[3].SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

            Assert.Equal(SubmitStatus.RoundNotOpen, late.Receipt.Status);
            var status = await server.Round().GetStatusAsync();
            Assert.Equal(RoundPhase.Closed, status.Phase);
            Assert.Equal(RoundGrain.MaxParticipantsReason, status.CloseReason);
            Assert.Equal(3, status.Updates.Count);
            var closed = Assert.Single(server.Closes.Closed);
            Assert.Equal(3, closed.Updates.Count);
            Assert.Null(server.Server.Directory.Find(TestServer.TaskId)!.OpenRound);
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
    public async Task Deadline_Passes_ReminderClosesTheRound()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements, roundDurationSeconds: 2));
        var task = await server.TaskAsync();
        await using (var participant = await Participant.ConnectAsync(server.Address))
        {
            var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
            Assert.Equal(SubmitStatus.Accepted, result.Receipt.Status);
        }

        var closed = await server.Closes.FirstClose.WaitAsync(TestServer.Timeout);

        Assert.Equal(RoundGrain.DeadlineReason, closed.CloseReason);
        Assert.Equal(RoundPhase.Closed, closed.Phase);
        Assert.True(closed.ClosedUnixMs >= closed.DeadlineUnixMs, $"closed at {closed.ClosedUnixMs}, deadline {closed.DeadlineUnixMs}");
    }

    [Fact]
    public async Task Deadline_FewerUpdatesThanTheMinimum_MovesTheDeadlineInsteadOfClosing()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements, roundDurationSeconds: 1));
        var first = (await server.Round().GetStatusAsync()).DeadlineUnixMs;

        // The reminder fires about every second; wait until it has moved the deadline.
        var moved = first;
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        while (moved == first)
        {
            await Task.Delay(100, timeout.Token);
            moved = (await server.Round().GetStatusAsync()).DeadlineUnixMs;
        }

        var status = await server.Round().GetStatusAsync();
        Assert.Equal(RoundPhase.Open, status.Phase);
        Assert.True(moved > first, $"deadline {first} → {moved}");
        Assert.Empty(server.Closes.Closed);
    }

    [Fact]
    public async Task CloseAsync_CoordinatorRequest_ClosesAndTheNextRoundOpensOnlyFromThePublishedModel()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();

        var closed = await server.Round().CloseAsync("coordinator: enough");
        var early = await Assert.ThrowsAsync<InvalidOperationException>(() => server.Server.OpenNextRoundAsync(TestServer.TaskId, CancellationToken.None));
        await server.Server.Grains.GetGrain<ITaskGrain>(TestServer.TaskId).RecordModelAsync(new TaskModel(task.CurrentModelHash, 1));
        var next = await server.Server.OpenNextRoundAsync(TestServer.TaskId, CancellationToken.None);

        Assert.Equal(RoundPhase.Closed, closed.Phase);
        Assert.Equal("coordinator: enough", closed.CloseReason);
        Assert.Contains("not published yet", early.Message, StringComparison.Ordinal);
        Assert.Equal(2UL, next.Round);
        Assert.Equal(RoundPhase.Open, next.Phase);
        Assert.Equal(task.CurrentModelHash, next.BaseModelHash);
        Assert.Equal(2UL, server.Server.Directory.Find(TestServer.TaskId)!.OpenRound);
    }

    [Fact]
    public async Task Restart_SameDataDirectory_KeepsRoundStateReceiptsAndIdentity()
    {
        using var data = new TempDirectory();
        var receipts = new List<(SubmitResult Result, SubmitRequest Request, byte[] Payload, Ed25519PrivateKey Key)>();
        PeerId serverPeer;
        await using (var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements)))
        {
            serverPeer = server.Server.PeerId;
            var task = await server.TaskAsync();
            for (var i = 0; i < 3; i++)
            {
                var key = Ed25519PrivateKey.Generate();
                await using var participant = await Participant.ConnectAsync(server.Address, Ed25519PrivateKey.FromSeed(Seed(key)));
                var (result, sent, bytes) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
                Assert.Equal(SubmitStatus.Accepted, result.Receipt.Status);
                receipts.Add((result, sent, bytes, key));
            }
        }

        await using var restarted = await TestServer.StartAsync(data.Path);

        Assert.Equal(serverPeer, restarted.Server.PeerId);
        var status = await restarted.Round().GetStatusAsync();
        Assert.Equal(RoundPhase.Open, status.Phase);
        Assert.Equal(receipts.Select(r => Hex.Encode(r.Result.Receipt.UpdateId.Span)), status.Updates.Select(u => u.UpdateId));
        Assert.Equal(3, restarted.Server.Stores.Updates.ReadRound(TestServer.TaskId, 1).Count);
        var (first, request, payload, firstKey) = receipts[0];
        await using var again = await Participant.ConnectAsync(restarted.Address, Ed25519PrivateKey.FromSeed(Seed(firstKey)));
        var retry = await again.SubmitAsync(request, payload);
        Assert.Equal(SubmitStatus.Duplicate, retry.Receipt.Status);
        Assert.Equal(first.Receipt.Sequence, retry.Receipt.Sequence);
        Assert.Equal(first.Receipt.ServerSignature.ToArray(), retry.Receipt.ServerSignature.ToArray());
        Assert.True(retry.Receipt.VerifyServerSignature(serverPeer));
    }

    [Fact]
    public async Task Restart_UpdateDurableInStoreButNeverRecorded_RoundReconcilesItFromTheJournal()
    {
        using var data = new TempDirectory();
        string baseModel;
        await using (var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements)))
        {
            baseModel = (await server.TaskAsync()).CurrentModelHash;
        }

        // What a crash between "durable in the store" and "recorded in the grain" leaves: a journalled update the round never saw.
        using var key = Ed25519PrivateKey.Generate();
        var payload = Participant.RandomPayload(Elements);
        var request = SubmitRequest.Create(Participant.Preimage(TestServer.TaskId, 1, baseModel, payload), key);
        JournalEntry entry;
        await using (var store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = data.Path }))
        {
            await using var pending = store.BeginUpdate(TestServer.TaskId, 1);
            await pending.WriteAsync(payload);
            entry = await store.CommitAsync(pending, new UpdateMetadata(
                UpdatePreimage.ComputeUpdateId(request.Preimage.Span), System.Security.Cryptography.SHA256.HashData(payload), request.PublicKey, request.Preimage, request.Signature));
        }

        await using var restarted = await TestServer.StartAsync(data.Path);

        var status = await restarted.Round().GetStatusAsync();
        var recorded = Assert.Single(status.Updates);
        Assert.Equal(Hex.Encode(entry.UpdateId.Span), recorded.UpdateId);
        Assert.Equal(key.PeerId.ToString(), recorded.PeerId);
        Assert.Equal(entry.Sequence, recorded.Sequence);
    }

    private static byte[] Seed(Ed25519PrivateKey key) => key.ToProtobuf()[4..36];
}
