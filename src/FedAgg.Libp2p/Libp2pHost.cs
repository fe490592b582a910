using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Multistream;
using FedAgg.Libp2p.Noise;
using FedAgg.Libp2p.Protocols;
using FedAgg.Libp2p.Transport;
using FedAgg.Libp2p.Yamux;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Libp2p;

/// <summary>
/// A libp2p host: listens on TCP multiaddrs, dials peers, and upgrades every connection with multistream-select,
/// Noise XX and Yamux, interoperable with js-libp2p and go-libp2p. Protocols are registered with
/// <see cref="RegisterProtocol"/>; identify (<c>/ipfs/id/1.0.0</c>) and ping (<c>/ipfs/ping/1.0.0</c>) are built in.
/// Limits and timeouts come from <see cref="Libp2pHostOptions"/>. A misbehaving peer ends only its own connection, with a
/// logged reason; nothing thrown by a peer escapes the host.
/// </summary>
public sealed class Libp2pHost : IAsyncDisposable
{
    /// <summary>The stream muxer protocol id.</summary>
    public const string YamuxProtocolId = "/yamux/1.0.0";

    private const int HostStreamWriteBufferBytes = 256 * 1024;

    private const int HostStreamBufferSegmentBytes = 16 * 1024;

    private readonly Ed25519PrivateKey _identity;
    private readonly NoiseStaticKey _noiseKey;
    private readonly NoiseBindingCache? _bindingCache;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly YamuxOptions _yamuxOptions;
    private readonly HashSet<PeerId> _allowed;
    private readonly HashSet<PeerId> _denied;
    private readonly ConcurrentDictionary<string, Func<Libp2pStream, CancellationToken, Task>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Libp2pConnection, byte> _connections = new();
    private readonly Dictionary<IPAddress, int> _inboundPerIp = [];
    private readonly Lock _limitsLock = new();
    private readonly List<TcpTransportListener> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Libp2pConnection, IPAddress> _inboundIps = new();
    private Multiaddress[] _listenAddresses = [];
    private int _connectionCount;
    private int _state;

