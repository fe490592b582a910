using System.Net.Sockets;
using System.Security.Cryptography;
using FedAgg.Core.Identity;
using Microsoft.Extensions.Logging;
using static FedAgg.Libp2p.Tests.Host.HostTestSupport;

namespace FedAgg.Libp2p.Tests.Host;

public sealed class Libp2pHostTests
{
    private const string Echo = "/fedagg/test/echo/1.0.0";

    private static readonly Func<Libp2pStream, CancellationToken, Task> EchoHandler = async (stream, ct) =>
    {
        while (await stream.ReadMessageAsync(ct) is { } message)
        {
            await stream.WriteMessageAsync(message, ct);
        }

        await stream.CompleteWritesAsync();
    };

    [Fact]
    public async Task DialAsync_TwoHosts_BothSidesAuthenticateAndIdentify()
    {
        await using var server = await StartHostAsync(o => o.AgentVersion = "fedagg-test/server");
        server.RegisterProtocol(Echo, EchoHandler);
        await using var client = await StartHostAsync(o => o.AgentVersion = "fedagg-test/client");
        var inbound = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += (_, e) => inbound.TrySetResult(e.Connection);

        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        var serverSide = await Within(inbound.Task, "the server's ConnectionOpened event");

        Assert.Equal(server.LocalPeerId, connection.RemotePeer);
        Assert.False(connection.IsInbound);
        Assert.Equal(client.LocalPeerId, serverSide.RemotePeer);
        Assert.True(serverSide.IsInbound);
        Assert.Equal(connection.LocalAddress, serverSide.RemoteAddress);

        var serverInfo = await Within(connection.Identify, "the client's identify of the server");
        Assert.Equal("fedagg-test/server", serverInfo.AgentVersion);
        Assert.Equal("ipfs/0.1.0", serverInfo.ProtocolVersion);
        Assert.Equal(server.LocalPeerId, serverInfo.PublicKey!.PeerId);
        Assert.Equal(["/fedagg/test/echo/1.0.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], serverInfo.Protocols);
        Assert.Equal(server.ListenAddresses, serverInfo.ListenAddresses);
        Assert.Equal(connection.LocalAddress, serverInfo.ObservedAddress);

        var clientInfo = await Within(serverSide.Identify, "the server's identify of the client");
        Assert.Equal("fedagg-test/client", clientInfo.AgentVersion);
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], clientInfo.Protocols);
    }

    [Fact]
    public async Task Identify_NotEager_ServerAsksOnlyWhenRead()
    {
        var logs = new FedAgg.TestKit.Logging.ListLogger<Libp2pHost>();
        using var loggerFactory = new SingleLoggerFactory(logs);
        using var serverKey = Ed25519PrivateKey.Generate();
        var options = new Libp2pHostOptions { IdentifyRemoteEagerly = false };
        options.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
        await using var server = new Libp2pHost(serverKey, options, loggerFactory);
        await server.StartAsync(CancellationToken.None);
        await using var client = await StartHostAsync(o => o.AgentVersion = "fedagg-test/client");
        var inbound = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += (_, e) => inbound.TrySetResult(e.Connection);

        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        var serverSide = await Within(inbound.Task, "the server's ConnectionOpened event");
        await Within(connection.Identify, "the client's identify of the server");
        await Within(serverSide.PingAsync(CancellationToken.None), "a ping from the server");
        var before = logs.Entries.Count(static e => e.EventId == 4150);

        var clientInfo = await Within(serverSide.Identify, "the server's identify of the client, asked now");

        Assert.Equal(0, before);
        Assert.Equal("fedagg-test/client", clientInfo.AgentVersion);
        Assert.Equal(1, logs.Entries.Count(static e => e.EventId == 4150));
    }

    private sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task PingAsync_BothDirections_ReturnsRoundTripTimes()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var inbound = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += (_, e) => inbound.TrySetResult(e.Connection);
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        var serverSide = await Within(inbound.Task, "the inbound connection");

