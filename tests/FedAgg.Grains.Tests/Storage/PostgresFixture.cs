using FedAgg.TestKit.Postgres;
using Npgsql;

namespace FedAgg.Grains.Tests.Storage;

/// <summary>One throwaway PostgreSQL cluster for the whole run; each test gets its own schema in it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresInstance? _instance;
    private int _schemas;

    public PostgresInstance Instance => _instance ?? throw new InvalidOperationException("PostgreSQL did not start.");

    public async Task InitializeAsync() => _instance = await PostgresInstance.StartAsync();

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_instance is not null)
        {
            await _instance.DisposeAsync();
        }
    }

    /// <summary>Creates an empty schema and returns a connection string whose search path is it.</summary>
    public async Task<string> CreateSchemaAsync()
    {
        var schema = $"t{Interlocked.Increment(ref _schemas)}_{Guid.NewGuid():N}"[..20];
        await using (var connection = new NpgsqlConnection(Instance.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(Instance.ConnectionString) { SearchPath = schema }.ConnectionString;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
