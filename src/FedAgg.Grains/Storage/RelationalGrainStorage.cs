using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using FedAgg.Grains.Runtime;
using Microsoft.Extensions.Logging;

namespace FedAgg.Grains.Storage;

/// <summary>
/// Grain storage over <see cref="RelationalDatabase"/> (SQLite or PostgreSQL). The ETag is the row's version, a
/// number that grows by one with every write and clear; a clear keeps the row with a null payload so that the version
/// never goes back (a writer holding an old ETag can never win, not even after a clear).
/// </summary>
internal sealed class RelationalGrainStorage : IGrainStorage, IGrainStorageInitializer, IAsyncDisposable
{
    private const string SelectSql =
        "SELECT version, payload FROM grain_state WHERE grain_type = @type AND grain_key = @key AND state_name = @name";

    private const string InsertSql = """
        INSERT INTO grain_state (grain_type, grain_key, state_name, version, payload, modified_at_ms)
        VALUES (@type, @key, @name, 1, @payload, @now)
        ON CONFLICT (grain_type, grain_key, state_name) DO NOTHING
        RETURNING version
        """;

    private const string UpdateSql = """
        UPDATE grain_state SET version = version + 1, payload = @payload, modified_at_ms = @now
        WHERE grain_type = @type AND grain_key = @key AND state_name = @name AND version = @expected
        RETURNING version
        """;

    private readonly string _name;
    private readonly RelationalDatabase _database;
    private readonly JsonSerializerOptions _json;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public RelationalGrainStorage(string name, RelationalDatabase database, JsonSerializerOptions json, TimeProvider timeProvider, ILogger logger)
    {
        _name = name;
        _database = database;
        _json = json;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public RelationalDatabase Database => _database;

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await _database.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        Log.StorageOpened(_logger, _name, _database.Provider, _database.Description);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var (version, payload) = await ReadRowAsync(stateName, grainId, cancellationToken).ConfigureAwait(false);
        if (payload is null)
        {
            grainState.State = GrainStateDefaults.Create<T>();
            grainState.RecordExists = false;
        }
        else
        {
            grainState.State = JsonSerializer.Deserialize<T>(payload, _json)!;
            grainState.RecordExists = true;
        }

        grainState.ETag = version is { } v ? FormatEtag(v) : null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var payload = JsonSerializer.Serialize(grainState.State, _json);
        var expected = ParseEtag(grainState.ETag, stateName, grainId);
        var version = await ExecuteVersionedAsync(expected is null ? InsertSql : UpdateSql, stateName, grainId, expected, payload, cancellationToken)
            .ConfigureAwait(false);
        if (version is null)
        {
            throw await ConflictAsync("write", stateName, grainId, grainState.ETag, cancellationToken).ConfigureAwait(false);
        }

        grainState.ETag = FormatEtag(version.Value);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var expected = ParseEtag(grainState.ETag, stateName, grainId);
        if (expected is null)
        {
            // Nothing was ever stored as far as the caller knows: fine if storage agrees, a conflict if not.
            var (stored, _) = await ReadRowAsync(stateName, grainId, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                throw await ConflictAsync("clear", stateName, grainId, null, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            var version = await ExecuteVersionedAsync(UpdateSql, stateName, grainId, expected, payload: null, cancellationToken).ConfigureAwait(false);
            if (version is null)
            {
                throw await ConflictAsync("clear", stateName, grainId, grainState.ETag, cancellationToken).ConfigureAwait(false);
            }

            grainState.ETag = FormatEtag(version.Value);
        }

        grainState.State = GrainStateDefaults.Create<T>();
        grainState.RecordExists = false;
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    private static string FormatEtag(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static long? ParseEtag(string? etag, string stateName, GrainId grainId)
    {
        if (etag is null)
        {
            return null;
        }

        return long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
            ? version
            : throw new InconsistentStateException(
                $"The ETag '{etag}' of state '{stateName}' of {grainId} was not issued by this storage.", storedEtag: null, currentEtag: etag);
    }

    private static void AddKey(DbCommand command, string stateName, GrainId grainId)
    {
        AddParameter(command, "@type", grainId.Type);
        AddParameter(command, "@key", grainId.Key);
        AddParameter(command, "@name", stateName);
    }

    private static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private async Task<(long? Version, string? Payload)> ReadRowAsync(string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = SelectSql;
        AddKey(command, stateName, grainId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return (null, null);
        }

        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private async Task<long?> ExecuteVersionedAsync(
        string sql, string stateName, GrainId grainId, long? expected, string? payload, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        AddKey(command, stateName, grainId);
        AddParameter(command, "@payload", payload);
        AddParameter(command, "@now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        if (expected is not null)
        {
            AddParameter(command, "@expected", expected.Value);
        }

        long? version = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                version = reader.GetInt64(0);
            }
        }

        return version;
    }

    private async Task<InconsistentStateException> ConflictAsync(
        string operation, string stateName, GrainId grainId, string? expected, CancellationToken cancellationToken)
    {
        var (stored, _) = await ReadRowAsync(stateName, grainId, cancellationToken).ConfigureAwait(false);
        var storedEtag = stored is { } v ? FormatEtag(v) : null;
        Log.EtagConflict(_logger, _name, grainId, stateName, expected, storedEtag);
        return new InconsistentStateException(
            $"The {operation} of state '{stateName}' of {grainId} in storage '{_name}' expected ETag {expected ?? "(none: no stored row)"} " +
            $"but storage holds {storedEtag ?? "(no row)"}; another writer got there first and nothing was written.",
            storedEtag,
            expected);
    }
}
