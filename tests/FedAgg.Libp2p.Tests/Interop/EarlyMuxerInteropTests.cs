using FedAgg.TestKit.Libp2p;

namespace FedAgg.Libp2p.Tests.Interop;

/// <summary>
/// The same interop with <see cref="Libp2pHostOptions.EarlyMuxerNegotiation"/> on: both sides offer
/// <c>/yamux/1.0.0</c> inside the Noise handshake, so no multistream-select round follows it (the other test classes
/// cover the default path, where the C# host offers none and the muxer is selected after Noise).
/// </summary>
[Trait("Category", "Interop")]
public sealed class EarlyMuxerInteropTests(EarlyMuxerInteropFixture fixture) : IClassFixture<EarlyMuxerInteropFixture>
{
    private static readonly TimeSpan Timeout = InteropFixture.Timeout;

    [Fact]
    public async Task CSharpDialsJs_EarlyMuxer_IdentifyPingAndEchoWork()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var connection = await fixture.ConnectionToJsAsync();

        Assert.Equal(InteropFixture.ExpectedJsPeerId, connection.RemotePeer);
        Assert.Equal("/yamux/1.0.0", connection.Muxer);
        var info = await connection.Identify.WaitAsync(Timeout);
        Assert.Equal(InteropFixture.JsAgent, info.AgentVersion);
        Assert.Contains(JsPeer.EchoProtocol, info.Protocols);
        await connection.PingAsync(cancel.Token);
        var message = InteropFixture.RandomBytes(1024 * 1024, seed: 5);
        await using var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, cancel.Token);
        stream.MaxMessageBytes = InteropFixture.EchoMaxMessageBytes;
        await stream.WriteMessageAsync(message, cancel.Token);
        await stream.CompleteWritesAsync();
        var echoed = await stream.ReadMessageAsync(cancel.Token);
        Assert.Equal(InteropFixture.Sha256Hex(message), InteropFixture.Sha256Hex(echoed!.Value.Span));
        Assert.Null(await stream.ReadMessageAsync(cancel.Token));
        // C# reuses the connection js dialled if the other test ran first, so either direction counts here.
        Assert.NotEmpty(fixture.MuxerNegotiations(inbound: null));
        Assert.All(fixture.MuxerNegotiations(inbound: null), how => Assert.Equal("chosen in the Noise handshake", how));
    }

    [Fact]
    public async Task JsDialsCSharp_EarlyMuxer_IdentifyPingAndEchoWork()
    {
        var dial = await fixture.RunJsAsync("dial", new { addr = fixture.HostAddress.ToString() });
        Assert.Equal(InteropFixture.ExpectedCSharpPeerId.ToString(), dial["connection"]!["remotePeer"]!.GetValue<string>());
        Assert.Equal("/yamux/1.0.0", dial["connection"]!["multiplexer"]!.GetValue<string>());

        var identify = await fixture.RunJsAsync("identify", new { addr = fixture.HostAddress.ToString() });
        Assert.Equal(InteropFixture.CSharpAgent, identify["agentVersion"]!.GetValue<string>());
        Assert.Contains(identify["protocols"]!.AsArray(), p => p!.GetValue<string>() == JsPeer.EchoProtocol);
        var ping = await fixture.RunJsAsync("ping", new { addr = fixture.HostAddress.ToString(), count = 2 });
        Assert.Equal(2, ping["rtts"]!.AsArray().Count);
        var echo = await fixture.RunJsAsync("echo", new { addr = fixture.HostAddress.ToString(), size = 1024 * 1024, streams = 4 });
        Assert.True(echo["ok"]!.GetValue<bool>(), echo.ToJsonString());
        var inbound = Assert.Single(fixture.Host.Connections, c => c.IsInbound && c.RemotePeer.Equals(InteropFixture.ExpectedJsPeerId));
        Assert.Equal("/yamux/1.0.0", inbound.Muxer);
        Assert.NotEmpty(fixture.MuxerNegotiations(inbound: true));
        Assert.All(fixture.MuxerNegotiations(inbound: true), how => Assert.Equal("chosen in the Noise handshake", how));
    }
}
