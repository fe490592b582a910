using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;
using FedAgg.TestKit.Postgres;
using Npgsql;

namespace FedAgg.Server.Tests.Rounds;

/// <summary>The server with its grain state and reminders in PostgreSQL (a throwaway cluster on loopback) instead of SQLite.</summary>
public sealed class PostgresServerTests : IAsyncLifetime
{
    private const int Elements = 128;
    private PostgresInstance? _postgres;

    public async Task InitializeAsync() => _postgres = await PostgresInstance.StartAsync();

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [Fact]
    public async Task PublishThenRestart_GrainStateInPostgres_RoundHistoryAndOpenRoundSurvive()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        void Configure(FedAgg.Server.Hosting.FedAggServerOptions o)
        {
            o.GrainStorage = "postgresql";
            o.PostgresConnectionString = _postgres!.ConnectionString;
            o.Coordinators.Add(coordinatorKey.PeerId.ToString());
        }

        string published;
        await using (var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements), Configure, publish: true))
        {
            for (var i = 0; i < 2; i++)
            {
                using var key = Ed25519PrivateKey.Generate();
                await using var client = await FedAggClient.ConnectAsync(server.Address, key);
                var model = await client.FetchModelAsync(TestServer.TaskId);
                var delta = Enumerable.Range(0, Elements).Select(j => (i + 1) * 0.001f * j).ToArray();
                Assert.Equal(SubmitStatus.Accepted, (await client.SubmitUpdateAsync(TestServer.TaskId, model.Response, delta, 1)).Receipt.Status);
            }

            await using var coordinator = await FedAggClient.ConnectAsync(server.Address, coordinatorKey);
            Assert.Equal(ServiceStatus.Ok, (await coordinator.AdminAsync("round.close", """{"taskId":"demo"}""")).Status);
            await server.WaitPublishedAsync(1);
            published = (await server.TaskAsync()).CurrentModelHash;
        }

        // Nothing of the grain state is in the data directory: it all came back from PostgreSQL.
        Assert.False(File.Exists(Path.Combine(data.Path, "grains.db")));
        await using var restarted = await TestServer.StartAsync(data.Path, null, Configure, publish: true);
        var task = await restarted.TaskAsync();
        Assert.Equal(1UL, task.CurrentModelRound);
        Assert.Equal(published, task.CurrentModelHash);
        Assert.Equal(RoundPhase.Open, (await restarted.Round(2).GetStatusAsync()).Phase);
        using var participantKey = Ed25519PrivateKey.Generate();
        await using var participant = await FedAggClient.ConnectAsync(restarted.Address, participantKey);
        Assert.Equal(ServiceStatus.Ok, (await participant.FetchRoundAsync(TestServer.TaskId, 1)).Response.Status);
        var next = await participant.FetchModelAsync(TestServer.TaskId);
        Assert.Equal(2UL, next.Response.OpenRound);
        Assert.Equal(SubmitStatus.Accepted, (await participant.SubmitUpdateAsync(TestServer.TaskId, next.Response, new float[Elements], 1)).Receipt.Status);
    }
}
