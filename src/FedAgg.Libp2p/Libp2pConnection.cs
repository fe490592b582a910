using FedAgg.Core.Identity;
using FedAgg.Libp2p.Multistream;
using FedAgg.Libp2p.Noise;
using FedAgg.Libp2p.Protocols;
using FedAgg.Libp2p.Transport;
using FedAgg.Libp2p.Yamux;
using Microsoft.Extensions.Logging;

namespace FedAgg.Libp2p;

/// <summary>
/// An authenticated, multiplexed connection to one peer (TCP, Noise, Yamux). Streams are opened with
/// <see cref="OpenStreamAsync"/>; inbound streams go to the handlers registered on the host. The connection ends when
/// either side closes it, on a protocol error, after <see cref="Libp2pHostOptions.IdleTimeout"/> without streams, or when
/// the host stops; <see cref="Closed"/> then completes with the reason.
/// </summary>
public sealed class Libp2pConnection : IAsyncDisposable
{
    private static readonly TimeSpan FlushOnCloseTimeout = TimeSpan.FromSeconds(2);

    private readonly Libp2pHost _host;
    private readonly SocketConnection _socket;
    private readonly NoiseSecureChannel _channel;
    private readonly YamuxSession _session;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<IdentifyInfo> _identify = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _identifyStarted;
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closeDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _lifetimeToken;
    private ITimer? _idleTimer;
    private int _openStreams;
    private long _lastStreamActivity;
    private int _closing;

    internal Libp2pConnection(
        Libp2pHost host,
        SocketConnection socket,
        NoiseSecureChannel channel,
        YamuxSession session,
        Ed25519PublicKey remoteKey,
        bool isInbound,
        string muxer,
        ILogger logger,
        TimeProvider timeProvider)
    {
        _host = host;
        _socket = socket;
        _channel = channel;
        _session = session;
        _logger = logger;
        _timeProvider = timeProvider;
        RemotePublicKey = remoteKey;
        RemotePeer = remoteKey.PeerId;
        RemoteAddress = Multiaddress.FromTcpEndPoint(socket.RemoteEndPoint);
        LocalAddress = Multiaddress.FromTcpEndPoint(socket.LocalEndPoint);
        IsInbound = isInbound;
        Muxer = muxer;
        OpenedAt = timeProvider.GetUtcNow();
        _lastStreamActivity = timeProvider.GetTimestamp();
        _lifetimeToken = _lifetime.Token;
        // Nobody has to await these; observing a fault here keeps it from surfacing as an unobserved task exception.
        _ = _identify.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The authenticated peer.</summary>
    public PeerId RemotePeer { get; }

    /// <summary>The peer's identity key (from the Noise handshake).</summary>
    public Ed25519PublicKey RemotePublicKey { get; }

    /// <summary>The peer's TCP address (<c>/ip4|ip6/…/tcp/…</c>, without <c>/p2p</c>).</summary>
    public Multiaddress RemoteAddress { get; }

    /// <summary>Our end's TCP address.</summary>
    public Multiaddress LocalAddress { get; }

    /// <summary>Whether the peer dialled us.</summary>
    public bool IsInbound { get; }

    /// <summary>The stream muxer protocol (<c>/yamux/1.0.0</c>).</summary>
    public string Muxer { get; }

    /// <summary>When the connection was established.</summary>
    public DateTimeOffset OpenedAt { get; }

    /// <summary>Streams open on this connection (Yamux's count, both directions).</summary>
    public int StreamCount => _session.ActiveStreamCount;

    /// <summary>
    /// The peer's identify answer; our host asks right after connecting (or, with
    /// <see cref="Libp2pHostOptions.IdentifyRemoteEagerly"/> off, when this is first read). Faults with
    /// <see cref="Libp2pException"/> when the peer does not answer within <see cref="Libp2pHostOptions.HandshakeTimeout"/>
    /// or answers badly.
    /// </summary>
    public Task<IdentifyInfo> Identify
    {
        get
        {
            StartIdentify();
            return _identify.Task;
        }
    }

    /// <summary>Completes with the reason once the connection has closed; never faults.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Whether the connection has closed or is closing.</summary>
    public bool IsClosed => Volatile.Read(ref _closing) != 0;

    /// <summary>Opens a stream and negotiates <paramref name="protocolId"/> on it (within the host's handshake timeout).</summary>
    /// <exception cref="Libp2pException">The connection is closed, the stream limit is reached, the peer does not support the protocol, or negotiation timed out.</exception>
    public async Task<Libp2pStream> OpenStreamAsync(string protocolId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocolId);
        if (IsClosed)
        {
            throw new Libp2pException($"The connection to {RemotePeer} is closed ({(_closed.Task.IsCompleted ? _closed.Task.Result : "closing")}).");
        }

        using var timeout = new CancellationTokenSource(_host.Options.HandshakeTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _lifetimeToken);
        YamuxStream stream;
        try
        {
            stream = await _session.OpenStreamAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Libp2pException($"Opening a {protocolId} stream to {RemotePeer} timed out or the connection closed.");
        }

        try
        {
            await MultistreamSelect.SelectAsync(stream, [protocolId], linked.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            stream.Reset();
            await stream.DisposeAsync().ConfigureAwait(false);
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new Libp2pException($"Negotiating {protocolId} with {RemotePeer} timed out after {_host.Options.HandshakeTimeout.TotalSeconds:0.###} s or the connection closed.");
            }

            if (e is Libp2pException or OperationCanceledException)
            {
                throw;
            }

            throw new Libp2pException($"Negotiating {protocolId} with {RemotePeer} failed: {e.Message}", e);
        }

        return WrapStream(protocolId, stream);
    }

