using System.Net;
using System.Net.Sockets;

namespace FedAgg.Libp2p.Transport;

/// <summary>TCP dialling and listening on multiaddrs (<c>/ip4|ip6/…/tcp/…</c>; dialling also accepts <c>/dns*/…/tcp/…</c>).</summary>
internal static class TcpTransport
{
    /// <summary>Starts listening on <paramref name="address"/>; port 0 picks a free port (see <see cref="TcpTransportListener.Address"/>).</summary>
    /// <exception cref="Libp2pException">The address is not an IP TCP address or cannot be bound.</exception>
    public static TcpTransportListener Listen(Multiaddress address, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.WithoutPeerId().TryGetIPEndPoint(out var endPoint))
        {
            throw new Libp2pException($"Cannot listen on {address}: only /ip4/…/tcp/… and /ip6/…/tcp/… addresses can be listened on.");
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endPoint);
            socket.Listen(backlog);
            return new TcpTransportListener(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new Libp2pException($"Cannot listen on {address}: {e.Message}", e);
        }
    }

    /// <summary>Connects to <paramref name="address"/> within <paramref name="timeout"/>.</summary>
    /// <exception cref="Libp2pException">The address is not a TCP address, the name does not resolve, or the connection fails or times out.</exception>
    public static async Task<SocketConnection> DialAsync(Multiaddress address, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.TryGetTcpTarget(out var host, out var hostProtocol, out var port) || port == 0)
        {
            throw new Libp2pException($"Cannot dial {address}: not a TCP address with a non-zero port.");
        }

        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        IPAddress[] candidates;
        try
        {
            candidates = hostProtocol switch
            {
                MultiaddressProtocol.Ip4 or MultiaddressProtocol.Ip6 => [IPAddress.Parse(host)],
                MultiaddressProtocol.Dns4 => await ResolveAsync(host, AddressFamily.InterNetwork, linked.Token).ConfigureAwait(false),
                MultiaddressProtocol.Dns6 => await ResolveAsync(host, AddressFamily.InterNetworkV6, linked.Token).ConfigureAwait(false),
                _ => await ResolveAsync(host, AddressFamily.Unspecified, linked.Token).ConfigureAwait(false),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Libp2pException($"Resolving {host} timed out after {timeout.TotalSeconds:0.###} s.");
        }

        if (candidates.Length == 0)
        {
            throw new Libp2pException($"Cannot dial {address}: {host} has no addresses of the required family.");
        }

        Exception? last = null;
        foreach (var ip in candidates)
        {
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(ip, port), linked.Token).ConfigureAwait(false);
                return new SocketConnection(socket);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new Libp2pException($"Dialling {address} timed out after {timeout.TotalSeconds:0.###} s.");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new Libp2pException($"Cannot connect to {address}: {last?.Message}", last);
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, AddressFamily family, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, family, cancellationToken).ConfigureAwait(false);
            return addresses;
        }
        catch (SocketException e)
        {
            throw new Libp2pException($"Cannot resolve {host}: {e.Message}", e);
        }
    }
}

/// <summary>A bound, listening TCP socket.</summary>
internal sealed class TcpTransportListener : IAsyncDisposable
{
    private readonly Socket _socket;

    internal TcpTransportListener(Socket socket)
    {
        _socket = socket;
        Address = Multiaddress.FromTcpEndPoint((IPEndPoint)socket.LocalEndPoint!);
    }

    /// <summary>The address actually bound (with the chosen port).</summary>
    public Multiaddress Address { get; }

    /// <summary>Waits for the next inbound connection.</summary>
    /// <exception cref="ObjectDisposedException">The listener was stopped.</exception>
    public async Task<SocketConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return new SocketConnection(socket);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
