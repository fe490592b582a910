using System.Text.Json;

namespace FedAgg.Grains.Storage;

/// <summary>Settings of a SQLite grain storage (or reminder table): one database file in WAL mode with <c>synchronous=FULL</c>.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The database file path (created with its directory if missing). Required.</summary>
    public string DataSource { get; set; } = "";

    /// <summary>How long a statement waits for another connection's write lock before failing. Default 10 seconds; must be positive.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How states are serialized. Default: System.Text.Json with camelCase property names.</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = GrainStorageJson.CreateDefaultOptions();
}

/// <summary>Settings of a PostgreSQL grain storage (or reminder table).</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>The Npgsql connection string (host, port, database, user...). Required; never logged whole.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How states are serialized. Default: System.Text.Json with camelCase property names.</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = GrainStorageJson.CreateDefaultOptions();
}

/// <summary>The JSON settings grain state is stored with.</summary>
public static class GrainStorageJson
{
    /// <summary>System.Text.Json with camelCase property names (the project's convention for stored JSON).</summary>
    /// <returns>New options.</returns>
    public static JsonSerializerOptions CreateDefaultOptions() => new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
    };
}
