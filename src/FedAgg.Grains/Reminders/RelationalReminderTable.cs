using System.Data.Common;
using System.Globalization;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;

namespace FedAgg.Grains.Reminders;

/// <summary>Reminders in the <c>grain_reminder</c> table of a SQLite or PostgreSQL database (the same schema as grain state).</summary>
internal sealed class RelationalReminderTable : IReminderTable, IAsyncDisposable
{
    private const string Columns = "grain_type, grain_key, reminder_name, first_tick_ms, period_ms, version";

    private const string UpsertSql = """
        INSERT INTO grain_reminder (grain_type, grain_key, reminder_name, first_tick_ms, period_ms, version)
        VALUES (@type, @key, @name, @first, @period, 1)
        ON CONFLICT (grain_type, grain_key, reminder_name)
        DO UPDATE SET first_tick_ms = excluded.first_tick_ms, period_ms = excluded.period_ms, version = grain_reminder.version + 1
        RETURNING version
        """;

    private readonly RelationalDatabase _database;

    public RelationalReminderTable(RelationalDatabase database) => _database = database;

    public RelationalDatabase Database => _database;

    public Task InitAsync(CancellationToken cancellationToken) => _database.EnsureSchemaAsync(cancellationToken);

    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken)
        => QueryAsync($"SELECT {Columns} FROM grain_reminder", null, null, cancellationToken);

    public Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken)
        => QueryAsync($"SELECT {Columns} FROM grain_reminder WHERE grain_type = @type AND grain_key = @key", grainId, null, cancellationToken);

    public async Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            $"SELECT {Columns} FROM grain_reminder WHERE grain_type = @type AND grain_key = @key AND reminder_name = @name",
            grainId, reminderName, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = UpsertSql;
        AddKey(command, entry.GrainId, entry.ReminderName);
        AddParameter(command, "@first", entry.StartAt.ToUnixTimeMilliseconds());
        AddParameter(command, "@period", (long)entry.Period.TotalMilliseconds);
        var version = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(version, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        if (!long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return false;
        }

        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_reminder WHERE grain_type = @type AND grain_key = @key AND reminder_name = @name AND version = @version";
        AddKey(command, grainId, reminderName);
        AddParameter(command, "@version", version);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    private static void AddKey(DbCommand command, GrainId grainId, string? reminderName)
    {
        AddParameter(command, "@type", grainId.Type);
        AddParameter(command, "@key", grainId.Key);
        if (reminderName is not null)
        {
            AddParameter(command, "@name", reminderName);
        }
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private async Task<IReadOnlyList<ReminderEntry>> QueryAsync(string sql, GrainId? grainId, string? reminderName, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (grainId is { } id)
        {
            AddKey(command, id, reminderName);
        }

        var rows = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new ReminderEntry
            {
                GrainId = new GrainId(reader.GetString(0), reader.GetString(1)),
                ReminderName = reader.GetString(2),
                StartAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                Period = TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                ETag = reader.GetInt64(5).ToString(CultureInfo.InvariantCulture),
            });
        }

        return rows;
    }
}
