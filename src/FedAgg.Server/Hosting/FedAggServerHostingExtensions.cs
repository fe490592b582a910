using System.Diagnostics.Metrics;
using FedAgg.Grains.Hosting;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using FedAgg.Server.Chain;
using FedAgg.Server.Grains;
using FedAgg.Server.Rounds;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Hosting;

/// <summary>Adds the FedAgg server to a host.</summary>
public static class FedAggServerHostingExtensions
{
    /// <summary>
    /// Adds the server: options (section <see cref="FedAggServerOptions.SectionName"/>, then <paramref name="configure"/>;
    /// validated at start), the durable stores, the grain runtime with the task, round, participant and admin grains on SQLite
    /// (<see cref="FedAggServerOptions.GrainDatabasePath"/>, state and reminders) or PostgreSQL (<see cref="FedAggServerOptions.GrainStorage"/>), and <see cref="FedAggServer"/>. Hosted
    /// services start in that order and stop in reverse. Call it before any other <c>UseGrains</c>.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="configure">Changes the options after configuration binding; optional.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHostApplicationBuilder AddFedAggServer(this IHostApplicationBuilder builder, Action<FedAggServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<FedAggServerOptions>()
            .BindConfiguration(FedAggServerOptions.SectionName)
            .Configure(o => configure?.Invoke(o))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FedAggServerOptions>, FedAggServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ServerMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new TaskDirectory(sp.GetRequiredService<IOptions<FedAggServerOptions>>().Value.MaxPayloadBytes));
        services.TryAddSingleton<RoundCloseQueue>();
        services.TryAddSingleton<IRoundCloseHandler>(sp => sp.GetRequiredService<RoundCloseQueue>());
        services.TryAddSingleton<IRoundAnchorer>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<FedAggServerOptions>>().Value;
            return options.Chain.RpcUrl is null
                ? new NoChainAnchorer()
                : new LedgerRoundAnchorer(options, sp.GetRequiredService<ServerMetrics>(), sp.GetRequiredService<ILoggerFactory>());
        });
        services.TryAddSingleton<RoundFinalizer>();
        services.AddSingleton<ServerStores>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerStores>());

        // The storage provider is chosen now, from the same sources the options bind from (validation comes at start).
        var chosen = new FedAggServerOptions();
        builder.Configuration.GetSection(FedAggServerOptions.SectionName).Bind(chosen);
        configure?.Invoke(chosen);
        var postgres = chosen.GrainStorage == "postgresql";
        builder.UseGrains(grains =>
        {
            grains.AddGrain<ITaskGrain, TaskGrain>();
            grains.AddGrain<IRoundGrain, RoundGrain>();
            grains.AddGrain<IParticipantGrain, ParticipantGrain>();
            grains.AddGrain<IAdminGrain, AdminGrain>();
            if (postgres)
            {
                grains.AddPostgresStorage(PersistentStateAttribute.DefaultStorageName, static _ => { });
                grains.UsePostgresReminders(static _ => { });
            }
            else
            {
                grains.AddSqliteStorage(PersistentStateAttribute.DefaultStorageName, static _ => { });
                grains.UseSqliteReminders(static _ => { });
            }
        });
        if (postgres)
        {
            services.AddOptions<PostgresStorageOptions>(PersistentStateAttribute.DefaultStorageName)
                .Configure<IOptions<FedAggServerOptions>>(static (o, server) => o.ConnectionString = server.Value.PostgresConnectionString ?? "");
            services.AddOptions<PostgresStorageOptions>(GrainsBuilder.ReminderOptionsName)
                .Configure<IOptions<FedAggServerOptions>>(static (o, server) => o.ConnectionString = server.Value.PostgresConnectionString ?? "");
        }
        else
        {
            services.AddOptions<SqliteStorageOptions>(PersistentStateAttribute.DefaultStorageName)
                .Configure<IOptions<FedAggServerOptions>>(static (o, server) => o.DataSource = server.Value.GrainDatabasePath);
            services.AddOptions<SqliteStorageOptions>(GrainsBuilder.ReminderOptionsName)
                .Configure<IOptions<FedAggServerOptions>>(static (o, server) => o.DataSource = server.Value.GrainDatabasePath);
        }

        // Orleans-style activation collection (CollectionAge, CollectionQuantum) from FedAgg:Grains:Collection.
        services.AddOptions<GrainCollectionOptions>().BindConfiguration("FedAgg:Grains:Collection");
        services.AddSingleton<FedAggServer>();
        services.AddHostedService(sp => sp.GetRequiredService<FedAggServer>());
        services.AddHostedService(sp => sp.GetRequiredService<RoundCloseQueue>());
        return builder;
    }
}
