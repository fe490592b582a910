using FedAgg.Grains.Reminders;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Grains.Hosting;

/// <summary>Configures the grain runtime: grain classes, storage providers, reminders, options. Orleans: <c>ISiloBuilder</c>.</summary>
public sealed class GrainsBuilder
{
    /// <summary>The name under which the reminder table's options are registered.</summary>
    public const string ReminderOptionsName = "Reminders";

    private readonly GrainTypeRegistry _grains;
    private readonly StorageRegistry _storages;

    internal GrainsBuilder(IServiceCollection services, GrainTypeRegistry grains, StorageRegistry storages)
    {
        Services = services;
        _grains = grains;
        _storages = storages;
    }

    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers a grain class for a grain interface; the interface is checked now.</summary>
    /// <typeparam name="TGrainInterface">The grain interface; every method must return Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;.</typeparam>
    /// <typeparam name="TGrain">The grain class.</typeparam>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">The interface or class cannot be used, naming every offending member.</exception>
    public GrainsBuilder AddGrain<TGrainInterface, TGrain>()
        where TGrainInterface : IGrainWithStringKey
        where TGrain : Grain, TGrainInterface
    {
        _grains.Add(typeof(TGrainInterface), typeof(TGrain));
        return this;
    }

    /// <summary>Configures runtime options (<see cref="GrainCollectionOptions"/>, <see cref="MessagingOptions"/>, <see cref="ReminderOptions"/>).</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public GrainsBuilder Configure<TOptions>(Action<TOptions> configure)
        where TOptions : class
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Adds a SQLite grain storage named <paramref name="name"/> (use <c>"Default"</c> for states that name none).</summary>
    /// <param name="name">The storage name used in <see cref="PersistentStateAttribute"/>.</param>
    /// <param name="configure">Sets <see cref="SqliteStorageOptions.DataSource"/> and friends.</param>
    /// <returns>This builder.</returns>
    public GrainsBuilder AddSqliteStorage(string name, Action<SqliteStorageOptions> configure)
    {
        _storages.Add(name);
        Services.AddOptions<SqliteStorageOptions>(name).Configure(configure).ValidateOnStart();
        Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
        {
            var options = services.GetRequiredService<IOptionsMonitor<SqliteStorageOptions>>().Get(name);
            return new RelationalGrainStorage(name, new SqliteDatabase(options), options.SerializerOptions,
                services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("FedAgg.Grains.Storage"));
        });
        return this;
    }

    /// <summary>Adds a PostgreSQL grain storage named <paramref name="name"/>.</summary>
    /// <param name="name">The storage name used in <see cref="PersistentStateAttribute"/>.</param>
    /// <param name="configure">Sets <see cref="PostgresStorageOptions.ConnectionString"/>.</param>
    /// <returns>This builder.</returns>
    public GrainsBuilder AddPostgresStorage(string name, Action<PostgresStorageOptions> configure)
    {
        _storages.Add(name);
        Services.AddOptions<PostgresStorageOptions>(name).Configure(configure).ValidateOnStart();
        Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
        {
            var options = services.GetRequiredService<IOptionsMonitor<PostgresStorageOptions>>().Get(name);
            return new RelationalGrainStorage(name, new PostgresDatabase(options), options.SerializerOptions,
                services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("FedAgg.Grains.Storage"));
        });
        return this;
    }

    /// <summary>Stores reminders in a SQLite database (give the grain storage's file to keep everything in one file).</summary>
    /// <param name="configure">Sets <see cref="SqliteStorageOptions.DataSource"/>.</param>
    /// <returns>This builder.</returns>
    public GrainsBuilder UseSqliteReminders(Action<SqliteStorageOptions> configure)
    {
        Services.AddOptions<SqliteStorageOptions>(ReminderOptionsName).Configure(configure).ValidateOnStart();
        return UseReminderTable(services =>
            new RelationalReminderTable(new SqliteDatabase(services.GetRequiredService<IOptionsMonitor<SqliteStorageOptions>>().Get(ReminderOptionsName))));
    }

    /// <summary>Stores reminders in a PostgreSQL database.</summary>
    /// <param name="configure">Sets <see cref="PostgresStorageOptions.ConnectionString"/>.</param>
    /// <returns>This builder.</returns>
    public GrainsBuilder UsePostgresReminders(Action<PostgresStorageOptions> configure)
    {
        Services.AddOptions<PostgresStorageOptions>(ReminderOptionsName).Configure(configure).ValidateOnStart();
        return UseReminderTable(services =>
            new RelationalReminderTable(new PostgresDatabase(services.GetRequiredService<IOptionsMonitor<PostgresStorageOptions>>().Get(ReminderOptionsName))));
    }

    private GrainsBuilder UseReminderTable(Func<IServiceProvider, IReminderTable> factory)
    {
        Services.RemoveAll<IReminderTable>();
        Services.AddSingleton(factory);
        Services.TryAddSingleton<ReminderService>();
        return this;
    }
}