    /// <summary>Measures the round-trip time with the libp2p ping protocol (one 32-byte ping on a new stream).</summary>
    /// <exception cref="Libp2pException">The peer does not answer correctly within the handshake timeout, or the connection closed.</exception>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var stream = await OpenStreamAsync(PingProtocol.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var timeout = new CancellationTokenSource(_host.Options.HandshakeTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                var rtt = await PingProtocol.PingOnceAsync(stream, _timeProvider, linked.Token).ConfigureAwait(false);
                await stream.CompleteWritesAsync().ConfigureAwait(false);
                return rtt;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                stream.Reset();
                throw new Libp2pException($"{RemotePeer} did not answer the ping within {_host.Options.HandshakeTimeout.TotalSeconds:0.###} s.");
            }
            catch (Exception e) when (e is not Libp2pException and not OperationCanceledException)
            {
                stream.Reset();
                throw new Libp2pException($"Pinging {RemotePeer} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>Closes the connection: tells the peer (Yamux go-away), resets open streams and closes the socket.</summary>
    public ValueTask CloseAsync() => new(CloseCoreAsync("closed locally", graceful: true));

    /// <summary>Closes the connection (see <see cref="CloseAsync"/>).</summary>
    public ValueTask DisposeAsync() => CloseAsync();

    /// <summary>The peer, its address and direction.</summary>
    public override string ToString() => $"{(IsInbound ? "inbound" : "outbound")} {RemotePeer} at {RemoteAddress}";

    internal void Start()
    {
        _ = AcceptLoopAsync();
        _ = MonitorAsync();
        if (_host.Options.IdentifyRemoteEagerly)
        {
            StartIdentify();
        }

        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, _host.Options.IdleTimeout.Ticks / 4));
        _idleTimer = _timeProvider.CreateTimer(static state => ((Libp2pConnection)state!).CheckIdle(), this, period, period);
    }

    internal async Task CloseCoreAsync(string reason, bool graceful)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            await _closeDone.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            _closed.TrySetResult(reason);
            _identify.TrySetException(new Libp2pException($"The connection to {RemotePeer} closed before identify completed: {reason}"));
            _lifetime.Cancel();
            if (_idleTimer is not null)
            {
                await _idleTimer.DisposeAsync().ConfigureAwait(false);
            }

            if (graceful)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(FlushOnCloseTimeout, _timeProvider);
                    await _session.GoAwayAsync(YamuxGoAwayCode.Normal, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is Libp2pException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                    // Best effort: the peer learns from the closed socket anyway.
                }
            }

            await _session.DisposeAsync().ConfigureAwait(false);
            // Let what the session wrote last (a go-away) reach the socket before closing it.
            await WaitBoundedAsync(_channel.SendCompletion).ConfigureAwait(false);
            await WaitBoundedAsync(_socket.SendCompletion).ConfigureAwait(false);
            await _channel.DisposeAsync().ConfigureAwait(false);
            await _socket.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_logger, "connection close", RemotePeer, e);
        }
        finally
        {
            _lifetime.Dispose();
            _host.OnConnectionClosed(this, reason);
            _closeDone.TrySetResult();
        }
    }

    private async Task WaitBoundedAsync(Task task)
    {
        try
        {
            await task.WaitAsync(FlushOnCloseTimeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private Libp2pStream WrapStream(string protocolId, YamuxStream stream)
    {
        Interlocked.Increment(ref _openStreams);
        Touch();
        var released = 0;
        return new Libp2pStream(
            protocolId,
            RemotePeer,
            this,
            stream,
            _host.Options.GetMaxMessageBytes(protocolId),
            stream.Reset,
            async () =>
            {
                try
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
                finally
                {
                    if (Interlocked.Exchange(ref released, 1) == 0)
                    {
                        Interlocked.Decrement(ref _openStreams);
                        Touch();
                    }
                }
            });
    }

    private void Touch() => Interlocked.Exchange(ref _lastStreamActivity, _timeProvider.GetTimestamp());

    private void CheckIdle()
    {
        try
        {
            CheckIdleCore();
        }
        catch (Exception e)
        {
            // A timer callback must never throw (it would take the process down).
            Log.HandlerFailed(_logger, "idle check", RemotePeer, e);
        }
    }

    private void CheckIdleCore()
    {
        if (IsClosed || Volatile.Read(ref _openStreams) > 0 || _session.ActiveStreamCount > 0)
        {
            Touch();
            return;
        }

        var idle = _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastStreamActivity));
        if (idle >= _host.Options.IdleTimeout)
        {
            Log.IdleTimeout(_logger, RemotePeer, idle.TotalSeconds);
            _ = CloseCoreAsync($"idle for {idle.TotalSeconds:0.#} s (IdleTimeout)", graceful: true);
        }
    }

    private async Task MonitorAsync()
    {
        string reason;
        try
        {
            var end = await _session.Completion.ConfigureAwait(false);
            reason = _channel.FailureReason is { } failure ? failure : $"{end.Reason}: {end.Message}";
        }
        catch (Exception e)
        {
            reason = $"the muxer failed: {e.Message}";
        }

        await CloseCoreAsync(reason, graceful: false).ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_lifetimeToken.IsCancellationRequested)
            {
                // No cancellation token: the loop ends when the session does (CloseCoreAsync disposes it), which spares every
                // connection's close an OperationCanceledException thrown through this await.
                var stream = await _session.AcceptStreamAsync(CancellationToken.None).ConfigureAwait(false);
                if (stream is null)
                {
                    break;
                }

                _ = HandleInboundStreamAsync(stream);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e) when (e is Libp2pException or InvalidOperationException)
        {
            // The session ended; MonitorAsync closes the connection with its reason.
        }
    }

    private async Task HandleInboundStreamAsync(YamuxStream stream)
    {
        string protocol;
        Func<Libp2pStream, CancellationToken, Task>? handler;
        try
        {
            var token = _lifetimeToken;
            using var timeout = new CancellationTokenSource(_host.Options.HandshakeTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
            protocol = await MultistreamSelect.HandleAsync(stream, _host.HasHandler, () => _host.Protocols, linked.Token).ConfigureAwait(false);
            handler = _host.GetHandler(protocol);
        }
        catch (Exception e)
        {
            Log.InboundStreamRefused(_logger, RemotePeer, e is OperationCanceledException ? "negotiation timed out or the connection closed" : e.Message);
            stream.Reset();
            await DisposeQuietlyAsync(stream).ConfigureAwait(false);
            return;
        }

        var wrapped = WrapStream(protocol, stream);
        try
        {
            if (handler is null)
            {
                wrapped.Reset();
                return;
            }

            await handler(wrapped, _lifetimeToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (e is not OperationCanceledException || !IsClosed)
            {
                Log.HandlerFailed(_logger, protocol, RemotePeer, e);
            }

            wrapped.Reset();
        }
        finally
        {
            await DisposeQuietlyAsync(wrapped).ConfigureAwait(false);
        }
    }

    private void StartIdentify()
    {
        if (Interlocked.Exchange(ref _identifyStarted, 1) == 0)
        {
            _ = IdentifyRemoteAsync();
        }
    }

    private async Task IdentifyRemoteAsync()
    {
        try
        {
            var stream = await OpenStreamAsync(IdentifyProtocol.ProtocolId, _lifetimeToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var timeout = new CancellationTokenSource(_host.Options.HandshakeTimeout, _timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(_lifetimeToken, timeout.Token);
                var info = await IdentifyProtocol.RequestAsync(stream, RemotePeer, linked.Token).ConfigureAwait(false);
                Log.Identified(_logger, RemotePeer, info.AgentVersion ?? "(none)", info.Protocols.Count);
                _identify.TrySetResult(info);
            }
        }
        catch (Exception e)
        {
            var reason = e is OperationCanceledException ? "timed out or the connection closed" : e.Message;
            Log.IdentifyFailed(_logger, RemotePeer, reason);
            _identify.TrySetException(e as Libp2pException ?? new Libp2pException($"Identify of {RemotePeer} failed: {reason}", e));
        }
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The stream is being torn down; its failure is already known to whoever used it.
        }
    }
}
