using System.Buffers;
using System.Text;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Libp2p;
using Xunit.Abstractions;

namespace FedAgg.Libp2p.Tests.Interop;

/// <summary>The C# host dials a js-libp2p 3.x peer: Noise, Yamux, identify, ping and the echo test protocols.</summary>
[Trait("Category", "Interop")]
public sealed class CSharpDialsJsTests(InteropFixture fixture, ITestOutputHelper output) : IClassFixture<InteropFixture>
{
    private static readonly TimeSpan Timeout = InteropFixture.Timeout;

    [Fact]
    public async Task DialAsync_JsListener_NoiseAuthenticatesBothPeerIds()
    {
        var connection = await fixture.ConnectionToJsAsync();

        Assert.Equal(InteropFixture.ExpectedJsPeerId, connection.RemotePeer);
        Assert.Equal(InteropFixture.ExpectedJsPeerId.ToString(), fixture.Js.PeerId);
        Assert.False(connection.IsInbound);
        Assert.Equal("/yamux/1.0.0", connection.Muxer);
        var seen = await fixture.RunJsAsync("connections", new { peer = fixture.Host.LocalPeerId.ToString() });
        var js = Assert.Single(seen["connections"]!.AsArray(), c => c!["status"]!.GetValue<string>() == "open")!;
        Assert.Equal(InteropFixture.ExpectedCSharpPeerId.ToString(), js["remotePeer"]!.GetValue<string>());
        Assert.Equal("inbound", js["direction"]!.GetValue<string>());
        Assert.Equal("/noise", js["encryption"]!.GetValue<string>());
        Assert.Equal("/yamux/1.0.0", js["multiplexer"]!.GetValue<string>());
        // By default the C# host offers no muxer inside Noise, so Yamux was selected with multistream-select after it.
        Assert.NotEmpty(fixture.MuxerNegotiations(inbound: false));
        Assert.All(fixture.MuxerNegotiations(inbound: false), how => Assert.Equal("negotiated with multistream-select", how));
    }

    [Fact]
    public async Task Identify_JsListener_BothSidesLearnTheOthersAgentAndProtocols()
    {
        var connection = await fixture.ConnectionToJsAsync();

        var info = await connection.Identify.WaitAsync(Timeout);

        Assert.Equal(InteropFixture.JsAgent, info.AgentVersion);
        Assert.Equal("ipfs/0.1.0", info.ProtocolVersion);
        Assert.Equal(InteropFixture.ExpectedJsPeerId, info.PublicKey?.PeerId);
        foreach (var protocol in new[] { "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", JsPeer.EchoProtocol, JsPeer.RawEchoProtocol, JsPeer.SourceProtocol })
        {
            Assert.Contains(protocol, info.Protocols);
        }

        Assert.Contains(info.ListenAddresses, a => fixture.JsAddress.WithoutPeerId().Equals(a));

        // js ran identify against us on this (to js, inbound) connection: its answer is exactly our protocol list.
        var answer = await fixture.RunJsAsync("identify", new { addr = fixture.HostAddress.ToString() });
        Assert.Equal(InteropFixture.ExpectedCSharpPeerId.ToString(), answer["peerId"]!.GetValue<string>());
        Assert.Equal(InteropFixture.CSharpAgent, answer["agentVersion"]!.GetValue<string>());
        var identified = answer["protocols"]!.AsArray().Select(static p => p!.GetValue<string>()).ToList();
        Assert.Equal(fixture.Host.Protocols.Order(StringComparer.Ordinal), identified.Order(StringComparer.Ordinal));

        // js's peer store holds what our identify answer told it (plus any protocol we opened a stream with).
        var stored = await fixture.RunJsAsync("peerstore", new { peer = fixture.Host.LocalPeerId.ToString(), protocol = InteropFixture.IdentifyOnlyProtocol });
        var protocols = stored["protocols"]!.AsArray().Select(static p => p!.GetValue<string>()).ToList();
        foreach (var protocol in fixture.Host.Protocols)
        {
            Assert.Contains(protocol, protocols);
        }

        Assert.Contains("/ipfs/id/1.0.0", protocols);
        Assert.Contains("/ipfs/ping/1.0.0", protocols);
        Assert.Contains(JsPeer.EchoProtocol, protocols);
        Assert.Equal(InteropFixture.CSharpAgent, stored["agentVersion"]!.GetValue<string>());
        Assert.Contains(stored["addresses"]!.AsArray(), a => a!.GetValue<string>() == fixture.Host.ListenAddresses[0].ToString());
    }