    /// <summary>Creates a host; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="identity">The host's identity key (its peer ID). The host does not dispose it.</param>
    /// <param name="options">Settings, validated here.</param>
    /// <param name="loggerFactory">Logging; none when <c>null</c>.</param>
    /// <param name="timeProvider">The clock for timeouts and RTTs; the system clock when <c>null</c>.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public Libp2pHost(Ed25519PrivateKey identity, Libp2pHostOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _identity = identity;
        Options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("FedAgg.Libp2p.Host");
        _timeProvider = timeProvider ?? TimeProvider.System;
        _yamuxOptions = WithHostBuffers(options.ToYamuxOptions());
        _yamuxOptions.Validate();
        _allowed = options.AllowedPeers.Select(PeerId.Parse).ToHashSet();
        _denied = options.DeniedPeers.Select(PeerId.Parse).ToHashSet();
        LocalPeerId = identity.PeerId;
        _noiseKey = NoiseStaticKey.Generate(identity);
        _bindingCache = options.VerifiedBindingCacheSize > 0 ? new NoiseBindingCache(Math.Max(2, options.VerifiedBindingCacheSize)) : null;
        _handlers[IdentifyProtocol.ProtocolId] = ServeIdentifyAsync;
        _handlers[PingProtocol.ProtocolId] = PingProtocol.ServeAsync;
    }

    /// <summary>A connection was established (Noise and Yamux done); raised before identify completes.</summary>
    public event EventHandler<ConnectionEventArgs>? ConnectionOpened;

    /// <summary>A connection closed; the arguments carry the reason.</summary>
    public event EventHandler<ConnectionClosedEventArgs>? ConnectionClosed;

    /// <summary>This host's peer ID.</summary>
    public PeerId LocalPeerId { get; }

    /// <summary>The options the host runs with (do not change them after construction).</summary>
    public Libp2pHostOptions Options { get; }

    /// <summary>The addresses actually listened on after <see cref="StartAsync"/> (ports resolved), without <c>/p2p</c>.</summary>
    public IReadOnlyList<Multiaddress> ListenAddresses => Volatile.Read(ref _listenAddresses);

    /// <summary>The protocols this host serves, identify and ping included, sorted.</summary>
    public IReadOnlyCollection<string> Protocols => _handlers.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The open connections.</summary>
    public IReadOnlyCollection<Libp2pConnection> Connections => _connections.Keys.Where(c => !c.IsClosed).ToArray();

    /// <summary>Serves <paramref name="protocolId"/> on inbound streams with <paramref name="handler"/>.</summary>
    /// <remarks>
    /// The handler owns the stream until it returns; the stream is then disposed (half-closed). An exception from the
    /// handler resets that stream only. The token is cancelled when the connection closes.
    /// </remarks>
    /// <exception cref="ArgumentException">The id is empty, too long, contains a newline, or is already registered.</exception>
    public void RegisterProtocol(string protocolId, Func<Libp2pStream, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocolId);
        ArgumentNullException.ThrowIfNull(handler);
        if (protocolId.Contains('\n', StringComparison.Ordinal) || MultistreamCodec.GetSize(protocolId) > MultistreamCodec.MaxMessageLength
            || protocolId is MultistreamCodec.ProtocolId or MultistreamCodec.NotAvailable or MultistreamCodec.List)
        {
            throw new ArgumentException($"'{protocolId}' cannot be a protocol id (reserved, too long or contains a newline).", nameof(protocolId));
        }

        if (!_handlers.TryAdd(protocolId, handler))
        {
            throw new ArgumentException($"A handler for {protocolId} is already registered.", nameof(protocolId));
        }
    }

    /// <summary>Stops serving <paramref name="protocolId"/>; returns whether it was registered. Built-in protocols cannot be removed.</summary>
    public bool UnregisterProtocol(string protocolId) =>
        protocolId is not (IdentifyProtocol.ProtocolId or PingProtocol.ProtocolId) && _handlers.TryRemove(protocolId, out _);

    /// <summary>Starts listening on <see cref="Libp2pHostOptions.ListenAddresses"/>.</summary>
    /// <exception cref="Libp2pException">An address cannot be bound (nothing is left listening then).</exception>
    /// <exception cref="InvalidOperationException">The host was already started or stopped.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The host can be started once.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var addresses = new List<Multiaddress>();
        try
        {
            foreach (var text in Options.ListenAddresses)
            {
                var listener = TcpTransport.Listen(Multiaddress.Parse(text));
                _listeners.Add(listener);
                addresses.Add(listener.Address);
            }
        }
        catch
        {
            foreach (var listener in _listeners)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }

            _listeners.Clear();
            throw;
        }

        Volatile.Write(ref _listenAddresses, addresses.ToArray());
        foreach (var listener in _listeners)
        {
            Log.Listening(_logger, LocalPeerId, listener.Address);
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener), CancellationToken.None));
        }
    }

    /// <summary>Stops listening and closes every connection.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_acceptLoops).WaitAsync(cancellationToken).ConfigureAwait(false);
        var closing = _connections.Keys.Select(c => c.CloseCoreAsync("the host is stopping", graceful: true)).ToArray();
        await Task.WhenAll(closing).WaitAsync(cancellationToken).ConfigureAwait(false);
        Log.HostStopped(_logger, LocalPeerId);
    }

    /// <summary>
    /// Connects to <paramref name="address"/> (<c>/ip4|ip6|dns*/…/tcp/…[/p2p/…]</c>). With a <c>/p2p</c> part, an open
    /// connection to that peer is reused, and the peer must authenticate as that ID.
    /// </summary>
    /// <exception cref="Libp2pException">The dial, the handshake or the upgrade failed or timed out, the peer is not the one named, is denied, or a limit is reached.</exception>
    /// <exception cref="InvalidOperationException">The host is stopped.</exception>
    public async Task<Libp2pConnection> DialAsync(Multiaddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (Volatile.Read(ref _state) == 2)
        {
            throw new InvalidOperationException("The host is stopped.");
        }

        var expected = address.PeerId;
        if (expected is not null)
        {
            if (expected.Equals(LocalPeerId))
            {
                throw new Libp2pException($"Cannot dial {address}: it is this host.");
            }

            if (!IsAllowed(expected))
            {
                throw new Libp2pException($"Cannot dial {expected}: the peer is denied or not in the allow list.");
            }

            var existing = FindConnection(expected);
            if (existing is not null)
            {
                return existing;
            }
        }

        if (!TryReserveConnection(null))
        {
            throw new Libp2pException($"Cannot dial {address}: MaxConnections ({Options.MaxConnections}) reached.");
        }

        SocketConnection socket;
        try
        {
            socket = await TcpTransport.DialAsync(address, Options.DialTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReleaseConnection(null);
            throw;
        }

        var connection = await UpgradeAsync(socket, inbound: false, expected, cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Opens a stream for <paramref name="protocolId"/> on an open connection to <paramref name="peer"/>.</summary>
    /// <exception cref="Libp2pException">There is no open connection to the peer (dial it first), or opening failed.</exception>
    public Task<Libp2pStream> OpenStreamAsync(PeerId peer, string protocolId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var connection = FindConnection(peer) ?? throw new Libp2pException($"Not connected to {peer}; dial it first.");
        return connection.OpenStreamAsync(protocolId, cancellationToken);
    }

    /// <summary>Stops the host (see <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _noiseKey.Dispose();
    }

    /// <summary>The peer ID.</summary>
    public override string ToString() => $"libp2p host {LocalPeerId}";

    internal bool HasHandler(string protocolId) => _handlers.ContainsKey(protocolId);

    internal Func<Libp2pStream, CancellationToken, Task>? GetHandler(string protocolId) =>
        _handlers.TryGetValue(protocolId, out var handler) ? handler : null;

    internal void OnConnectionClosed(Libp2pConnection connection, string reason)
    {
        if (!_connections.TryRemove(connection, out _))
        {
            return;
        }

        ReleaseConnection(_inboundIps.TryRemove(connection, out var ip) ? ip : null);
        Log.ConnectionClosed(_logger, connection.RemotePeer, connection.RemoteAddress, reason);
        Raise(nameof(ConnectionClosed), () => ConnectionClosed?.Invoke(this, new ConnectionClosedEventArgs(connection, reason)));
    }

    private Libp2pConnection? FindConnection(PeerId peer)
    {
        Libp2pConnection? best = null;
        foreach (var connection in _connections.Keys)
        {
            if (!connection.IsClosed && connection.RemotePeer.Equals(peer) && (best is null || connection.OpenedAt > best.OpenedAt))
            {
                best = connection;
            }
        }

        return best;
    }

    private bool IsAllowed(PeerId peer) => !_denied.Contains(peer) && (_allowed.Count == 0 || _allowed.Contains(peer));

    private bool TryReserveConnection(IPAddress? inboundIp)
    {
        lock (_limitsLock)
        {
            if (_connectionCount >= Options.MaxConnections)
            {
                return false;
            }

            if (inboundIp is not null)
            {
                var current = _inboundPerIp.GetValueOrDefault(inboundIp);
                if (current >= Options.MaxConnectionsPerIp)
                {
                    return false;
                }

                _inboundPerIp[inboundIp] = current + 1;
            }

            _connectionCount++;
            return true;
        }
    }

    private void ReleaseConnection(IPAddress? inboundIp)
    {
        lock (_limitsLock)
        {
            _connectionCount--;
            if (inboundIp is not null && _inboundPerIp.TryGetValue(inboundIp, out var current))
            {
                if (current <= 1)
                {
                    _inboundPerIp.Remove(inboundIp);
                }
                else
                {
                    _inboundPerIp[inboundIp] = current - 1;
                }
            }
        }
    }

    private async Task AcceptLoopAsync(TcpTransportListener listener)
    {
        var token = _stopping.Token;
        var consecutiveErrors = 0;
        while (!token.IsCancellationRequested)
        {
            SocketConnection socket;
            try
            {
                socket = await listener.AcceptAsync(token).ConfigureAwait(false);
                consecutiveErrors = 0;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                // Usually a connection reset before accept completed, or descriptors exhausted: back off briefly.
                Log.AcceptLoopFailed(_logger, listener.Address, e);
                consecutiveErrors++;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 10 * consecutiveErrors)), _timeProvider, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            var ip = socket.RemoteEndPoint.Address;
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            if (!TryReserveConnection(ip))
            {
                var reason = Volatile.Read(ref _connectionCount) >= Options.MaxConnections
                    ? $"MaxConnections ({Options.MaxConnections}) reached"
                    : $"MaxConnectionsPerIp ({Options.MaxConnectionsPerIp}) reached for {ip}";
                Log.InboundRefused(_logger, socket.RemoteEndPoint, reason);
                await socket.DisposeAsync().ConfigureAwait(false);
                continue;
            }

            _ = HandleInboundAsync(socket, ip);
        }
    }

    private async Task HandleInboundAsync(SocketConnection socket, IPAddress ip)
    {
        try
        {
            var connection = await UpgradeAsync(socket, inbound: true, expectedRemote: null, _stopping.Token, ip).ConfigureAwait(false);
            _ = connection;
        }
        catch (Exception e) when (e is Libp2pException or OperationCanceledException or ObjectDisposedException)
        {
            // UpgradeAsync logged the reason and released the reservation.
        }
        catch (Exception e)
        {
            Log.UpgradeFailed(_logger, "inbound", socket.RemoteEndPoint.ToString(), e.Message);
        }
    }

    private async Task<Libp2pConnection> UpgradeAsync(SocketConnection socket, bool inbound, PeerId? expectedRemote, CancellationToken cancellationToken, IPAddress? inboundIp = null)
    {
        var direction = inbound ? "inbound" : "outbound";
        var remote = socket.RemoteEndPoint.ToString();
        using var timeout = new CancellationTokenSource(Options.HandshakeTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _stopping.Token);
        var token = linked.Token;
        NoiseSecureChannel? channel = null;
        YamuxSession? session = null;
        Libp2pConnection connection;
        try
        {
            if (inbound)
            {
                await MultistreamSelect.HandleAsync(socket, static p => p == NoiseHandshake.ProtocolId, static () => [NoiseHandshake.ProtocolId], token).ConfigureAwait(false);
            }
            else
            {
                await MultistreamSelect.SelectAsync(socket, [NoiseHandshake.ProtocolId], token).ConfigureAwait(false);
            }

            string[] offered = Options.EarlyMuxerNegotiation ? [YamuxProtocolId] : [];
            var noise = await NoiseHandshake.RunAsync(socket, _identity, !inbound, expectedRemote, offered, token, staticKey: _noiseKey, bindingCache: _bindingCache).ConfigureAwait(false);
            var peer = noise.RemotePeer;
            channel = new NoiseSecureChannel(socket, noise.Send, noise.Receive, _timeProvider);
            if (peer.Equals(LocalPeerId))
            {
                throw new Libp2pException("The peer authenticated as this host itself.");
            }

            if (!IsAllowed(peer))
            {
                Log.PeerNotAllowed(_logger, peer, remote);
                throw new Libp2pException($"Peer {peer} is denied or not in the allow list.");
            }

            string muxerHow;
            if (Options.EarlyMuxerNegotiation && noise.RemoteStreamMuxers.Count > 0)
            {
                // js-libp2p's rule: the first muxer in the peer's list that we support.
                if (!noise.RemoteStreamMuxers.Contains(YamuxProtocolId))
                {
                    throw new Libp2pException($"Early muxer negotiation found no common muxer (the peer offered {string.Join(", ", noise.RemoteStreamMuxers)}).");
                }

                muxerHow = "chosen in the Noise handshake";
            }
            else
            {
                if (inbound)
                {
                    await MultistreamSelect.HandleAsync(channel, static p => p == YamuxProtocolId, static () => [YamuxProtocolId], token).ConfigureAwait(false);
                }
                else
                {
                    await MultistreamSelect.SelectAsync(channel, [YamuxProtocolId], token).ConfigureAwait(false);
                }

                muxerHow = "negotiated with multistream-select";
            }

            Log.NoiseDone(_logger, peer, direction, YamuxProtocolId, muxerHow);
            session = new YamuxSession(channel, isClient: !inbound, _yamuxOptions, _loggerFactory.CreateLogger("FedAgg.Libp2p.Yamux"), _timeProvider);
            connection = new Libp2pConnection(this, socket, channel, session, noise.RemoteIdentity, inbound, YamuxProtocolId, _logger, _timeProvider);
        }
        catch (Exception e)
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            await socket.DisposeAsync().ConfigureAwait(false);
            ReleaseConnection(inboundIp);
            var reason = e switch
            {
                OperationCanceledException when timeout.IsCancellationRequested => $"the handshake timed out after {Options.HandshakeTimeout.TotalSeconds:0.###} s",
                OperationCanceledException when _stopping.IsCancellationRequested => "the host is stopping",
                OperationCanceledException => "cancelled",
                _ => e.Message,
            };
            Log.UpgradeFailed(_logger, direction, remote, reason);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested && !inbound)
            {
                throw;
            }

            throw e as Libp2pException ?? new Libp2pException($"The {direction} connection with {remote} failed: {reason}", e);
        }

        if (inboundIp is not null)
        {
            _inboundIps[connection] = inboundIp;
        }

        _connections[connection] = 0;
        session.Start();
        connection.Start();
        Log.ConnectionOpened(_logger, direction, connection.RemotePeer, remote);
        Raise(nameof(ConnectionOpened), () => ConnectionOpened?.Invoke(this, new ConnectionEventArgs(connection)));
        if (Volatile.Read(ref _state) == 2)
        {
            await connection.CloseCoreAsync("the host is stopping", graceful: true).ConfigureAwait(false);
            throw new Libp2pException("The host stopped during the connection upgrade.");
        }

        return connection;
    }

    /// <summary>
    /// The session options the host runs with: the host's limits and timers, a 256 KiB stream write buffer (one default
    /// window) instead of Yamux's 64 KiB, so that a writer flushing 64 KiB at a time (as
    /// <see cref="Libp2pStream.WriteMessageAsync"/> does) keeps the write loop busy instead of taking turns with it, and
    /// 16 KiB buffer blocks so that those buffers and the receive windows stay within the array pool's cache.
    /// </summary>
    private static YamuxOptions WithHostBuffers(YamuxOptions options) => new()
    {
        InitialWindowBytes = options.InitialWindowBytes,
        MaxStreams = options.MaxStreams,
        MaxAcceptBacklog = options.MaxAcceptBacklog,
        KeepAliveInterval = options.KeepAliveInterval,
        KeepAliveTimeout = options.KeepAliveTimeout,
        MaxFrameDataBytes = options.MaxFrameDataBytes,
        StreamWriteBufferBytes = HostStreamWriteBufferBytes,
        StreamBufferSegmentBytes = HostStreamBufferSegmentBytes,
        CloseTimeout = options.CloseTimeout,
    };

    private Task ServeIdentifyAsync(Libp2pStream stream, CancellationToken cancellationToken) =>
        IdentifyProtocol.ServeAsync(stream, _identity.PublicKey, Options.AgentVersion, ListenAddresses, stream.Connection?.RemoteAddress, Protocols, cancellationToken);

    private void Raise(string name, Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception e)
        {
            Log.EventHandlerFailed(_logger, name, e);
        }
    }
}