        for (var i = 0; i < 5; i++)
        {
            var rtt = await Within(connection.PingAsync(CancellationToken.None), "a ping answer");
            Assert.InRange(rtt, TimeSpan.Zero, Wait);
        }

        var back = await Within(serverSide.PingAsync(CancellationToken.None), "a ping answer from the dialler");
        Assert.InRange(back, TimeSpan.Zero, Wait);
    }

    [Fact]
    public async Task OpenStreamAsync_EchoProtocol_LargeAndConcurrentMessagesRoundTrip()
    {
        await using var server = await StartHostAsync();
        server.RegisterProtocol(Echo, EchoHandler);
        await using var client = await StartHostAsync();
        await client.DialAsync(AddressOf(server), CancellationToken.None);

        var large = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await using (var stream = await client.OpenStreamAsync(server.LocalPeerId, Echo, CancellationToken.None))
        {
            Assert.Equal(Echo, stream.Protocol);
            var write = stream.WriteMessageAsync(large, CancellationToken.None).AsTask();
            var echoed = await Within(stream.ReadMessageAsync(CancellationToken.None).AsTask(), "the 3 MiB echo");
            await write;
            Assert.True(SHA256.HashData(large).AsSpan().SequenceEqual(SHA256.HashData(echoed!.Value.Span)));
            await stream.CompleteWritesAsync();
            Assert.Null(await Within(stream.ReadMessageAsync(CancellationToken.None).AsTask(), "the end of the echo stream"));
        }

        var tasks = Enumerable.Range(0, 32).Select(async i =>
        {
            var payload = new byte[64 * 1024];
            new Random(i).NextBytes(payload);
            await using var stream = await client.OpenStreamAsync(server.LocalPeerId, Echo, CancellationToken.None);
            await stream.WriteMessageAsync(payload, CancellationToken.None);
            var echoed = await stream.ReadMessageAsync(CancellationToken.None);
            return echoed!.Value.Span.SequenceEqual(payload);
        });
        var results = await Within(Task.WhenAll(tasks), "32 concurrent echo streams");
        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task OpenStreamAsync_UnsupportedProtocol_ThrowsAndConnectionStaysUsable()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);

        var error = await Assert.ThrowsAsync<Libp2pException>(() => connection.OpenStreamAsync("/not/served/1.0.0", CancellationToken.None));
        Assert.Contains("/not/served/1.0.0", error.Message, StringComparison.Ordinal);
        await Within(connection.PingAsync(CancellationToken.None), "a ping after the refused protocol");
        Assert.False(connection.IsClosed);
    }

    [Fact]
    public async Task DialAsync_AddressNamesAnotherPeer_IsRefused()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var impostor = Ed25519PrivateKey.Generate().PeerId;

        var error = await Assert.ThrowsAsync<Libp2pException>(() => client.DialAsync(server.ListenAddresses[0].WithPeerId(impostor), CancellationToken.None));

        Assert.Contains(server.LocalPeerId.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(impostor.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Empty(client.Connections);
    }

    [Fact]
    public async Task DialAsync_ConnectedPeer_ReusesTheConnection()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var first = await client.DialAsync(AddressOf(server), CancellationToken.None);
        var second = await client.DialAsync(AddressOf(server), CancellationToken.None);
        Assert.Same(first, second);
        Assert.Single(client.Connections);
    }

    [Fact]
    public async Task Handler_Throws_ResetsOnlyThatStream()
    {
        await using var server = await StartHostAsync();
        server.RegisterProtocol("/throws/1.0.0", async (stream, ct) =>
        {
            await stream.ReadMessageAsync(ct);
            throw new InvalidOperationException("handler bug");
        });
        server.RegisterProtocol(Echo, EchoHandler);
        await using var client = await StartHostAsync();
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);

        await using var failing = await connection.OpenStreamAsync("/throws/1.0.0", CancellationToken.None);
        await failing.WriteMessageAsync(new byte[] { 1, 2, 3 }, CancellationToken.None);
        await Assert.ThrowsAnyAsync<Libp2pException>(() => Within(failing.ReadMessageAsync(CancellationToken.None).AsTask(), "the reset"));

        await using var echo = await connection.OpenStreamAsync(Echo, CancellationToken.None);
        await echo.WriteMessageAsync(new byte[] { 9 }, CancellationToken.None);
        var answer = await Within(echo.ReadMessageAsync(CancellationToken.None).AsTask(), "the echo after a failed handler");
        Assert.Equal([9], answer!.Value.ToArray());
        Assert.False(connection.IsClosed);
    }

    [Fact]
    public async Task ReadMessageAsync_OverProtocolLimit_ResetsStream()
    {
        await using var server = await StartHostAsync(o => o.MaxMessageBytesPerProtocol[Echo] = 1024);
        var serverError = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.RegisterProtocol(Echo, async (stream, ct) =>
        {
            try
            {
                await stream.ReadMessageAsync(ct);
                serverError.TrySetResult(new InvalidOperationException("no error"));
            }
            catch (Exception e)
            {
                serverError.TrySetResult(e);
            }
        });
        await using var client = await StartHostAsync();
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
        Assert.Equal(Libp2pHostOptions.DefaultAgentVersion, (await Within(connection.Identify, "identify")).AgentVersion);

        await stream.WriteMessageAsync(new byte[1025], CancellationToken.None);

        var error = await Within(serverError.Task, "the handler's read to fail");
        Assert.IsType<Libp2pException>(error);
        Assert.Contains("1025", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Libp2pException>(() => Within(stream.ReadMessageAsync(CancellationToken.None).AsTask(), "the client to see the reset"));
    }

    [Fact]
    public async Task Limits_MaxConnectionsPerIp_RefusesTheExcessConnectionOnly()
    {
        await using var server = await StartHostAsync(o => o.MaxConnectionsPerIp = 1);
        await using var first = await StartHostAsync();
        await using var second = await StartHostAsync();
        var connection = await first.DialAsync(AddressOf(server), CancellationToken.None);

        await Assert.ThrowsAsync<Libp2pException>(() => second.DialAsync(AddressOf(server), CancellationToken.None));

        await Within(connection.PingAsync(CancellationToken.None), "a ping on the admitted connection");
        Assert.Single(server.Connections);
    }

    [Fact]
    public async Task Limits_DeniedPeer_IsDisconnectedAfterNoise()
    {
        var deniedKey = Ed25519PrivateKey.Generate();
        await using var server = await StartHostAsync(o => o.DeniedPeers.Add(deniedKey.PeerId.ToString()));
        var opened = new System.Collections.Concurrent.ConcurrentQueue<PeerId>();
        var firstOpened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += (_, e) =>
        {
            opened.Enqueue(e.Connection.RemotePeer);
            firstOpened.TrySetResult();
        };
        await using var denied = await StartHostAsync(key: deniedKey);
        await using var other = await StartHostAsync();

        await Assert.ThrowsAsync<Libp2pException>(() => Within(denied.DialAsync(AddressOf(server), CancellationToken.None), "the denied dial to fail"));
        var connection = await other.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.PingAsync(CancellationToken.None), "a ping from an allowed peer");

        // The event is raised on the server's side of the handshake, which may finish after the client's ping: wait for it.
        await Within(firstOpened.Task, "the server's ConnectionOpened for the allowed peer");
        Assert.Equal([other.LocalPeerId], opened);
        Assert.DoesNotContain(server.Connections, c => c.RemotePeer.Equals(deniedKey.PeerId));
    }

    [Fact]
    public async Task Limits_AllowList_RefusesPeersNotOnIt()
    {
        var allowedKey = Ed25519PrivateKey.Generate();
        await using var server = await StartHostAsync(o => o.AllowedPeers.Add(allowedKey.PeerId.ToString()));
        await using var allowed = await StartHostAsync(key: allowedKey);
        await using var stranger = await StartHostAsync();

        await Assert.ThrowsAsync<Libp2pException>(() => Within(stranger.DialAsync(AddressOf(server), CancellationToken.None), "the stranger's dial to fail"));
        var connection = await allowed.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.PingAsync(CancellationToken.None), "a ping from the allowed peer");
    }

    [Fact]
    public async Task Limits_SilentPeer_IsDisconnectedAfterHandshakeTimeout()
    {
        await using var server = await StartHostAsync(o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(300));
        using var silent = new TcpClient();
        var endPoint = server.ListenAddresses[0].TryGetIPEndPoint(out var ep) ? ep : throw new InvalidOperationException();
        await silent.ConnectAsync(endPoint);
        var stream = silent.GetStream();

        var buffer = new byte[256];
        var total = 0;
        int read;
        // The listener answers nothing before it hears a header, then closes; bounded by the wait.
        while ((read = await Within(ReadOrResetAsync(stream, buffer), "the server to close the silent connection")) > 0)
        {
            total += read;
            Assert.InRange(total, 0, 4096);
        }

        Assert.Equal(0, read);
        Assert.Empty(server.Connections);
    }

    [Fact]
    public async Task Limits_GarbagePeer_DoesNotAffectOtherConnections()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        server.ListenAddresses[0].TryGetIPEndPoint(out var endPoint);

        foreach (var garbage in new[] { new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "\u0013/multistream/1.0.0\n\u0007/noise\n\u0000\u0005hello"u8.ToArray(), RandomNumberGenerator.GetBytes(4096) })
        {
            using var rogue = new TcpClient();
            await rogue.ConnectAsync(endPoint!);
            var stream = rogue.GetStream();
            await stream.WriteAsync(garbage);
            var buffer = new byte[1024];
            var total = 0;
            int read;
            while ((read = await Within(ReadOrResetAsync(stream, buffer), "the server to drop the garbage connection")) > 0)
            {
                total += read;
                Assert.InRange(total, 0, 8192);
            }
        }

        await Within(connection.PingAsync(CancellationToken.None), "a ping on the healthy connection");
        Assert.Single(server.Connections);
    }

    [Fact]
    public async Task Host_HostilePeersAndFailures_LeaveNoUnobservedTaskExceptions()
    {
        var unobserved = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, e) =>
        {
            // Only exceptions raised by this stack's host, Noise, multistream or transport code count here.
            foreach (var inner in e.Exception.InnerExceptions)
            {
                var trace = inner.ToString();
                if (trace.Contains("FedAgg.Libp2p.Libp2p", StringComparison.Ordinal) || trace.Contains("FedAgg.Libp2p.Noise", StringComparison.Ordinal)
                    || trace.Contains("FedAgg.Libp2p.Multistream", StringComparison.Ordinal) || trace.Contains("FedAgg.Libp2p.Transport", StringComparison.Ordinal))
                {
                    lock (unobserved)
                    {
                        unobserved.Add(inner);
                    }
                }
            }
        };
        TaskScheduler.UnobservedTaskException += onUnobserved;
        try
        {
            await using (var server = await StartHostAsync(o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(500)))
            {
                server.RegisterProtocol("/throws/1.0.0", (_, _) => throw new InvalidOperationException("handler bug"));
                server.ListenAddresses[0].TryGetIPEndPoint(out var endPoint);
                using (var rogue = new TcpClient())
                {
                    await rogue.ConnectAsync(endPoint!);
                    await rogue.GetStream().WriteAsync(RandomNumberGenerator.GetBytes(100));
                }

                await using var client = await StartHostAsync();
                var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
                // The handler fails at once, so the reset may even overtake the negotiation answer.
                await Assert.ThrowsAnyAsync<Libp2pException>(async () =>
                {
                    var stream = await connection.OpenStreamAsync("/throws/1.0.0", CancellationToken.None);
                    await Within(stream.ReadMessageAsync(CancellationToken.None).AsTask(), "the reset");
                });
                await Assert.ThrowsAsync<Libp2pException>(() => connection.OpenStreamAsync("/missing/1", CancellationToken.None));
                await connection.CloseAsync();
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }

        lock (unobserved)
        {
            Assert.Empty(unobserved);
        }
    }

    [Fact]
    public async Task IdleTimeout_NoStreams_ClosesTheConnection()
    {
        await using var server = await StartHostAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(1));
        await using var client = await StartHostAsync();
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionClosed += (_, e) => closed.TrySetResult(e.Reason);
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.Identify, "identify");

        var reason = await Within(closed.Task, "the idle connection to close");
        Assert.True(connection.IsClosed);
        Assert.Equal(reason, await connection.Closed);
        Assert.Empty(server.Connections);
    }

    [Fact]
    public async Task CloseAsync_Local_RemoteSeesClosed()
    {
        await using var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var remoteClosed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionClosed += (_, e) => remoteClosed.TrySetResult(e.Reason);
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.Identify, "identify");

        await connection.CloseAsync();

        Assert.Equal("closed locally", await Within(connection.Closed, "the local close"));
        var reason = await Within(remoteClosed.Task, "the server to see the close");
        Assert.False(string.IsNullOrEmpty(reason));
        await Assert.ThrowsAsync<Libp2pException>(() => connection.OpenStreamAsync(Echo, CancellationToken.None));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task DialAsync_EarlyMuxerNegotiationCombinations_Connect(bool dialerEarly, bool listenerEarly)
    {
        await using var server = await StartHostAsync(o => o.EarlyMuxerNegotiation = listenerEarly);
        await using var client = await StartHostAsync(o => o.EarlyMuxerNegotiation = dialerEarly);
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        await Within(connection.PingAsync(CancellationToken.None), "a ping");
        Assert.Equal("/yamux/1.0.0", connection.Muxer);
    }

    [Fact]
    public async Task StopAsync_ClosesConnectionsAndListeners()
    {
        var server = await StartHostAsync();
        await using var client = await StartHostAsync();
        var connection = await client.DialAsync(AddressOf(server), CancellationToken.None);
        var address = AddressOf(server);

        await server.StopAsync(CancellationToken.None);

        await Within(connection.Closed, "the client's connection to close when the server stops");
        await Assert.ThrowsAsync<Libp2pException>(() => client.DialAsync(address, CancellationToken.None));
        await server.DisposeAsync();
    }

    [Fact]
    public void Options_OutOfRange_ValidateNamesTheOption()
    {
        var options = new Libp2pHostOptions { MaxConnectionsPerIp = 0 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Contains("MaxConnectionsPerIp", error.Message, StringComparison.Ordinal);

        options = new Libp2pHostOptions { HandshakeTimeout = TimeSpan.Zero };
        Assert.Contains("HandshakeTimeout", Assert.Throws<ArgumentOutOfRangeException>(options.Validate).Message, StringComparison.Ordinal);

        options = new Libp2pHostOptions();
        options.ListenAddresses.Add("/ip4/1.2.3/tcp/1");
        Assert.Contains("ListenAddresses", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);

        options = new Libp2pHostOptions();
        options.DeniedPeers.Add("not-a-peer");
        Assert.Contains("DeniedPeers", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);

        new Libp2pHostOptions().Validate();
        Assert.StartsWith("fedagg/", Libp2pHostOptions.DefaultAgentVersion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterProtocol_Duplicate_Throws()
    {
        await using var host = await StartHostAsync();
        host.RegisterProtocol(Echo, EchoHandler);
        Assert.Throws<ArgumentException>(() => host.RegisterProtocol(Echo, EchoHandler));
        Assert.Throws<ArgumentException>(() => host.RegisterProtocol("/ipfs/ping/1.0.0", EchoHandler));
        Assert.Throws<ArgumentException>(() => host.RegisterProtocol("bad\nid", EchoHandler));
        Assert.Equal(["/fedagg/test/echo/1.0.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], host.Protocols);
    }

    private static async Task<int> ReadOrResetAsync(NetworkStream stream, byte[] buffer)
    {
        try
        {
            return await stream.ReadAsync(buffer);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
