using System.Collections.Concurrent;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Server.Rounds;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FedAgg.Server.Tests.Support;

/// <summary>A real server in process: libp2p on 127.0.0.1 (a free port), the update store, model store and SQLite grains in a directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string TaskId = "demo";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly IHost _host;
    private bool _stopped;

    private TestServer(IHost host, RecordingCloseHandler closes)
    {
        _host = host;
        Closes = closes;
        Server = host.Services.GetRequiredService<FedAggServer>();
        Queue = host.Services.GetRequiredService<RoundCloseQueue>();
        Queue.RoundPublished += (task, round) => Published.Writer.TryWrite((task, round));
    }

    /// <summary>The server's close queue (publishes rounds unless the test recorded closes instead).</summary>
    public RoundCloseQueue Queue { get; }

    /// <summary>Every round published, in order.</summary>
    public System.Threading.Channels.Channel<(string TaskId, ulong Round)> Published { get; } = System.Threading.Channels.Channel.CreateUnbounded<(string, ulong)>();

    /// <summary>Waits for round <paramref name="round"/> of the task to be published.</summary>
    public async Task WaitPublishedAsync(ulong round, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            var (_, published) = await Published.Reader.ReadAsync(cancel.Token);
            if (published == round)
            {
                return;
            }
        }
    }

    public FedAggServer Server { get; }

    public RecordingCloseHandler Closes { get; }

    public Multiaddress Address => Server.ListenAddresses[0];

    public IRoundGrain Round(ulong round = 1) => Server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(TaskId, round));

    public IParticipantGrain Participant(string peerId) => Server.Grains.GetGrain<IParticipantGrain>(peerId);

    public static TaskSettings Settings(int elements = 1000, int maxParticipants = 100, long roundDurationSeconds = 3600, AdmissionPolicy admission = AdmissionPolicy.Open) => new()
    {
        TaskId = TaskId,
        Model = new ModelSpec([new TensorSpec("w", [elements])]),
        Codec = PayloadCodec.Float32,
        Rule = new RuleSpec("trimmed-mean") { Beta = 0.2 },
        Optimizer = new OptimizerSpec("fedavg") { Eta = 1.0 },
        CreditsPerRound = 1000,
        MinParticipants = 1,
        MaxParticipants = maxParticipants,
        RoundDurationSeconds = roundDurationSeconds,
        Admission = admission,
    };

    public static float[] InitialWeights(int elements)
    {
        var weights = new float[elements];
        for (var i = 0; i < elements; i++)
        {
            weights[i] = (i % 97) * 0.01f - 0.5f;
        }

        return weights;
    }

    /// <summary>Starts a server on <paramref name="dataDirectory"/>; with <paramref name="settings"/>, creates the task and opens round 1.</summary>
    /// <remarks>With <paramref name="publish"/> the server's own close queue publishes rounds; otherwise closes are only recorded in <see cref="Closes"/>.</remarks>
    public static async Task<TestServer> StartAsync(string dataDirectory, TaskSettings? settings = null, Action<FedAggServerOptions>? configure = null, bool publish = false)
    {
        var closes = new RecordingCloseHandler();
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (!publish)
        {
            builder.Services.AddSingleton<IRoundCloseHandler>(closes);
        }

        builder.AddFedAggServer(o =>
        {
            o.DataDirectory = dataDirectory;
            o.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
            o.RequestTimeout = TimeSpan.FromSeconds(10);
            o.PayloadIdleTimeout = TimeSpan.FromSeconds(10);
            o.MaxSubmissionsPerWindow = 1000;
            configure?.Invoke(o);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(Timeout);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        var server = new TestServer(host, closes);
        if (settings is not null)
        {
            var elements = (int)settings.Model.NumElements;
            await server.Server.CreateTaskAsync(settings, InitialWeights(elements), CancellationToken.None).WaitAsync(Timeout);
            await server.Server.OpenNextRoundAsync(settings.TaskId, CancellationToken.None).WaitAsync(Timeout);
        }

        return server;
    }

    public async Task<TaskInfo> TaskAsync() => (await Server.Grains.GetGrain<ITaskGrain>(TaskId).GetInfoAsync().WaitAsync(Timeout))!;

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync().WaitAsync(Timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}

/// <summary>The close handler of tests: records every close and lets a test wait for one.</summary>
public sealed class RecordingCloseHandler : IRoundCloseHandler
{
    private readonly ConcurrentQueue<RoundStatus> _closed = new();
    private readonly TaskCompletionSource<RoundStatus> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyCollection<RoundStatus> Closed => _closed;

    public Task<RoundStatus> FirstClose => _first.Task;

    public Task OnRoundClosedAsync(RoundStatus status, CancellationToken cancellationToken)
    {
        _closed.Enqueue(status);
        _first.TrySetResult(status);
        return Task.CompletedTask;
    }
}
