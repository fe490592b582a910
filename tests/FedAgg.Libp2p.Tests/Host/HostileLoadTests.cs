using System.Diagnostics;
using System.Net.Sockets;
using static FedAgg.Libp2p.Tests.Host.HostTestSupport;

namespace FedAgg.Libp2p.Tests.Host;

/// <summary>Many hostile connections at once: the host stays up, memory stays bounded, an honest peer is served throughout.</summary>
public sealed class HostileLoadTests
{
    [Fact]
    public async Task Host_FiveHundredAbandonedConnections_HonestPeerKeepsBeingServedAndAllAreReaped()
    {
        await using var server = await StartHostAsync(o =>
        {
            o.HandshakeTimeout = TimeSpan.FromSeconds(3);
            o.MaxConnectionsPerIp = 1024;
        });
        await using var honest = await StartHostAsync();
        var connection = await honest.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.PingAsync(CancellationToken.None), "a first ping");
        server.ListenAddresses[0].TryGetIPEndPoint(out var endPoint);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        // The honest peer pings throughout; every ping must succeed.
        using var stopPinging = new CancellationTokenSource();
        var pings = 0;
        var pinger = Task.Run(async () =>
        {
            while (!stopPinging.IsCancellationRequested)
            {
                await Within(connection.PingAsync(CancellationToken.None), $"ping {pings + 1} during the hostile load");
                pings++;
                await Task.Delay(20, CancellationToken.None);
            }
        });

        var rogues = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 500; i++)
            {
                var rogue = new TcpClient();
                await rogue.ConnectAsync(endPoint!);
                rogues.Add(rogue);
                switch (i % 3)
                {
                    case 0:
                        break; // silent: connects and says nothing
                    case 1:
                        // Half a multistream header, then nothing.
                        await rogue.GetStream().WriteAsync("\u0013/multistream/1.0"u8.ToArray());
                        break;
                    default:
                        // The whole header and a proposal for Noise, then abandoned mid-handshake.
                        await rogue.GetStream().WriteAsync("\u0013/multistream/1.0.0\n\u0007/noise\n"u8.ToArray());
                        break;
                }
            }

            // Every abandoned connection is reaped by the handshake timeout; only the honest one stays.
            var reaped = Stopwatch.StartNew();
            while (server.Connections.Count != 1 || CountOpen(rogues) > 0)
            {
                Assert.True(reaped.Elapsed < TimeSpan.FromSeconds(30), $"after 30 s the server still holds {server.Connections.Count} connections and {CountOpen(rogues)} rogue sockets are open (silent {CountOpen(rogues.Where((_, i) => i % 3 == 0).ToList())}, half header {CountOpen(rogues.Where((_, i) => i % 3 == 1).ToList())}, mid-Noise {CountOpen(rogues.Where((_, i) => i % 3 == 2).ToList())})");
                await Task.Delay(100);
            }
        }
        finally
        {
            await stopPinging.CancelAsync();
            await pinger;
            foreach (var rogue in rogues)
            {
                rogue.Dispose();
            }
        }

        Assert.True(pings >= 5, $"only {pings} pings went through during the hostile load");
        await Within(connection.PingAsync(CancellationToken.None), "a ping after the hostile load");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var growth = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        Assert.True(growth < 32L << 20, $"managed memory grew by {growth / (1 << 20)} MiB after 500 abandoned connections were reaped");
    }

    private static int CountOpen(List<TcpClient> clients)
    {
        var open = 0;
        foreach (var client in clients)
        {
            var socket = client.Client;
            try
            {
                // Drop what the server said (its multistream answers) so that "readable with nothing left" means closed.
                var scratch = new byte[4096];
                while (socket.Available > 0)
                {
                    _ = socket.Receive(scratch);
                }

                if (!(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0))
                {
                    open++;
                }
            }
            catch (SocketException)
            {
                // Reset by the server: closed.
            }
        }

        return open;
    }
}
