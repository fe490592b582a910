using FedAgg.Grains.Hosting;
using FedAgg.Grains.Runtime;
using FedAgg.TestKit.Time;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FedAgg.Grains.Tests.TestSupport;

/// <summary>A real host (the same <c>UseGrains</c> the product uses) on a fake clock, with a <see cref="Probe"/> for the test grains.</summary>
public sealed class GrainTestHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private GrainTestHost(IHost host, ManualTimeProvider clock, Probe probe)
    {
        _host = host;
        Clock = clock;
        Probe = probe;
    }

    public ManualTimeProvider Clock { get; }

    public Probe Probe { get; }

    public IServiceProvider Services => _host.Services;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    internal GrainRuntime Runtime => _host.Services.GetRequiredService<GrainRuntime>();

    public static IHost Build(Action<GrainsBuilder> configure, ManualTimeProvider clock, Probe probe)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton(probe);
        builder.UseGrains(grains =>
        {
            TestGrains.AddAll(grains);
            configure(grains);
        });
        return builder.Build();
    }

    public static async Task<GrainTestHost> StartAsync(Action<GrainsBuilder> configure, ManualTimeProvider? clock = null, Probe? probe = null)
    {
        clock ??= new ManualTimeProvider();
        probe ??= new Probe();
        var host = Build(configure, clock, probe);
        await host.StartAsync().WaitAsync(Probe.Timeout);
        return new GrainTestHost(host, clock, probe);
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _host.StopAsync().WaitAsync(Probe.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}

/// <summary>A temporary directory removed at dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fedagg-grains-{Guid.NewGuid():N}");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
