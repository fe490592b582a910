using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Protocols;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Protocols;

public sealed class ProtocolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void IdentifyMessage_EncodeDecode_RoundtripsEveryField()
    {
        var key = Ed25519PrivateKey.Generate().PublicKey;
        var message = new IdentifyMessage
        {
            ProtocolVersion = "ipfs/0.1.0",
            AgentVersion = "fedagg/1.0",
            PublicKey = key.ToProtobuf(),
            ObservedAddress = Multiaddress.Parse("/ip4/10.1.2.3/tcp/4").ToBytes(),
            SignedPeerRecord = [1, 2, 3],
        };
        message.ListenAddresses.Add(Multiaddress.Parse("/ip4/127.0.0.1/tcp/4001").ToBytes());
        message.ListenAddresses.Add([0x91, 0x02, 0x0f, 0xa1]); // /udp/4001: not representable here
        message.Protocols.AddRange(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"]);

        var bytes = message.Encode();
        // Field order 1, 2, 2, 3, 3, 4, 5, 6, 8 as protobuf encoders write them.
        Assert.Equal(0x0a, bytes[0]);
        Assert.True(IdentifyMessage.TryDecode(bytes, out var decoded, out _));
        var info = IdentifyProtocol.ToInfo(decoded, key.PeerId);
        Assert.Equal("ipfs/0.1.0", info.ProtocolVersion);
        Assert.Equal("fedagg/1.0", info.AgentVersion);
        Assert.Equal(key, info.PublicKey);
        Assert.Equal([Multiaddress.Parse("/ip4/127.0.0.1/tcp/4001")], info.ListenAddresses);
        Assert.Equal(1, info.UnsupportedListenAddressCount);
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], info.Protocols);
        Assert.Equal(Multiaddress.Parse("/ip4/10.1.2.3/tcp/4"), info.ObservedAddress);
        Assert.True(info.HasSignedPeerRecord);
    }

    [Fact]
    public void IdentifyMessage_KeyOfAnotherPeer_IsRefused()
    {
        var message = new IdentifyMessage { PublicKey = Ed25519PrivateKey.Generate().PublicKey.ToProtobuf() };
        Assert.True(IdentifyMessage.TryDecode(message.Encode(), out var decoded, out _));
        Assert.Throws<Libp2pException>(() => IdentifyProtocol.ToInfo(decoded, Ed25519PrivateKey.Generate().PeerId));
    }

    [Theory]
    [InlineData("0a05010203")]
    [InlineData("32")]
    [InlineData("1a01ff")]
    public void IdentifyMessage_Malformed_IsRefused(string hex)
    {
        Assert.False(IdentifyMessage.TryDecode(Convert.FromHexString(hex), out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void IdentifyMessage_Merge_LaterScalarsWinListsAccumulate()
    {
        var first = new IdentifyMessage { AgentVersion = "a" };
        first.Protocols.Add("/x");
        var second = new IdentifyMessage { AgentVersion = "b" };
        second.Protocols.AddRange(["/x", "/y"]);
        first.Merge(second);
        Assert.Equal("b", first.AgentVersion);
        Assert.Equal(["/x", "/y"], first.Protocols);
    }

    [Fact]
    public async Task Ping_ServeAndPingOnce_EchoesUntilTheStreamEnds()
    {
        var pair = DuplexPipePair.Create();
        var peer = Ed25519PrivateKey.Generate().PeerId;
        var server = new Libp2pStream(PingProtocol.ProtocolId, peer, null, pair.Right, 1024, () => { }, () => ValueTask.CompletedTask);
        var serving = PingProtocol.ServeAsync(server, CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            var rtt = await PingProtocol.PingOnceAsync(pair.Left, TimeProvider.System, CancellationToken.None).WaitAsync(Wait);
            Assert.True(rtt >= TimeSpan.Zero);
        }

        await pair.Left.Output.CompleteAsync();
        await serving.WaitAsync(Wait);
        var end = await pair.Left.Input.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public async Task PingOnce_WrongEcho_Throws()
    {
        var pair = DuplexPipePair.Create();
        var pinging = PingProtocol.PingOnceAsync(pair.Left, TimeProvider.System, CancellationToken.None);
        var sent = await pair.Right.Input.ReadAtLeastAsync(32);
        pair.Right.Input.AdvanceTo(sent.Buffer.End);
        pair.Right.Output.Write(new byte[32]);
        await pair.Right.Output.FlushAsync();
        await Assert.ThrowsAsync<Libp2pException>(() => pinging.WaitAsync(Wait));
    }

    [Fact]
    public async Task ReadMessageAsync_SplitAtEveryOffset_ReturnsMessagesThenNull()
    {
        var wire = new byte[] { 3, 1, 2, 3, 0, 0x81, 0x01 }.Concat(Enumerable.Range(0, 129).Select(i => (byte)i)).ToArray();
        for (var split = 0; split <= wire.Length; split++)
        {
            var pair = DuplexPipePair.Create();
            var stream = Stream(pair.Right, 1024, out _);
            pair.Left.Output.Write(wire.AsSpan(0, split));
            await pair.Left.Output.FlushAsync();
            var reading = ReadAllAsync(stream);
            pair.Left.Output.Write(wire.AsSpan(split));
            await pair.Left.Output.CompleteAsync();
            var messages = await reading.WaitAsync(Wait);
            Assert.Equal(3, messages.Count);
            Assert.Equal([1, 2, 3], messages[0]);
            Assert.Empty(messages[1]);
            Assert.Equal(129, messages[2].Length);
        }
    }

    [Fact]
    public async Task ReadMessageAsync_OverLimit_ResetsAndThrows()
    {
        var pair = DuplexPipePair.Create();
        var stream = Stream(pair.Right, 100, out var resets);
        pair.Left.Output.Write(new byte[] { 101 });
        await pair.Left.Output.FlushAsync();
        var error = await Assert.ThrowsAsync<Libp2pException>(async () => await stream.ReadMessageAsync(CancellationToken.None));
        Assert.Contains("101", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, resets());
    }

    [Fact]
    public async Task ReadMessageAsync_EndInsideMessage_Throws()
    {
        var pair = DuplexPipePair.Create();
        var stream = Stream(pair.Right, 100, out _);
        pair.Left.Output.Write(new byte[] { 10, 1, 2 });
        await pair.Left.Output.CompleteAsync();
        await Assert.ThrowsAsync<Libp2pException>(async () => await stream.ReadMessageAsync(CancellationToken.None));
    }

    [Fact]
    public async Task WriteMessageAsync_LargeMessage_IsLengthPrefixed()
    {
        var pair = DuplexPipePair.Create(16 << 20);
        var stream = Stream(pair.Left, 1 << 20, out _);
        var payload = new byte[300_000];
        new Random(7).NextBytes(payload);
        await stream.WriteMessageAsync(payload, CancellationToken.None);
        await stream.CompleteWritesAsync();
        var reader = Stream(pair.Right, 1 << 20, out _);
        var echoed = await reader.ReadMessageAsync(CancellationToken.None);
        Assert.Equal(payload, echoed!.Value.ToArray());
        Assert.Null(await reader.ReadMessageAsync(CancellationToken.None));
    }

    private static Libp2pStream Stream(IDuplexPipe pipe, int max, out Func<int> resets)
    {
        var count = 0;
        resets = () => Volatile.Read(ref count);
        return new Libp2pStream("/test/1", Ed25519PrivateKey.Generate().PeerId, null, pipe, max, () => Interlocked.Increment(ref count), () => ValueTask.CompletedTask);
    }

    private static async Task<List<byte[]>> ReadAllAsync(Libp2pStream stream)
    {
        var messages = new List<byte[]>();
        while (await stream.ReadMessageAsync(CancellationToken.None) is { } message)
        {
            messages.Add(message.ToArray());
            Assert.InRange(messages.Count, 0, 10);
        }

        return messages;
    }
}
