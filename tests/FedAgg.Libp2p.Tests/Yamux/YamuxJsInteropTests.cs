using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Processes;

namespace FedAgg.Libp2p.Tests.Yamux;

/// <summary>Our session against @chainsafe/libp2p-yamux over a loopback TCP socket (no Noise: yamux alone).</summary>
public class YamuxJsInteropTests
{
    private const int JsBytes = 3 * 1024 * 1024;

    // js dials (so it is the yamux client, odd ids), opens a stream, sends 3 MiB, half-closes and expects the echo;
    // it echoes the stream we open, pings, then closes the muxer (go-away) and the socket.
    private const string Script = """
        import fs from 'node:fs';
        import net from 'node:net';
        import crypto from 'node:crypto';
        import { once } from 'node:events';
        import { toMultiaddrConnection } from './node_modules/@libp2p/tcp/dist/src/socket-to-conn.js';
        import { yamux } from '@chainsafe/libp2p-yamux';
        import { defaultLogger } from '@libp2p/logger';

        // Node 20 lacks Promise.withResolvers, which js-libp2p's streams and yamux's ping use.
        Promise.withResolvers ??= function () {
          let resolve, reject;
          const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
          return { promise, resolve, reject };
        };
        const port = Number(fs.readFileSync(0, 'utf8').trim());
        const socket = net.connect(port, '127.0.0.1');
        await once(socket, 'connect');
        const log = defaultLogger().forComponent('yamux-interop');
        const maConn = toMultiaddrConnection({ socket, direction: 'outbound', log });
        const muxer = yamux()().createStreamMuxer(maConn);

        async function sendAll(stream, bytes) {
          for (let o = 0; o < bytes.length; o += 100000) {
            if (!stream.send(bytes.subarray(o, Math.min(o + 100000, bytes.length)))) {
              await stream.onDrain();
            }
          }
        }
        async function readAll(stream) {
          const parts = [];
          for await (const chunk of stream) parts.push(chunk.subarray());
          return Buffer.concat(parts);
        }

        const echoes = [];
        muxer.addEventListener('stream', (evt) => {
          const stream = evt.detail;
          echoes.push((async () => {
            const data = await readAll(stream);
            await sendAll(stream, data);
            await stream.close();
            return crypto.createHash('sha256').update(data).digest('hex');
          })());
        });

        const out = await muxer.createStream();
        const big = Buffer.alloc(3 * 1024 * 1024);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
        const back = readAll(out);
        await sendAll(out, big);
        await out.close();
        const echoed = await back;
        const rtt = await muxer.ping();
        for (let i = 0; i < 2000 && echoes.length === 0; i++) await new Promise(r => setTimeout(r, 5));
        const inbound = await Promise.all(echoes);
        process.stdout.write(JSON.stringify({
          outboundId: out.streamId,
          echoOk: Buffer.compare(echoed, big) === 0,
          echoedLength: echoed.length,
          inbound,
          rttIsNumber: typeof rtt === 'number',
        }));
        await muxer.close();
        await maConn.close();
        """;

    [Fact]
    [Trait("Category", "Interop")]
    public async Task Session_AgainstJsLibp2pYamux_EchoesBothWaysAndEndsOnGoAway()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var node = NodeRunner.RunModuleAsync(Script, port.ToString(CultureInfo.InvariantCulture));
        using var socket = await listener.AcceptSocketAsync(Timeouts.Token());
        var network = new NetworkStream(socket, ownsSocket: false);
        var connection = new SocketDuplex(PipeReader.Create(network), PipeWriter.Create(network));
        await using var session = new YamuxSession(connection, isClient: false, new YamuxOptions { KeepAliveInterval = null });
        session.Start();

        // Echo js's stream.
        var inbound = await session.AcceptStreamAsync(Timeouts.Token()).Within("js opening a stream");
        var echo = Task.Run(async () =>
        {
            var received = await StreamIo.ReadAllAsync(inbound!.Input);
            await StreamIo.WriteAllAsync(inbound.Output, received);
            return received;
        });

        // js echoes ours.
        var ours = await session.OpenStreamAsync(Timeouts.Token());
        var data = StreamIo.Pattern(2 * 1024 * 1024 + 17, 99);
        var write = StreamIo.WriteAllAsync(ours.Output, data, chunk: 50_000);

        // Ping while js is certainly alive: it exits (GoAway) once both echoes are done.
        var rtt = await session.PingAsync(Timeouts.Token()).Within("js answering our ping");
        byte[] back;
        try
        {
            back = await StreamIo.ReadAllAsync(ours.Input).Within("js echoing our stream");
        }
        catch (Libp2pException error)
        {
            // Say what node said (it most likely failed first).
            var said = await Record.ExceptionAsync(() => node.WaitAsync(Timeouts.Default));
            throw new InvalidOperationException($"our stream failed ({error.Message}); node: {said?.Message ?? await node}", error);
        }

        await write;

        var fromJs = await echo.Within("echo of js's stream");
        using var report = JsonDocument.Parse(await node.Within("node finishing"));
        var end = await session.Completion.Within("session end after js closed");

        Assert.Equal(1u, inbound!.Id);
        Assert.Equal(2u, ours.Id);
        Assert.Equal(JsBytes, fromJs.Length);
        Assert.Equal(data, back);
        Assert.InRange(rtt, TimeSpan.Zero, Timeouts.Default);
        var root = report.RootElement;
        Assert.Equal(1, root.GetProperty("outboundId").GetInt32());
        Assert.True(root.GetProperty("echoOk").GetBoolean(), "js got back a different byte stream than it sent");
        Assert.Equal(JsBytes, root.GetProperty("echoedLength").GetInt32());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant(), root.GetProperty("inbound")[0].GetString());
        Assert.True(root.GetProperty("rttIsNumber").GetBoolean());
        Assert.Contains(end.Reason, new[] { YamuxSessionEndReason.RemoteGoAway, YamuxSessionEndReason.TransportClosed });
    }

    private sealed class SocketDuplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
