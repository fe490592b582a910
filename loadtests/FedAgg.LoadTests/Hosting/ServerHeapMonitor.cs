using System.Text.Json;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Libp2p;

namespace FedAgg.LoadTests.Hosting;

/// <summary>One answer of the server's <c>server.status</c> admin command (docs/PROTOCOL.md, <c>/fedagg/admin/1.0.0</c>).</summary>
/// <param name="At">Time since the monitor started (the scenario's start).</param>
/// <param name="Round">Rounds published by the workload when the sample was taken (0 when the workload does not roll rounds).</param>
/// <param name="GcHeapBytes">The GC heap's size at its last collection (<c>gcHeapBytes</c>).</param>
/// <param name="TotalManagedBytes">Managed bytes allocated now, without a collection (<c>totalManagedBytes</c>).</param>
/// <param name="RetainedBytes">Live managed bytes after a forced full collection (<c>retainedBytes</c>); null when none was asked for.</param>
/// <param name="Gen0Collections">Generation 0 collections so far.</param>
/// <param name="Gen1Collections">Generation 1 collections so far.</param>
/// <param name="Gen2Collections">Generation 2 collections so far (the forced ones included).</param>
/// <param name="TotalAllocatedBytes">Bytes the server allocated since it started.</param>
/// <param name="WorkingSetBytes">The server's working set.</param>
/// <param name="Threads">The server's threads.</param>
/// <param name="RetainedLargeObjectBytes">Of <paramref name="RetainedBytes"/>, the large- and pinned-object heaps (pooled buffers, mostly); null without a forced collection.</param>
public sealed record HeapSample(
    TimeSpan At, long Round, long GcHeapBytes, long TotalManagedBytes, long? RetainedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections,
    long TotalAllocatedBytes, long WorkingSetBytes, int Threads, long? RetainedLargeObjectBytes = null)
{
    /// <summary>Retained bytes on the small-object heap (retained less the large- and pinned-object heaps); null without a forced collection.</summary>
    public long? RetainedSmallObjectBytes => RetainedBytes - (RetainedLargeObjectBytes ?? 0);
}

/// <summary>
/// Samples the server's managed heap through the coordinator-only <c>server.status</c> admin command, over its own
/// connection with the coordinator's key: either when asked (<see cref="SampleAsync"/>, e.g. every N rounds) or every
/// <c>interval</c> (<see cref="RunPeriodicAsync"/>). A sample with <c>collect</c> forces a full, blocking collection on the
/// server (a pause of a few milliseconds on a small heap) and so measures what the server retains. Keeps at most
/// <see cref="MaxSamples"/> samples; failures are counted, not thrown (the load run goes on without heap figures).
/// </summary>
public sealed class ServerHeapMonitor : IAsyncDisposable
{
    /// <summary>The most samples kept (later ones are dropped and counted in <see cref="Failures"/>).</summary>
    public const int MaxSamples = 100_000;

    private static readonly TimeSpan SampleTimeout = TimeSpan.FromSeconds(30);
    private readonly Multiaddress _server;
    private readonly string _coordinatorKeyFile;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<HeapSample> _samples = [];
    private readonly SemaphoreSlim _one = new(1, 1);
    private long _started;
    private Ed25519PrivateKey? _key;
    private FedAggClient? _client;
    private int _failures;
    private string? _lastError;

    /// <summary>Creates the monitor (connects nothing until <see cref="StartAsync"/>).</summary>
    /// <param name="server">The server's address.</param>
    /// <param name="coordinatorKeyFile">The coordinator's key file (<c>server.status</c> is coordinator-only).</param>
    /// <param name="timeProvider">The clock (default the system's).</param>
    public ServerHeapMonitor(Multiaddress server, string coordinatorKeyFile, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(coordinatorKeyFile);
        _server = server;
        _coordinatorKeyFile = coordinatorKeyFile;
        _time = timeProvider ?? TimeProvider.System;
        _started = _time.GetTimestamp();
    }

