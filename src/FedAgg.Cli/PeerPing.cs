using System.Diagnostics;
using System.Net.Sockets;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using Microsoft.Extensions.Logging;

namespace FedAgg.Cli;

/// <summary><c>fedagg peer ping</c>: dial, show what identify says, ping N times.</summary>
internal static class PeerPing
{
    public static async Task<int> RunAsync(string target, int count, TimeSpan timeout, FileInfo? configFile, bool verbose, CancellationToken cancellationToken)
    {
        if (!Multiaddress.TryParse(target, out var address, out var error))
        {
            throw new PeerUsageException($"\"{PeerCommand.OneLine(target)}\" is not a multiaddr: {error}");
        }

        if (!address.TryGetTcpTarget(out _, out _, out _))
        {
            throw new PeerUsageException($"{address} is not a TCP address (/ip4|ip6|dns|dns4|dns6/…/tcp/PORT[/p2p/PEER])");
        }

        var configuration = configFile is null ? null : PeerSetup.LoadConfiguration(configFile);
        var options = configuration?.CreateHostOptions() ?? new Libp2pHostOptions();
        options.ListenAddresses.Clear();
        options.DialTimeout = timeout;
        using var key = configuration is null ? Ed25519PrivateKey.Generate() : PeerSetup.LoadKey(configuration, "peer ping");
        // The one-line error says what failed; the host's own account of it is for --verbose.
        using var loggerFactory = PeerSetup.CreateLoggerFactory(verbose ? LogLevel.Debug : LogLevel.Critical);
        await using var host = new Libp2pHost(key, options, loggerFactory);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);

        var connection = await WithTimeout(ct => host.DialAsync(address, ct), timeout, $"dialling {address}", cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"CONNECTED {connection.RemotePeer} {connection.RemoteAddress}");
        var identify = await WithTimeout(ct => connection.Identify.WaitAsync(ct), timeout, $"identify with {connection.RemotePeer}", cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"AGENT {identify.AgentVersion ?? "(none)"}");
        Console.Out.WriteLine($"PROTOCOLS {string.Join(' ', identify.Protocols)}");
        for (var i = 1; i <= count; i++)
        {
            var rtt = await WithTimeout(connection.PingAsync, timeout, $"ping {i} of {connection.RemotePeer}", cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"PING {i} {PeerCommand.Milliseconds(rtt)} ms");
        }

        await connection.CloseAsync().ConfigureAwait(false);
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Runs one step with its own deadline; a timeout, a socket error or a broken connection becomes a <see cref="Libp2pException"/> (exit 1).</summary>
    private static async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> step, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await step(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Libp2pException($"{what} did not finish within {timeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException)
        {
            throw new Libp2pException($"{what} failed after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.###} s: {e.Message}", e);
        }
    }
}
