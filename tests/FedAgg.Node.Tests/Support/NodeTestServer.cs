using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;
using FedAgg.Server.Hosting;
using FedAgg.Server.Rounds;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FedAgg.Node.Tests.Support;

/// <summary>A real FedAgg server in process (libp2p on 127.0.0.1, a free port), without a chain; it publishes rounds itself.</summary>
public sealed class NodeTestServer : IAsyncDisposable
{
    public const string TaskId = "node-test";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly IHost _host;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, TaskCompletionSource> _published = new();

    private NodeTestServer(IHost host)
    {
        _host = host;
        Server = host.Services.GetRequiredService<FedAggServer>();
        host.Services.GetRequiredService<RoundCloseQueue>().RoundPublished += (task, round) =>
            _published.GetOrAdd(round, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public FedAggServer Server { get; }

    public Multiaddress Address => Server.ListenAddresses[0];

    public static async Task<NodeTestServer> StartAsync(string dataDirectory, int elements, int maxParticipants)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddFedAggServer(o =>
        {
            o.DataDirectory = dataDirectory;
            o.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
            o.MaxSubmissionsPerWindow = 1000;
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(Timeout);
        var server = new NodeTestServer(host);
        var settings = new TaskSettings
        {
            TaskId = TaskId,
            Model = new ModelSpec([new TensorSpec("w", [elements])]),
            Codec = PayloadCodec.Float32,
            Rule = new RuleSpec("mean"),
            Optimizer = new OptimizerSpec("fedavg") { Eta = 1.0 },
            CreditsPerRound = 1000,
            MinParticipants = 1,
            MaxParticipants = maxParticipants,
            RoundDurationSeconds = 3600,
            Admission = AdmissionPolicy.Open,
        };
        var weights = Enumerable.Range(0, elements).Select(static i => (i % 13) * 0.01f).ToArray();
        await server.Server.CreateTaskAsync(settings, weights, CancellationToken.None).WaitAsync(Timeout);
        await server.Server.OpenNextRoundAsync(TaskId, CancellationToken.None).WaitAsync(Timeout);
        return server;
    }

    /// <summary>Waits for the server to publish <paramref name="round"/> (it closes at the task's max participants).</summary>
    public Task WaitPublishedAsync(ulong round) =>
        _published.GetOrAdd(round, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task
            .WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().WaitAsync(Timeout);
        _host.Dispose();
    }
}

/// <summary>A temporary directory removed at dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fedagg-node-{Guid.NewGuid():N}");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