    /// <summary>Samples so far, in time order.</summary>
    public IReadOnlyList<HeapSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Samples that could not be taken (no connection, refused, malformed answer, or over <see cref="MaxSamples"/>).</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Why the last failed sample failed; null when none failed.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>Connects to the server with the coordinator's key and restarts the monitor's clock.</summary>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>A task that completes when connected.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _key ??= KeyFile.Load(_coordinatorKeyFile, out _);
        _client ??= await FedAggClient.ConnectAsync(_server, _key, cancellationToken: cancellationToken).ConfigureAwait(false);
        _started = _time.GetTimestamp();
    }

    /// <summary>Asks the server for <c>server.status</c> and records the answer.</summary>
    /// <param name="round">The workload's published rounds now (recorded with the sample).</param>
    /// <param name="collect">Whether the server forces a full collection first (<c>retainedBytes</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The sample, or null when it failed (see <see cref="LastError"/>).</returns>
    public async Task<HeapSample?> SampleAsync(long round, bool collect, CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException("call StartAsync first");
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(SampleTimeout);
            var at = _time.GetElapsedTime(_started);
            var response = await client.AdminAsync("server.status", collect ? """{"collect":true}""" : "{}", timeout.Token).ConfigureAwait(false);
            if (response.Status != ServiceStatus.Ok)
            {
                return Fail($"server.status answered {response.Status}: {response.Reason}");
            }

            if (!TryParse(response.ResultJson, at, round, out var sample, out var error))
            {
                return Fail(error);
            }

            lock (_lock)
            {
                if (_samples.Count >= MaxSamples)
                {
                    return Fail($"more than {MaxSamples} samples");
                }

                _samples.Add(sample);
            }

            return sample;
        }
        catch (Exception e) when (e is Libp2pException or FedAggProtocolException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Fail($"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>Samples every <paramref name="interval"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="interval">The time between samples (more than 0).</param>
    /// <param name="collect">Whether each sample forces a full collection on the server.</param>
    /// <param name="round">Reads the workload's published rounds for each sample.</param>
    /// <param name="cancellationToken">Ends the loop (the returned task then completes without throwing).</param>
    /// <returns>A task that completes when the loop ends.</returns>
    public async Task RunPeriodicAsync(TimeSpan interval, bool collect, Func<long> round, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(round);
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await SampleAsync(round(), collect, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run ended.
        }
    }

    /// <summary>Closes the connection.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        _key?.Dispose();
        _one.Dispose();
    }

    /// <summary>Reads a <c>server.status</c> result.</summary>
    /// <param name="json">The result JSON.</param>
    /// <param name="at">When it was asked for.</param>
    /// <param name="round">The workload's published rounds then.</param>
    /// <param name="sample">The sample.</param>
    /// <param name="error">Why it could not be read.</param>
    /// <returns>Whether it was read.</returns>
    internal static bool TryParse(string json, TimeSpan at, long round, out HeapSample sample, out string error)
    {
        sample = null!;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            long? retained = root.TryGetProperty("retainedBytes", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetInt64() : null;
            long? large = root.TryGetProperty("retainedLargeObjectBytes", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt64() : null;
            sample = new HeapSample(at, round, root.GetProperty("gcHeapBytes").GetInt64(), root.GetProperty("totalManagedBytes").GetInt64(), retained,
                root.GetProperty("gen0Collections").GetInt32(), root.GetProperty("gen1Collections").GetInt32(), root.GetProperty("gen2Collections").GetInt32(),
                root.GetProperty("totalAllocatedBytes").GetInt64(), root.GetProperty("workingSetBytes").GetInt64(), root.GetProperty("threads").GetInt32(), large);
            error = "";
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            error = $"server.status answered an unreadable result: {e.Message}";
            return false;
        }
    }

    private HeapSample? Fail(string error)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastError, error);
        return null;
    }
}