    [Fact]
    public async Task PingAsync_JsListener_AnswersThreeTimes()
    {
        var connection = await fixture.ConnectionToJsAsync();

        for (var i = 0; i < 3; i++)
        {
            using var ping = new CancellationTokenSource(Timeout);
            var rtt = await connection.PingAsync(ping.Token);
            Assert.InRange(rtt, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            output.WriteLine($"C# -> js ping RTT: {rtt.TotalMilliseconds:0.###} ms");
        }
    }

    [Fact]
    public async Task Echo_SixteenMebibyteMessage_ComesBackIntact()
    {
        var connection = await fixture.ConnectionToJsAsync();
        var message = InteropFixture.RandomBytes(16 * 1024 * 1024, seed: 16);
        using var cancel = new CancellationTokenSource(Timeout);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, cancel.Token);
        stream.MaxMessageBytes = InteropFixture.EchoMaxMessageBytes;
        var reading = ReadAllMessagesAsync(stream, cancel.Token);
        await stream.WriteMessageAsync(message, cancel.Token);
        await stream.CompleteWritesAsync();
        var echoed = await reading;
        output.WriteLine($"C# -> js 16 MiB echo: {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");

        var single = Assert.Single(echoed);
        Assert.Equal(InteropFixture.Sha256Hex(message), InteropFixture.Sha256Hex(single.Span));
        var events = await fixture.RunJsAsync("events", new { protocol = JsPeer.EchoProtocol });
        Assert.Contains(events["events"]!.AsArray(), e => e!["bytes"]!.GetValue<long>() == message.Length && e["outcome"]!.GetValue<string>() == "end");
    }

