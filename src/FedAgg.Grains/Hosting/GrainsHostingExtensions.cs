using FedAgg.Grains.Reminders;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FedAgg.Grains.Hosting;

/// <summary>Adds the grain runtime to a host. Orleans: <c>UseOrleans</c> / <c>AddOrleans</c>.</summary>
public static class GrainsHostingExtensions
{
    /// <summary>
    /// Adds the grain runtime as a hosted service (started with the host; on stop it deactivates every activation and
    /// stops timers and reminders) and <see cref="IGrainFactory"/>, then lets <paramref name="configure"/> register
    /// grains and storage. Options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="configure">Registers grains, storage providers and reminders.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHostApplicationBuilder UseGrains(this IHostApplicationBuilder builder, Action<GrainsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddGrains(configure);
        return builder;
    }

    /// <summary>The same as <see cref="UseGrains"/> on a bare service collection (tests, custom hosts).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Registers grains, storage providers and reminders.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddGrains(this IServiceCollection services, Action<GrainsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var grains = FindInstance<GrainTypeRegistry>(services);
        var storages = FindInstance<StorageRegistry>(services);
        if (grains is null || storages is null)
        {
            grains = new GrainTypeRegistry();
            storages = new StorageRegistry();
            services.AddSingleton(grains);
            services.AddSingleton(storages);
            services.AddLogging();
            services.AddOptions();
            services.TryAddSingleton(TimeProvider.System);
            services.AddOptions<GrainCollectionOptions>().ValidateOnStart();
            services.AddOptions<MessagingOptions>().ValidateOnStart();
            services.AddOptions<ReminderOptions>().ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrainCollectionOptions>, GrainOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, GrainOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReminderOptions>, GrainOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStorageOptions>, GrainOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStorageOptions>, GrainOptionsValidator>());
            services.AddSingleton<GrainRuntime>();
            services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<GrainRuntime>());
            services.AddHostedService<GrainRuntimeHostedService>();
        }

        configure(new GrainsBuilder(services, grains, storages));
        return services;
    }

    private static T? FindInstance<T>(IServiceCollection services)
        where T : class
        => services.FirstOrDefault(d => d.ServiceType == typeof(T) && !d.IsKeyedService && d.ImplementationInstance is T)?.ImplementationInstance as T;
}

/// <summary>Starts and stops the grain runtime with the host.</summary>
internal sealed class GrainRuntimeHostedService(GrainRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runtime.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAsync(cancellationToken);
}

/// <summary>Validates every grain option, naming the bad option and its allowed range.</summary>
internal sealed class GrainOptionsValidator :
    IValidateOptions<GrainCollectionOptions>,
    IValidateOptions<MessagingOptions>,
    IValidateOptions<ReminderOptions>,
    IValidateOptions<SqliteStorageOptions>,
    IValidateOptions<PostgresStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, GrainCollectionOptions options)
    {
        var failures = new List<string>();
        Positive(failures, "GrainCollectionOptions.CollectionQuantum", options.CollectionQuantum);
        Positive(failures, "GrainCollectionOptions.CollectionAge", options.CollectionAge);
        Positive(failures, "GrainCollectionOptions.DeactivationTimeout", options.DeactivationTimeout);
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        var failures = new List<string>();
        if (options.ResponseTimeout != Timeout.InfiniteTimeSpan)
        {
            Positive(failures, "MessagingOptions.ResponseTimeout", options.ResponseTimeout);
        }

        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, ReminderOptions options)
    {
        var failures = new List<string>();
        Positive(failures, "ReminderOptions.MinimumReminderPeriod", options.MinimumReminderPeriod);
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, SqliteStorageOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataSource))
        {
            failures.Add($"SqliteStorageOptions.DataSource of {Describe(name)} must be set to a database file path.");
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"SqliteStorageOptions.BusyTimeout of {Describe(name)} must be between 0 (exclusive) and 1 hour (was {options.BusyTimeout}).");
        }

        if (options.SerializerOptions is null)
        {
            failures.Add($"SqliteStorageOptions.SerializerOptions of {Describe(name)} must be set.");
        }

        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, PostgresStorageOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"PostgresStorageOptions.ConnectionString of {Describe(name)} must be set.");
        }
        else
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException)
            {
                // The connection string may hold a password: name the problem, not the text.
                failures.Add($"PostgresStorageOptions.ConnectionString of {Describe(name)} is not a valid Npgsql connection string.");
            }
        }

        if (options.SerializerOptions is null)
        {
            failures.Add($"PostgresStorageOptions.SerializerOptions of {Describe(name)} must be set.");
        }

        return Result(failures);
    }

    private static string Describe(string? name)
        => name == GrainsBuilder.ReminderOptionsName ? "the reminder table" : $"grain storage '{name}'";

    private static void Positive(List<string> failures, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{option} must be positive (was {value}).");
        }
    }

    private static ValidateOptionsResult Result(List<string> failures)
        => failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
