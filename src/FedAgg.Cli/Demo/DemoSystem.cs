using System.Collections.Concurrent;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Core.Rounds;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Server.Rounds;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FedAgg.Cli.Demo;

/// <summary>The demo's infrastructure in one process: the embedded chain (anvil with FedAggLedger) and the FedAgg server on 127.0.0.1.</summary>
internal sealed class DemoSystem : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string TaskId, ulong Round), TaskCompletionSource> _published = new();
    private readonly ILoggerFactory _chainLogs;
    private readonly bool _deleteData;
    private IHost? _host;

    private DemoSystem(string dataDirectory, bool deleteData, Devnet devnet, ILoggerFactory chainLogs)
    {
        DataDirectory = dataDirectory;
        _deleteData = deleteData;
        Devnet = devnet;
        _chainLogs = chainLogs;
    }

    public string DataDirectory { get; }

    /// <summary>The server's data directory (what <c>fedagg verify --data</c> reads).</summary>
    public string ServerDataDirectory => Path.Combine(DataDirectory, "server");

    public Devnet Devnet { get; }

    public FedAggServer Server => _host?.Services.GetRequiredService<FedAggServer>() ?? throw new InvalidOperationException("not started");

    public RoundCloseQueue Queue => _host?.Services.GetRequiredService<RoundCloseQueue>() ?? throw new InvalidOperationException("not started");

    public Multiaddress Address => Server.ListenAddresses[0];

    public static async Task<DemoSystem> StartAsync(string? dataDirectory, bool verbose, CancellationToken cancellationToken)
    {
        var deleteData = dataDirectory is null;
        dataDirectory = Path.GetFullPath(dataDirectory ?? Path.Combine(Path.GetTempPath(), $"fedagg-demo-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(dataDirectory);
        var level = verbose ? LogLevel.Information : LogLevel.Error;
        var chainLogs = LoggerFactory.Create(b => AddStderrLogging(b, level));
        Devnet devnet;
        try
        {
            devnet = await Devnet.StartAsync(
                new LocalChainOptions { DataDirectory = Path.Combine(dataDirectory, "chain"), Port = 0 },
                chainLogs.CreateLogger("FedAgg.Chain.Devnet"),
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            chainLogs.Dispose();
            throw;
        }

        var system = new DemoSystem(dataDirectory, deleteData, devnet, chainLogs);
        try
        {
            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = dataDirectory });
            AddStderrLogging(builder.Logging, level);
            builder.AddFedAggServer(o =>
            {
                o.DataDirectory = system.ServerDataDirectory;
                o.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
                o.MaxSubmissionsPerWindow = 100_000;
                o.ChainId = devnet.Chain.ChainId;
                o.Ledger = devnet.Deployment.Ledger.ToString();
                o.Chain.RpcUrl = devnet.Chain.RpcUrl.ToString();
                o.Chain.AnchorKeyFile = WriteKey(dataDirectory, "anchor.key", Devnet.AnchorKeyHex);
                o.Chain.RegistrarKeyFile = WriteKey(dataDirectory, "admin.key", Devnet.AdminKeyHex);
                o.Chain.PollInterval = TimeSpan.FromMilliseconds(20);
            });
            system._host = builder.Build();
            await system._host.StartAsync(cancellationToken).ConfigureAwait(false);
            system.Queue.RoundPublished += system.OnPublished;
            return system;
        }
        catch
        {
            await system.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates and registers a task, and opens its first round.</summary>
    public async Task<TaskInfo> CreateTaskAsync(TaskSettings settings, float[] weights, CancellationToken cancellationToken)
    {
        var task = await Server.CreateTaskAsync(settings, weights, cancellationToken).ConfigureAwait(false);
        await Server.OpenNextRoundAsync(settings.TaskId, cancellationToken).ConfigureAwait(false);
        return task;
    }

    /// <summary>Closes a round that did not fill up (some updates were rejected).</summary>
    public Task CloseRoundAsync(string taskId, ulong round, string reason) =>
        Server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, round)).CloseAsync(reason);

    /// <summary>Waits until the server published the round (aggregated, anchored, manifest written).</summary>
    public async Task WaitPublishedAsync(string taskId, ulong round, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var published = _published.GetOrAdd((taskId, round), static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (!published.IsCompleted)
        {
            try
            {
                await published.WaitAsync(TimeSpan.FromMilliseconds(250), deadline.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                if (Queue.Failures().TryGetValue((taskId, round), out var failure))
                {
                    throw new DemoException($"the server could not publish round {round} of '{taskId}': {failure}");
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DemoException($"round {round} of '{taskId}' was not published within {timeout.TotalSeconds:0} s");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            Queue.RoundPublished -= OnPublished;
            await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            _host.Dispose();
        }

        await Devnet.DisposeAsync().ConfigureAwait(false);
        _chainLogs.Dispose();
        if (_deleteData)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    private void OnPublished(string taskId, ulong round) =>
        _published.GetOrAdd((taskId, round), static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private static string WriteKey(string dataDirectory, string name, string hex)
    {
        var path = Path.Combine(dataDirectory, "chain", "keys", name);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var key = Secp256k1PrivateKey.FromHex(hex);
            Chain.EthereumKeyFile.Write(path, key);
        }

        return path;
    }

    private static void AddStderrLogging(ILoggingBuilder logging, LogLevel minimum)
    {
        logging.SetMinimumLevel(minimum);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
