using FedAgg.Grains.Hosting;
using FedAgg.Grains.Runtime;
using FedAgg.Grains.Storage;
using FedAgg.Grains.Tests.TestSupport;
using FedAgg.TestKit.Postgres;
using FedAgg.TestKit.Time;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FedAgg.Grains.Tests.Hosting;

public interface IReturnsInt : IGrainWithStringKey
{
    int Value();
}

public interface IHasProperty : IGrainWithStringKey
{
    Task<int> Value { get; }

    Task Fine();

    void Nothing();
}

public sealed class ReturnsIntGrain : Grain, IReturnsInt
{
    public int Value() => 1;
}

public sealed class HasPropertyGrain : Grain, IHasProperty
{
    public Task<int> Value => Task.FromResult(1);

    public Task Fine() => Task.CompletedTask;

    public void Nothing()
    {
    }
}

public interface IStatefulElsewhere : IGrainWithStringKey
{
    Task<int> Get();
}

public sealed class StatefulElsewhereGrain([PersistentState("s", "missing")] IPersistentState<CounterState> state) : Grain, IStatefulElsewhere
{
    public Task<int> Get() => Task.FromResult(state.State.Value);
}

public sealed class HostingTests
{
    [Fact]
    public void AddGrain_MethodReturningInt_IsRejectedAtRegistrationNamingTheMethod()
    {
        var services = new ServiceCollection();

        var thrown = Assert.Throws<ArgumentException>(() => services.AddGrains(g => g.AddGrain<IReturnsInt, ReturnsIntGrain>()));

        Assert.Contains("IReturnsInt.Value: returns Int32", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGrain_PropertyAndVoidMethod_AreRejectedNamingEach()
    {
        var services = new ServiceCollection();

        var thrown = Assert.Throws<ArgumentException>(() => services.AddGrains(g => g.AddGrain<IHasProperty, HasPropertyGrain>()));

        Assert.Contains("IHasProperty.get_Value: properties and events are not supported", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("IHasProperty.Nothing: returns Void", thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Fine", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGrain_SameInterfaceTwice_IsRejected()
    {
        var services = new ServiceCollection();

        var thrown = Assert.Throws<ArgumentException>(() => services.AddGrains(g =>
        {
            g.AddGrain<ITurnGrain, TurnGrain>();
            g.AddGrain<ITurnGrain, TurnGrain>();
        }));

        Assert.Contains("already implemented by TurnGrain", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetGrain_UnregisteredInterface_ThrowsNamingTheFix()
    {
        using var services = new ServiceCollection().AddGrains(_ => { }).BuildServiceProvider();

        var thrown = Assert.Throws<ArgumentException>(() => services.GetRequiredService<IGrainFactory>().GetGrain<ITurnGrain>("x"));

        Assert.Contains("grains.AddGrain<ITurnGrain, TGrain>()", thrown.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StartAsync_CollectionAgeZero_FailsNamingTheOption()
    {
        using var host = GrainTestHost.Build(g => g.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.Zero), new ManualTimeProvider(), new Probe());

        var thrown = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("GrainCollectionOptions.CollectionAge must be positive", thrown.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StartAsync_SqliteStorageWithoutDataSource_FailsNamingTheOptionAndStorage()
    {
        using var host = GrainTestHost.Build(g => g.AddSqliteStorage("Default", _ => { }), new ManualTimeProvider(), new Probe());

        var thrown = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("SqliteStorageOptions.DataSource of grain storage 'Default' must be set", thrown.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StartAsync_ResponseTimeoutNegative_FailsOnABareServiceCollectionToo()
    {
        await using var services = new ServiceCollection()
            .AddSingleton(new Probe())
            .AddGrains(g => g.Configure<MessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(-1)))
            .BuildServiceProvider();

        var thrown = await Assert.ThrowsAsync<OptionsValidationException>(
            () => services.GetServices<IHostedService>().Single().StartAsync(CancellationToken.None));

        Assert.Contains("MessagingOptions.ResponseTimeout must be positive", thrown.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task StartAsync_StateUsesUnregisteredStorage_FailsNamingGrainStateAndStorage()
    {
        using var dir = new TempDirectory();
        using var host = GrainTestHost.Build(
            g =>
            {
                g.AddSqliteStorage("Default", o => o.DataSource = dir.File("grains.db"));
                g.AddGrain<IStatefulElsewhere, StatefulElsewhereGrain>();
            },
            new ManualTimeProvider(),
            new Probe());

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("StatefulElsewhereGrain's state 's'", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("'missing', which is not registered", thrown.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Test)]
    public async Task PostgresInstance_BinariesMissing_FailsWithTheInstallCommand()
    {
        using var dir = new TempDirectory();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresInstance.StartAsync(dir.Path));

        Assert.Contains("apt-get install -y postgresql", thrown.Message, StringComparison.Ordinal);
    }
}
