using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FedAgg.Grains.Storage;

/// <summary>
/// A database that holds grain state and reminders in two tables with the same schema on SQLite and PostgreSQL.
/// Every ETag check is a single statement (<c>UPDATE … WHERE version = @expected</c> or
/// <c>INSERT … ON CONFLICT DO NOTHING</c>), so concurrent writers cannot both succeed.
/// </summary>
internal abstract class RelationalDatabase : IAsyncDisposable
{
    protected const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_type TEXT NOT NULL,
            grain_key TEXT NOT NULL,
            state_name TEXT NOT NULL,
            version BIGINT NOT NULL,
            payload TEXT NULL,
            modified_at_ms BIGINT NOT NULL,
            PRIMARY KEY (grain_type, grain_key, state_name));
        CREATE TABLE IF NOT EXISTS grain_reminder (
            grain_type TEXT NOT NULL,
            grain_key TEXT NOT NULL,
            reminder_name TEXT NOT NULL,
            first_tick_ms BIGINT NOT NULL,
            period_ms BIGINT NOT NULL,
            version BIGINT NOT NULL,
            PRIMARY KEY (grain_type, grain_key, reminder_name));
        """;

    private readonly Lock _lock = new();
    private Task? _schema;

    /// <summary>Where the database is, for logs (no secrets).</summary>
    public abstract string Description { get; }

    public abstract string Provider { get; }

    /// <summary>Creates the schema once (later calls share the first call's task).</summary>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = CreateSchemaAsync(cancellationToken);
            }

            return _schema;
        }
    }

    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    protected abstract Task CreateSchemaAsync(CancellationToken cancellationToken);
}

/// <summary>SQLite: one file, WAL, <c>synchronous=FULL</c> (a commit is on disk before it returns), busy timeout.</summary>
internal sealed class SqliteDatabase : RelationalDatabase
{
    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly string _path;

    public SqliteDatabase(SqliteStorageOptions options)
    {
        _path = Path.GetFullPath(options.DataSource);
        var timeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = timeout,
        }.ToString();
        _pragmas = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={(long)options.BusyTimeout.TotalMilliseconds};";
    }

    public override string Description => _path;

    public override string Provider => "SQLite";

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = _pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override ValueTask DisposeAsync()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite refused WAL mode for {_path} (journal_mode is '{mode}').");
        }

        command.CommandText = SchemaSql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>PostgreSQL through an <see cref="NpgsqlDataSource"/>; the schema is created under an advisory lock so concurrent starts do not race.</summary>
internal sealed class PostgresDatabase : RelationalDatabase
{
    private const long SchemaLockKey = 0x4665_6441_6767_4772; // "FedAggGr"

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _description;

    public PostgresDatabase(PostgresStorageOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        _description = $"{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public override string Description => _description;

    public override string Provider => "PostgreSQL";

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
        => await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({SchemaLockKey}); {SchemaSql}";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
