using FedAgg.Grains.Hosting;
using FedAgg.Grains.Runtime;
using Npgsql;

namespace FedAgg.Grains.Tests.Storage;

[Collection(PostgresCollection.Name)]
[Trait("Category", "PostgreSQL")]
public sealed class PostgresStorageTests(PostgresFixture postgres) : StorageProviderTests
{
    private string? _connectionString;

    private string ConnectionString => _connectionString ?? throw new InvalidOperationException("No schema yet.");

    public override async Task InitializeAsync() => _connectionString = await postgres.CreateSchemaAsync();

    protected override void AddStorage(GrainsBuilder grains)
    {
        grains.AddPostgresStorage("Default", o => o.ConnectionString = ConnectionString);
        grains.UsePostgresReminders(o => o.ConnectionString = ConnectionString);
    }

    protected override async Task<string?> ReadRawPayloadAsync(GrainId grainId, string stateName)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT payload FROM grain_state WHERE grain_type = @t AND grain_key = @k AND state_name = @n", connection);
        command.Parameters.AddWithValue("t", grainId.Type);
        command.Parameters.AddWithValue("k", grainId.Key);
        command.Parameters.AddWithValue("n", stateName);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : (string?)value;
    }
}
