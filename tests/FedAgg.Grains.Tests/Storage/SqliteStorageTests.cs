using FedAgg.Grains.Hosting;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace FedAgg.Grains.Tests.Storage;

public sealed class SqliteStorageTests : StorageProviderTests
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => _directory.File("grains.db");

    public override Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StartAsync_NewFile_CreatesSchemaInWalModeWithFullSync()
    {
        await using var host = await StartHostAsync();
        await host.Grains.GetGrain<ICounterGrain>("x").Increment("w");

        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('grain_state', 'grain_reminder')";
        Assert.Equal(2L, (long)(await command.ExecuteScalarAsync())!);
    }

    protected override void AddStorage(GrainsBuilder grains)
    {
        grains.AddSqliteStorage("Default", o => o.DataSource = DatabasePath);
        grains.UseSqliteReminders(o => o.DataSource = DatabasePath);
    }

    protected override async Task<string?> ReadRawPayloadAsync(GrainId grainId, string stateName)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE grain_type = $t AND grain_key = $k AND state_name = $n";
        command.Parameters.AddWithValue("$t", grainId.Type);
        command.Parameters.AddWithValue("$k", grainId.Key);
        command.Parameters.AddWithValue("$n", stateName);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : (string?)value;
    }
}
