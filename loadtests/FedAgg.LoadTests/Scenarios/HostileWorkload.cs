using System.Net.Sockets;
using System.Security.Cryptography;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Scenarios;

/// <summary>
/// The hostile peers of <c>hostile-mix</c>, one scenario each (run beside the honest <c>submit</c>). A step is ok when the
/// server defends itself as it should; it fails only when the server misbehaves (e.g. accepts a bad update, keeps a
/// garbage connection open):
/// <list type="bullet">
/// <item><c>hostile-garbage</c>: raw TCP, 1 KiB of random bytes; the server must close the connection (within 15 s).</item>
/// <item><c>hostile-stall</c>: raw TCP, half a multistream header, then silence for <see cref="StallFor"/>.</item>
/// <item><c>hostile-noread</c>: a libp2p peer asks for the model and never reads it for <see cref="StallFor"/>.</item>
/// <item><c>hostile-oversized</c>: an update claiming (and sending) twice the model's elements; must be refused (ShapeMismatch).</item>
/// <item><c>hostile-badsig</c>: an update whose signature is corrupted; must be refused with BadSignature.</item>
/// </list>
/// </summary>
public sealed class HostileWorkload
{
    /// <summary>
    /// Longer than the server's handshake timeout (default 10 s): random bytes can read as a valid length prefix, and then
    /// only that timeout ends the connection.
    /// </summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);
    private readonly Multiaddress _server;
    private readonly SubmitWorkload _honest;
    private readonly string _taskId;

    /// <summary>Creates the hostile peers.</summary>
    /// <param name="server">The server.</param>
    /// <param name="honest">The honest workload (initialized): its model and request builder.</param>
    /// <param name="taskId">The task (default <c>demo</c>).</param>
    public HostileWorkload(Multiaddress server, SubmitWorkload honest, string taskId = "demo")
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(honest);
        _server = server;
        _honest = honest;
        _taskId = taskId;
    }

    /// <summary>How long a stalling peer stays silent (default 3 s).</summary>
    public TimeSpan StallFor { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The hostile scenarios' names and steps.</summary>
    /// <returns>(scenario name, steps).</returns>
    public IReadOnlyList<(string Name, Step[] Steps)> Scenarios() =>
    [
        ("hostile-garbage", [new Step("garbage", GarbageAsync)]),
        ("hostile-stall", [new Step("stall", StallAsync)]),
        ("hostile-noread", [new Step("noread", NoReadAsync)]),
        ("hostile-oversized", [new Step("oversized", context => SubmitBadAsync(context, oversized: true))]),
        ("hostile-badsig", [new Step("badsig", context => SubmitBadAsync(context, oversized: false))]),
    ];

    private async ValueTask<StepResult> GarbageAsync(StepContext context)
    {
        using var socket = await ConnectAsync(context.CancellationToken).ConfigureAwait(false);
        var garbage = RandomNumberGenerator.GetBytes(1024);
        try
        {
            await socket.SendAsync(garbage, SocketFlags.None, context.CancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return StepResult.Ok(0, 0);
        }

        return await WaitForCloseAsync(socket, CloseTimeout, context.CancellationToken).ConfigureAwait(false)
            ? StepResult.Ok(garbage.Length, 0)
            : StepResult.Fail("garbage-connection-kept-open", garbage.Length, 0);
    }

    private async ValueTask<StepResult> StallAsync(StepContext context)
    {
        using var socket = await ConnectAsync(context.CancellationToken).ConfigureAwait(false);
        var half = "\u0013/multi"u8.ToArray();
        await socket.SendAsync(half, SocketFlags.None, context.CancellationToken).ConfigureAwait(false);
        await WaitForCloseAsync(socket, StallFor, context.CancellationToken).ConfigureAwait(false);
        return StepResult.Ok(half.Length, 0);
    }

    private async ValueTask<StepResult> NoReadAsync(StepContext context)
    {
        using var key = Ed25519PrivateKey.Generate();
        var client = await FedAggClient.ConnectAsync(_server, key, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            var stream = await client.Connection.OpenStreamAsync("/fedagg/model/1.0.0", context.CancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var request = new Core.Protocol.ModelRequest(_taskId, default).Encode();
                await stream.WriteMessageAsync(request, context.CancellationToken).ConfigureAwait(false);
                await stream.CompleteWritesAsync().ConfigureAwait(false);
                await Task.Delay(StallFor, context.CancellationToken).ConfigureAwait(false);
                stream.Reset();
                return StepResult.Ok(request.Length, 0);
            }
        }
    }

    private async ValueTask<StepResult> SubmitBadAsync(StepContext context, bool oversized)
    {
        using var key = Ed25519PrivateKey.Generate();
        var client = await FedAggClient.ConnectAsync(_server, key, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            var buffer = _honest.RentPayload(out var length);
            try
            {
                ReadOnlyMemory<byte> payload = buffer.AsMemory(0, length);
                if (oversized)
                {
                    var doubled = new byte[2 * length];
                    buffer.AsSpan(0, length).CopyTo(doubled);
                    buffer.AsSpan(0, length).CopyTo(doubled.AsSpan(length));
                    payload = doubled;
                }

                var request = _honest.CreateRequest(key, payload.Span, _honest.BaseModel);
                if (!oversized)
                {
                    var signature = request.Signature.ToArray();
                    signature[7] ^= 0x40;
                    request = request with { Signature = signature };
                }

                var outcome = await client.SubmitAsync(request, payload, context.CancellationToken).ConfigureAwait(false);

                // Any refusal defends the server (near a round change it may be RoundNotOpen or StaleBaseModel before the
                // shape or signature is looked at); only a stored bad update is a failure.
                return outcome.Receipt.IsStored
                    ? StepResult.Fail("server-accepted-bad-update", payload.Length, outcome.Raw.Length)
                    : StepResult.Ok(payload.Length, outcome.Raw.Length);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        if (!_server.TryGetIPEndPoint(out var endPoint))
        {
            throw new InvalidOperationException($"{_server} is not an IP/TCP address");
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads (and drops) until the peer closes or resets (true) or <paramref name="timeout"/> passes (false).</summary>
    private static async Task<bool> WaitForCloseAsync(Socket socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var sink = new byte[4096];
        try
        {
            for (var reads = 0; reads < 10_000; reads++)
            {
                if (await socket.ReceiveAsync(sink, SocketFlags.None, deadline.Token).ConfigureAwait(false) == 0)
                {
                    return true;
                }
            }

            return false;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
