using System.Diagnostics;
using System.Net.Sockets;
using static FedAgg.Libp2p.Tests.Host.HostTestSupport;

namespace FedAgg.Libp2p.Tests.Host;

/// <summary>
/// Many hostile connections at once: the host stays up, memory stays bounded, an honest peer is served throughout. Runs
/// alone (no other test class in parallel), because it reads the process's managed memory.
/// </summary>
[Collection(nameof(HostileLoadTests))]
public sealed class HostileLoadTests
{
    [Fact]
    public async Task Host_TwoWavesOfFiveHundredAbandonedConnections_HonestPeerServedAllReapedNoGrowth()
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

        long afterFirstWave;
        long afterSecondWave;
        try
        {
            // The first wave warms the pools (pipe blocks, array pools) that are kept for reuse; a second wave of the same
            // size must then not leave more memory behind: nothing per abandoned connection survives it.
            await AbandonConnectionsAsync(server, endPoint!, 500);
            afterFirstWave = ManagedMemory();
            await AbandonConnectionsAsync(server, endPoint!, 500);
            afterSecondWave = ManagedMemory();
        }
        finally
        {
            await stopPinging.CancelAsync();
            await pinger;
        }

        Assert.True(pings >= 5, $"only {pings} pings went through during the hostile load");
        await Within(connection.PingAsync(CancellationToken.None), "a ping after the hostile load");
        var growth = afterSecondWave - afterFirstWave;
        Assert.True(growth < 8L << 20, $"managed memory grew by {growth / (1 << 20)} MiB from the first wave of 500 abandoned connections to the second");
    }

    private static async Task AbandonConnectionsAsync(Libp2pHost server, System.Net.IPEndPoint endPoint, int count)
    {
        var rogues = new List<TcpClient>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var rogue = new TcpClient();
                await rogue.ConnectAsync(endPoint);
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
            foreach (var rogue in rogues)
            {
                rogue.Dispose();
            }
        }
    }

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
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

/// <summary>Keeps <see cref="HostileLoadTests"/> from running beside other test classes.</summary>
[CollectionDefinition(nameof(HostileLoadTests), DisableParallelization = true)]
public sealed class HostileLoadTestsCollection;
