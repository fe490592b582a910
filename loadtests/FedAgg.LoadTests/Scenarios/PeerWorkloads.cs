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
/// <c>handshake-storm</c>: each iteration is a new peer (own Ed25519 key, own host) that dials the server (TCP, multistream,
/// Noise, Yamux: step <c>connect</c>), waits for the server's identify (step <c>identify</c>) and closes (step <c>close</c>).
/// </summary>
public sealed class HandshakeStormWorkload
{
    private static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(10);
    private readonly Multiaddress _server;

    /// <summary>Creates the workload.</summary>
    /// <param name="server">The server (with <c>/p2p/…</c>, checked by the handshake).</param>
    public HandshakeStormWorkload(Multiaddress server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
    }

    /// <summary>The steps: <c>connect</c>, <c>identify</c>, <c>close</c>.</summary>
    /// <returns>The steps.</returns>
    public Step[] Steps() =>
    [
        new Step("connect", async context =>
        {
            var key = Ed25519PrivateKey.Generate();
            var host = new Libp2pHost(key, new Libp2pHostOptions { KeepAliveInterval = null });
            context.Items["key"] = key;
            context.Items["host"] = host;
            try
            {
                context.Items["connection"] = await host.DialAsync(_server, context.CancellationToken).ConfigureAwait(false);
                return StepResult.Ok();
            }
            catch
            {
                await CleanUpAsync(context).ConfigureAwait(false);
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
                await CleanUpAsync(context).ConfigureAwait(false);
                throw;
            }
        }),
        new Step("close", async context =>
        {
            await CleanUpAsync(context).ConfigureAwait(false);
            return StepResult.Ok();
        }),
    ];

    private static async Task CleanUpAsync(StepContext context)
    {
        if (context.Items.TryGetValue("connection", out var c) && c is Libp2pConnection connection)
        {
            await connection.CloseAsync().ConfigureAwait(false);
        }

        if (context.Items.TryGetValue("host", out var h) && h is Libp2pHost host)
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }

        if (context.Items.TryGetValue("key", out var k) && k is Ed25519PrivateKey key)
        {
            key.Dispose();
        }

        context.Items.Clear();
    }
}
