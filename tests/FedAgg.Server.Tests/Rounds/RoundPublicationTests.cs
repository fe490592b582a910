using System.Security.Cryptography;
using System.Text.Json;
using FedAgg.Client;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;
using FedAgg.Verification;

namespace FedAgg.Server.Tests.Rounds;

public sealed class RoundPublicationTests
{
    private const int Elements = 256;

    [Fact]
    public async Task CoordinatorClose_ThreeUpdates_PublishesAVerifiableRoundAndOpensTheNext()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(
            data.Path, TestServer.Settings(Elements), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()), publish: true);
        var keys = Enumerable.Range(0, 3).Select(_ => Ed25519PrivateKey.Generate()).ToArray();
        var deltas = new List<float[]>();
        foreach (var key in keys)
        {
            await using var client = await FedAggClient.ConnectAsync(server.Address, key);
            var model = await client.FetchModelAsync(TestServer.TaskId);
            Assert.Equal(ModelStatus.Ok, model.Response.Status);
            Assert.Equal(1UL, model.Response.OpenRound);
            var delta = Enumerable.Range(0, Elements).Select(i => (float)Math.Sin(i + deltas.Count) * 0.01f).ToArray();
            deltas.Add(delta);
            var outcome = await client.SubmitUpdateAsync(TestServer.TaskId, model.Response, delta, 32);
            Assert.Equal(SubmitStatus.Accepted, outcome.Receipt.Status);
        }

        await using var coordinator = await FedAggClient.ConnectAsync(server.Address, coordinatorKey);
        var closed = await coordinator.AdminAsync("round.close", """{"taskId":"demo","reason":"enough"}""");
        Assert.Equal(ServiceStatus.Ok, closed.Status);
        await server.WaitPublishedAsync(1);

        var round = await coordinator.FetchRoundAsync(TestServer.TaskId);
        Assert.Equal(ServiceStatus.Ok, round.Response.Status);
        var manifest = round.Manifest!;
        Assert.Equal(1UL, manifest.Round);
        Assert.Equal(3, manifest.AcceptedCount);
        Assert.Null(manifest.AnchorTx); // no chain configured
        Assert.Equal([.. keys.Select(k => k.PeerId.ToString()).Order(StringComparer.Ordinal)], manifest.Updates.Select(u => u.PeerId).Order(StringComparer.Ordinal));

        // Independent check: the verifier recomputes everything from the data directory.
        var checks = await new RoundVerifier().VerifyAsync(new DataDirectoryRoundArtifacts(data.Path, TestServer.TaskId, 1), null, CancellationToken.None);
        Assert.All(checks.Where(c => c.Outcome != CheckOutcome.Skip), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));

        // A trimmed mean (β = 0.2 of 3 trims nothing) of the three deltas, fedavg η = 1: the new model is initial + mean.
        var initial = TestServer.InitialWeights(Elements);
        var next = await coordinator.FetchModelAsync(TestServer.TaskId);
        Assert.Equal(manifest.ModelHash.AsSpan().ToArray(), next.Response.ModelHash.ToArray());
        Assert.Equal(2UL, next.Response.OpenRound);
        Assert.Equal(1UL, next.Response.Round);
        var weights = next.ToFloats();
        for (var i = 0; i < Elements; i++)
        {
            var mean = (deltas[0][i] + deltas[1][i] + deltas[2][i]) / 3;
            Assert.Equal(initial[i] + mean, weights[i], 1e-6f);
        }

        var status = await coordinator.AdminAsync("round.status", """{"taskId":"demo","round":1}""");
        using var json = JsonDocument.Parse(status.ResultJson);
        Assert.Equal("closed", json.RootElement.GetProperty("round").GetProperty("phase").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("published").GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task Admin_FromAPeerThatIsNotACoordinator_IsRefusedWithStatus4AndChangesNothing()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        using var strangerKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(
            data.Path, TestServer.Settings(Elements), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()), publish: true);
        await using var stranger = await FedAggClient.ConnectAsync(server.Address, strangerKey);

        var refused = await stranger.AdminAsync("round.close", """{"taskId":"demo"}""");

        Assert.Equal(ServiceStatus.NotAdmitted, refused.Status);
        Assert.Contains("not a coordinator", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(RoundPhase.Open, (await server.Round(1).GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task Admin_Commands_ListShowAllowBanAndReportErrorsWithTheirStatus()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        using var peerKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(
            data.Path, TestServer.Settings(Elements), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()), publish: true);
        await using var coordinator = await FedAggClient.ConnectAsync(server.Address, coordinatorKey);

        var list = await coordinator.AdminAsync("task.list", "{}");
        Assert.Equal(ServiceStatus.Ok, list.Status);
        using (var json = JsonDocument.Parse(list.ResultJson))
        {
            var task = Assert.Single(json.RootElement.GetProperty("tasks").EnumerateArray());
            Assert.Equal("demo", task.GetProperty("taskId").GetString());
            Assert.Equal(1UL, task.GetProperty("latestRound").GetUInt64());
        }

        var ban = await coordinator.AdminAsync("participant.ban", $$"""{"taskId":"demo","peerId":"{{peerKey.PeerId}}","reason":"spam"}""");
        Assert.Equal(ServiceStatus.Ok, ban.Status);
        Assert.Equal("spam", (await server.Participant(peerKey.PeerId.ToString()).GetStatusAsync()).BannedTasks["demo"]);
        var participants = await coordinator.AdminAsync("participant.list", """{"taskId":"demo"}""");
        Assert.Contains(peerKey.PeerId.ToString(), participants.ResultJson, StringComparison.Ordinal);

        await using (var banned = await FedAggClient.ConnectAsync(server.Address, peerKey))
        {
            var model = await banned.FetchModelAsync(TestServer.TaskId);
            var outcome = await banned.SubmitUpdateAsync(TestServer.TaskId, model.Response, new float[Elements], 1);
            Assert.Equal(SubmitStatus.NotAdmitted, outcome.Receipt.Status);
        }

        Assert.Equal(ServiceStatus.UnknownTask, (await coordinator.AdminAsync("task.show", """{"taskId":"nope"}""")).Status);
        Assert.Equal(ServiceStatus.UnknownCommand, (await coordinator.AdminAsync("task.destroy", "{}")).Status);
        Assert.Equal(ServiceStatus.Malformed, (await coordinator.AdminAsync("task.show", "[1,2")).Status);
        var early = await coordinator.AdminAsync("round.close", """{"taskId":"demo"}""");
        Assert.Equal(ServiceStatus.Refused, early.Status);
        Assert.Contains("fewer than the task's minimum", early.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_ThenPublish_CreditsGoToTheBoundAddress()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(
            data.Path, TestServer.Settings(Elements), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()), publish: true);
        using var key = Ed25519PrivateKey.Generate();
        await using var client = await FedAggClient.ConnectAsync(server.Address, key);
        var address = RandomNumberGenerator.GetBytes(20);

        var wrongChain = await client.BindAddressAsync(5, new byte[20], address);
        Assert.Equal(ServiceStatus.WrongChain, wrongChain.Status);
        var bound = await client.BindAddressAsync(0, new byte[20], address);
        Assert.Equal(ServiceStatus.Ok, bound.Status);

        var model = await client.FetchModelAsync(TestServer.TaskId);
        Assert.Equal(SubmitStatus.Accepted, (await client.SubmitUpdateAsync(TestServer.TaskId, model.Response, new float[Elements], 1)).Receipt.Status);
        await using var coordinator = await FedAggClient.ConnectAsync(server.Address, coordinatorKey);
        Assert.Equal(ServiceStatus.Ok, (await coordinator.AdminAsync("round.close", """{"taskId":"demo"}""")).Status);
        await server.WaitPublishedAsync(1);

        var manifest = (await client.FetchRoundAsync(TestServer.TaskId, 1)).Manifest!;
        var credit = Assert.Single(manifest.Credits);
        Assert.Equal(address, credit.Account.ToArray());
        Assert.Equal(1000, credit.CumulativeAmount); // the whole creditsPerRound to the only update
        var history = Assert.Single((await server.Participant(key.PeerId.ToString()).GetStatusAsync()).Credits);
        Assert.Equal((TestServer.TaskId, 1UL, "1000", Hex.Encode(address), true), (history.TaskId, history.Round, history.Credit, history.Address, history.Accepted));
        Assert.Equal(manifest.Updates[0].UpdateId.ToString(), history.UpdateId);
        var credits = await coordinator.AdminAsync("credits.show", """{"taskId":"demo"}""");
        Assert.Contains(Hex.Encode(address), credits.ResultJson, StringComparison.Ordinal);
        Assert.Contains(key.PeerId.ToString(), credits.ResultJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoundProtocol_UnknownTaskAndUnpublishedRound_AnswerWithTheirStatus()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements), publish: true);
        using var key = Ed25519PrivateKey.Generate();
        await using var client = await FedAggClient.ConnectAsync(server.Address, key);

        Assert.Equal(ServiceStatus.UnknownTask, (await client.FetchRoundAsync("other")).Response.Status);
        var open = await client.FetchRoundAsync(TestServer.TaskId, 1);
        Assert.Equal(ServiceStatus.UnknownRound, open.Response.Status);
        Assert.Equal(1UL, open.Response.OpenRound);
        Assert.Equal(0UL, open.Response.LatestPublishedRound);
    }
}
