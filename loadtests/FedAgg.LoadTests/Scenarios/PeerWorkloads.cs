using System.Collections.Concurrent;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Libp2p;
using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Scenarios;

/// <summary><c>model-download</c>: P connected peers fetch the task's current model (hash-checked by the client); step <c>download</c>.</summary>
public sealed class ModelDownloadWorkload : IAsyncDisposable
{
    private readonly Multiaddress _server;
    private readonly int _peers;
    private readonly string _taskId;
    private readonly List<(Ed25519PrivateKey Key, FedAggClient Client)> _clients = [];

    /// <summary>Creates the workload.</summary>
    /// <param name="server">The server.</param>
    /// <param name="peers">P, 1 to 10,000.</param>
    /// <param name="taskId">The task (default <c>demo</c>).</param>
    public ModelDownloadWorkload(Multiaddress server, int peers, string taskId = "demo")
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(peers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(peers, 10_000);
        _server = server;
        _peers = peers;
        _taskId = taskId;
    }

    /// <summary>Connects the peers (16 at a time).</summary>
    /// <param name="cancellationToken">Cancels the connects.</param>
    /// <returns>A task that completes when connected.</returns>
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _peers; i += 16)
        {
            var batch = await Task.WhenAll(Enumerable.Range(i, Math.Min(16, _peers - i)).Select(async _ =>
            {
                var key = Ed25519PrivateKey.Generate();
                try
                {
                    return (key, await FedAggClient.ConnectAsync(_server, key, cancellationToken: cancellationToken).ConfigureAwait(false));
                }
                catch
                {
                    key.Dispose();
                    throw;
                }
            })).ConfigureAwait(false);
            _clients.AddRange(batch);
        }
    }

    /// <summary>The steps: <c>download</c>.</summary>
    /// <returns>The steps.</returns>
    public Step[] Steps() =>
    [
        new Step("download", async context =>
        {
            var (_, client) = _clients[(int)(context.InvocationNumber % _clients.Count)];
            var model = await client.FetchModelAsync(_taskId, cancellationToken: context.CancellationToken).ConfigureAwait(false);
            return model.Response.Status == ModelStatus.Ok
                ? StepResult.Ok(0, model.Payload.Length)
                : StepResult.Fail("status:" + model.Response.Status);
        }),
    ];

    /// <summary>Closes the connections.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var (key, client) in _clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            key.Dispose();
        }
    }
}

/// <summary>
/// <c>handshake-storm</c>: each iteration dials the server from a peer with no connection to it (TCP, multistream, Noise
/// XX, Yamux: step <c>connect</c>), waits for the server's identify (step <c>identify</c>) and closes (step <c>close</c>).
/// Peers (own Ed25519 identity, own host and Noise static key) come from a pool and go back to it once closed, as real
/// peers exist before they connect: making a fresh identity per iteration cost the runner about a quarter of a
/// handshake's CPU on the machine it shares with the server, and measured key generation rather than the server. The
/// pool grows to the highest concurrency; every dial is still a full handshake, since a peer is reused only after its
/// connection has closed.
/// </summary>
public sealed class HandshakeStormWorkload : IAsyncDisposable
{
    private static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(10);
    private readonly Multiaddress _server;
    private readonly ConcurrentQueue<Peer> _idle = new();
    private readonly ConcurrentBag<Peer> _all = [];

    /// <summary>Creates the workload.</summary>
    /// <param name="server">The server (with <c>/p2p/…</c>, checked by the handshake).</param>
    public HandshakeStormWorkload(Multiaddress server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
    }

    /// <summary>How many distinct peers the run has made.</summary>
    public int PeersCreated => _all.Count;

    /// <summary>The steps: <c>connect</c>, <c>identify</c>, <c>close</c>.</summary>
    /// <returns>The steps.</returns>
    public Step[] Steps() =>
    [
        new Step("connect", async context =>
        {
            if (!_idle.TryDequeue(out var peer))
            {
                peer = new Peer();
                _all.Add(peer);
            }

            context.Items["peer"] = peer;
            try
            {
                context.Items["connection"] = await peer.Host.DialAsync(_server, context.CancellationToken).ConfigureAwait(false);
                return StepResult.Ok();
            }
            catch
            {
                await CleanUpAsync(context, reuse: false).ConfigureAwait(false);
                throw;
            }
        }),
        new Step("identify", async context =>
        {
            var connection = (Libp2pConnection)context.Items["connection"]!;
            try
            {
                var info = await connection.Identify.WaitAsync(IdentifyTimeout, context.CancellationToken).ConfigureAwait(false);
                return info.ProtocolVersion is null && info.AgentVersion is null ? StepResult.Fail("identify-empty") : StepResult.Ok();
            }
            catch
            {
                await CleanUpAsync(context, reuse: false).ConfigureAwait(false);
                throw;
            }
        }),
        new Step("close", async context =>
        {
            await CleanUpAsync(context, reuse: true).ConfigureAwait(false);
            return StepResult.Ok();
        }),
    ];

    /// <summary>Stops every peer's host.</summary>
    public async ValueTask DisposeAsync()
    {
        _idle.Clear();
        foreach (var peer in _all)
        {
            await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task CleanUpAsync(StepContext context, bool reuse)
    {
        if (context.Items.TryGetValue("connection", out var c) && c is Libp2pConnection connection)
        {
            await connection.CloseAsync().ConfigureAwait(false);
        }

        // A peer whose iteration failed is not reused (its host may hold a half-made connection); DisposeAsync stops it.
        if (reuse && context.Items.TryGetValue("peer", out var p) && p is Peer peer)
        {
            _idle.Enqueue(peer);
        }

        context.Items.Clear();
    }

    private sealed class Peer : IAsyncDisposable
    {
        private readonly Ed25519PrivateKey _key = Ed25519PrivateKey.Generate();

        // The binding cache spares the runner re-verifying the server's static-key signature on every dial: it always
        // dials the same server. The server verifies every peer's signature (its cache is off).
        public Peer() => Host = new Libp2pHost(_key, new Libp2pHostOptions { KeepAliveInterval = null, VerifiedBindingCacheSize = 4 });

        public Libp2pHost Host { get; }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync().ConfigureAwait(false);
            _key.Dispose();
        }
    }
}
