using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using Microsoft.Extensions.Logging;

namespace FedAgg.Cli;

/// <summary><c>fedagg peer listen</c>: a host that serves identify and ping until Ctrl+C or SIGTERM.</summary>
internal static class PeerListen
{
    public static async Task<int> RunAsync(FileInfo? configFile, int? port, bool ephemeral, bool verbose, CancellationToken cancellationToken)
    {
        var configuration = PeerSetup.LoadConfiguration(configFile, required: !ephemeral);
        var options = configuration?.CreateHostOptions() ?? new Libp2pHostOptions();
        var configured = options.ListenAddresses.Select(Multiaddress.Parse).ToList();
        if (configured.Count == 0 && (configuration is null || port is not null))
        {
            configured.Add(Multiaddress.Parse("/ip4/127.0.0.1/tcp/0"));
        }

        if (configured.Count == 0)
        {
            throw new PeerUsageException($"{configuration!.Source} names no listenAddresses; add some or give --port");
        }

        options.ListenAddresses.Clear();
        foreach (var address in configured)
        {
            options.ListenAddresses.Add((port is { } p ? PeerSetup.WithPort(address, p) : address).ToString());
        }

        using var key = ephemeral ? Ed25519PrivateKey.Generate() : PeerSetup.LoadKey(configuration!, "peer listen");
        using var loggerFactory = PeerSetup.CreateLoggerFactory(verbose ? LogLevel.Debug : LogLevel.Information);
        await using var host = new Libp2pHost(key, options, loggerFactory);
        host.ConnectionOpened += (_, e) =>
            Console.Out.WriteLine($"CONNECTED {e.Connection.RemotePeer} {e.Connection.RemoteAddress} {(e.Connection.IsInbound ? "inbound" : "outbound")}");
        host.ConnectionClosed += (_, e) =>
            Console.Out.WriteLine($"DISCONNECTED {e.Connection.RemotePeer} {PeerCommand.OneLine(e.Reason ?? "closed")}");
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var address in host.ListenAddresses)
        {
            Console.Out.WriteLine($"LISTENING {address.WithPeerId(host.LocalPeerId)}");
        }

        await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);

        // Program.cs turns SIGTERM (a service manager stopping us) and SIGINT (Ctrl+C) into this token's cancellation.
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: stop below.
        }

        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        Console.Out.WriteLine("STOPPED");
        return 0;
    }
}
