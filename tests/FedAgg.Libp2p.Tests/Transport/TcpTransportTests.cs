using System.Buffers;
using System.Security.Cryptography;
using FedAgg.Libp2p.Transport;

namespace FedAgg.Libp2p.Tests.Transport;

public sealed class TcpTransportTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Listen_PortZero_ReportsTheChosenPortAndCarriesBytesBothWays()
    {
        await using var listener = TcpTransport.Listen(Multiaddress.Parse("/ip4/127.0.0.1/tcp/0"));
        Assert.True(listener.Address.TryGetIPEndPoint(out var endPoint));
        Assert.NotEqual(0, endPoint.Port);

        var accepting = listener.AcceptAsync(CancellationToken.None);
        await using var client = await TcpTransport.DialAsync(listener.Address, Wait, TimeProvider.System, CancellationToken.None);
        await using var server = await accepting.WaitAsync(Wait);
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);

        var data = RandomNumberGenerator.GetBytes(3 << 20);
        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                client.Output.Write(data.AsSpan(offset, Math.Min(100_000, data.Length - offset)));
                await client.Output.FlushAsync();
            }

            await client.Output.CompleteAsync();
        });
        var received = new List<byte>(data.Length);
        while (true)
        {
            var result = await server.Input.ReadAsync().AsTask().WaitAsync(Wait);
            received.AddRange(result.Buffer.ToArray());
            server.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await writing.WaitAsync(Wait);
        Assert.Equal(data, received.ToArray());

        server.Output.Write("back"u8);
        await server.Output.FlushAsync();
        var answer = await client.Input.ReadAtLeastAsync(4).AsTask().WaitAsync(Wait);
        Assert.Equal("back"u8.ToArray(), answer.Buffer.Slice(0, 4).ToArray());
    }

    [Fact]
    public async Task DialAsync_NothingListening_ThrowsLibp2pException()
    {
        int port;
        await using (var listener = TcpTransport.Listen(Multiaddress.Parse("/ip4/127.0.0.1/tcp/0")))
        {
            listener.Address.TryGetIPEndPoint(out var endPoint);
            port = endPoint!.Port;
        }

        await Assert.ThrowsAsync<Libp2pException>(() => TcpTransport.DialAsync(Multiaddress.Parse($"/ip4/127.0.0.1/tcp/{port}"), Wait, TimeProvider.System, CancellationToken.None));
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/0")]
    [InlineData("/ip4/127.0.0.1")]
    public async Task DialAsync_NotADiallableAddress_Throws(string address)
    {
        await Assert.ThrowsAsync<Libp2pException>(() => TcpTransport.DialAsync(Multiaddress.Parse(address), Wait, TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public void Listen_DnsAddress_Throws()
    {
        Assert.Throws<Libp2pException>(() => TcpTransport.Listen(Multiaddress.Parse("/dns4/localhost/tcp/0")));
    }

    [Fact]
    public async Task Dispose_PeerSeesEndOfStream()
    {
        await using var listener = TcpTransport.Listen(Multiaddress.Parse("/ip4/127.0.0.1/tcp/0"));
        var accepting = listener.AcceptAsync(CancellationToken.None);
        var client = await TcpTransport.DialAsync(listener.Address, Wait, TimeProvider.System, CancellationToken.None);
        await using var server = await accepting.WaitAsync(Wait);
        client.Output.Write("last"u8);
        await client.Output.FlushAsync();
        await client.Output.CompleteAsync();
        await client.SendCompletion.WaitAsync(Wait);
        await client.DisposeAsync();

        var result = await server.Input.ReadAtLeastAsync(5).AsTask().WaitAsync(Wait);
        Assert.True(result.IsCompleted);
        Assert.Equal("last"u8.ToArray(), result.Buffer.ToArray());
    }
}