    [Fact]
    public async Task Echo_HundredConcurrentStreamsOf64KiB_AllComeBackIntact()
    {
        var connection = await fixture.ConnectionToJsAsync();
        using var cancel = new CancellationTokenSource(Timeout);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            var message = InteropFixture.RandomBytes(64 * 1024, seed: 1000 + i);
            await using var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, cancel.Token);
            var reading = ReadAllMessagesAsync(stream, cancel.Token);
            await stream.WriteMessageAsync(message, cancel.Token);
            await stream.CompleteWritesAsync();
            var echoed = await reading;
            return (Sent: InteropFixture.Sha256Hex(message), Received: echoed.Select(static e => InteropFixture.Sha256Hex(e.Span)).ToList());
        }));

        output.WriteLine($"C# -> js 100 concurrent 64 KiB echo streams: {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");
        Assert.All(results, r => Assert.Equal([r.Sent], r.Received));
        Assert.Equal(100, results.Select(static r => r.Sent).Distinct().Count());
    }

    [Fact]
    public async Task RawEcho_ChunkedWritesThenHalfClose_SameBytesThenEnd()
    {
        var connection = await fixture.ConnectionToJsAsync();
        var data = InteropFixture.RandomBytes(1_000_000, seed: 7);
        using var cancel = new CancellationTokenSource(Timeout);

        await using var stream = await connection.OpenStreamAsync(JsPeer.RawEchoProtocol, cancel.Token);
        var reading = ReadToEndAsync(stream, cancel.Token);
        for (var offset = 0; offset < data.Length; offset += 100_000)
        {
            await stream.Output.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)), cancel.Token);
        }

        await stream.CompleteWritesAsync();
        var back = await reading;

        Assert.Equal(data.Length, back.Length);
        Assert.Equal(InteropFixture.Sha256Hex(data), InteropFixture.Sha256Hex(back));
    }

    [Fact]
    public async Task Source_JsHalfClosesMidStream_CSharpReadsEveryByteThenTheEnd()
    {
        var connection = await fixture.ConnectionToJsAsync();
        using var cancel = new CancellationTokenSource(Timeout);

        await using var stream = await connection.OpenStreamAsync(JsPeer.SourceProtocol, cancel.Token);
        await stream.WriteMessageAsync(Encoding.UTF8.GetBytes("""{"bytes":300000,"end":"close"}"""), cancel.Token);
        var received = await ReadToEndAsync(stream, cancel.Token);

        Assert.Equal(300_000, received.Length);
        for (var i = 0; i < received.Length; i++)
        {
            Assert.True(received[i] == i % 251, $"byte {i} is {received[i]}, expected {i % 251}");
        }

        await AssertConnectionStillEchoesAsync(connection, cancel.Token);
    }

    [Fact]
    public async Task Source_JsResetsMidStream_CSharpReadFailsWithResetAndTheConnectionStaysUsable()
    {
        var connection = await fixture.ConnectionToJsAsync();
        using var cancel = new CancellationTokenSource(Timeout);

        await using var stream = await connection.OpenStreamAsync(JsPeer.SourceProtocol, cancel.Token);
        await stream.WriteMessageAsync(Encoding.UTF8.GetBytes("""{"bytes":200000,"end":"reset"}"""), cancel.Token);
        var error = await Assert.ThrowsAnyAsync<Libp2pException>(() => ReadToEndAsync(stream, cancel.Token));

        Assert.IsType<YamuxStreamResetException>(error);
        var events = await fixture.RunJsAsync("events", new { protocol = JsPeer.SourceProtocol });
        Assert.Contains(events["events"]!.AsArray(), e => e!["outcome"]!.GetValue<string>() == "reset-sent");
        await AssertConnectionStillEchoesAsync(connection, cancel.Token);
    }

    [Fact]
    public async Task Reset_CSharpResetsMidMessage_JsSeesTheResetAndTheConnectionStaysUsable()
    {
        var connection = await fixture.ConnectionToJsAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        await fixture.RunJsAsync("clearevents");

        var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, cancel.Token);
        var first = InteropFixture.RandomBytes(1000, seed: 99);
        await stream.WriteMessageAsync(first, cancel.Token);
        var echo = await stream.ReadMessageAsync(cancel.Token);
        Assert.Equal(first, echo?.ToArray());
        // A length of 1 MiB announced, 10 KiB of it sent, then the reset.
        await stream.Output.WriteAsync(new byte[] { 0x80, 0x80, 0x40 }, cancel.Token);
        await stream.Output.WriteAsync(new byte[10_000], cancel.Token);
        stream.Reset();
        await stream.DisposeAsync();

        var events = await fixture.RunJsAsync("events", new { protocol = JsPeer.EchoProtocol, outcome = "reset", count = 1 });
        var seen = Assert.Single(events["events"]!.AsArray())!;
        Assert.Equal(1, seen["messages"]!.GetValue<int>());
        Assert.Equal(first.Length, seen["bytes"]!.GetValue<int>());
        await AssertConnectionStillEchoesAsync(connection, cancel.Token);
    }

    [Fact]
    public async Task DialAsync_WrongPeerIdInAddress_RefusedWithLibp2pException()
    {
        using var other = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)0x33, 32).ToArray());
        var wrong = fixture.JsAddress.WithPeerId(other.PeerId);
        using var cancel = new CancellationTokenSource(Timeout);

        await Assert.ThrowsAnyAsync<Libp2pException>(() => fixture.Host.DialAsync(wrong, cancel.Token));

        Assert.DoesNotContain(fixture.Host.Connections, c => c.RemotePeer.Equals(other.PeerId));
    }

    private static async Task AssertConnectionStillEchoesAsync(Libp2pConnection connection, CancellationToken cancellationToken)
    {
        Assert.False(connection.IsClosed, "the connection closed after a stream ended");
        var message = InteropFixture.RandomBytes(4096, seed: Environment.TickCount);
        await using var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, cancellationToken);
        var reading = ReadAllMessagesAsync(stream, cancellationToken);
        await stream.WriteMessageAsync(message, cancellationToken);
        await stream.CompleteWritesAsync();
        var echoed = Assert.Single(await reading);
        Assert.Equal(message, echoed.ToArray());
    }

    private static async Task<List<ReadOnlyMemory<byte>>> ReadAllMessagesAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var messages = new List<ReadOnlyMemory<byte>>();
        while (await stream.ReadMessageAsync(cancellationToken) is { } message)
        {
            messages.Add(message.ToArray());
        }

        return messages;
    }

    internal static async Task<byte[]> ReadToEndAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            var read = await stream.Input.ReadAsync(cancellationToken);
            foreach (var segment in read.Buffer)
            {
                received.Write(segment.Span);
            }

            stream.Input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return received.WrittenSpan.ToArray();
            }
        }
    }
}
