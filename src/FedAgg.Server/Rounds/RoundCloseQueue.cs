using System.Threading.Channels;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Rounds;

/// <summary>
/// The round close hook of the server: a closed round is queued and published by <see cref="RoundFinalizer"/> on one
/// background worker (rounds one at a time: they are CPU-bound, and a task's rounds must be anchored in order). At start
/// it queues every task whose latest round is closed (its publication, or the opening of the next round, may not have finished), so a crash at any point of a close
/// is finished after the restart. A failed round is retried with back-off (the chain may be down); an aggregation
/// that cannot run is logged and retried too, slowly, since only a coordinator can change the inputs.
/// </summary>
public sealed class RoundCloseQueue : BackgroundService, IRoundCloseHandler
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly Channel<(string TaskId, ulong Round)> _queue = Channel.CreateUnbounded<(string, ulong)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<(string, ulong)> _queued = [];
    private readonly Dictionary<(string, ulong), string> _failures = [];
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the queue; the host does this.</summary>
    /// <param name="services">Resolves the finalizer and the server lazily (they depend on the grain runtime, which depends on this hook).</param>
    /// <param name="timeProvider">For retry delays.</param>
    /// <param name="logger">For logs.</param>
    public RoundCloseQueue(IServiceProvider services, TimeProvider timeProvider, ILogger<RoundCloseQueue> logger)
    {
        _services = services;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Raised after a round was published (tests and the CLI wait on it).</summary>
    public event Action<string, ulong>? RoundPublished;

    /// <summary>The last failure of each round that is being retried (task id, round → message).</summary>
    /// <returns>A snapshot.</returns>
    public IReadOnlyDictionary<(string TaskId, ulong Round), string> Failures()
    {
        lock (_gate)
        {
            return new Dictionary<(string, ulong), string>(_failures);
        }
    }

    /// <inheritdoc />
    public Task OnRoundClosedAsync(RoundStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        Enqueue(status.TaskId, status.Round, "closed");
        return Task.CompletedTask;
    }

    /// <summary>Queues a round (once while it waits).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    /// <param name="why">For the log.</param>
    public void Enqueue(string taskId, ulong round, string why)
    {
        lock (_gate)
        {
            if (!_queued.Add((taskId, round)))
            {
                return;
            }
        }

        Log.FinalizeQueued(_logger, taskId, round, why);
        _queue.Writer.TryWrite((taskId, round));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!ReferenceEquals(_services.GetService<IRoundCloseHandler>(), this))
        {
            return; // Another close handler was configured (tests): rounds are not published here.
        }

        var server = _services.GetRequiredService<FedAggServer>();
        var finalizer = _services.GetRequiredService<RoundFinalizer>();
        await QueueUnfinishedAsync(server).ConfigureAwait(false);
        try
        {
            await foreach (var (taskId, round) in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunAsync(finalizer, taskId, round, stoppingToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _queued.Remove((taskId, round));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the next start finishes what is left.
        }
    }

    private async Task RunAsync(RoundFinalizer finalizer, string taskId, ulong round, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await finalizer.FinalizeAsync(taskId, round, stoppingToken).ConfigureAwait(false) is not null)
                {
                    lock (_gate)
                    {
                        _failures.Remove((taskId, round));
                    }

                    RoundPublished?.Invoke(taskId, round);
                }

                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 500 * Math.Pow(2, Math.Min(attempt - 1, 10))));
                lock (_gate)
                {
                    _failures[(taskId, round)] = e.Message;
                }

                Log.FinalizeFailed(_logger, taskId, round, attempt, delay, e);
                await Task.Delay(delay, _timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task QueueUnfinishedAsync(FedAggServer server)
    {
        var tasks = await server.Grains.GetGrain<IAdminGrain>(AdminGrain.Key).ListTasksAsync().ConfigureAwait(false);
        foreach (var taskId in tasks)
        {
            var task = await server.Grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false);
            if (task is null || task.LatestRound == 0)
            {
                continue;
            }

            var status = await server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, task.LatestRound)).GetStatusAsync().ConfigureAwait(false);
            if (status.Phase == RoundPhase.Closed)
            {
                Enqueue(taskId, task.LatestRound, "unfinished at start");
            }
        }
    }
}
