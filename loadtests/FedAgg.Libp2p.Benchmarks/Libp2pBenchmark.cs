using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FedAgg.Core.Identity;
using FedAgg.TestKit.Libp2p;

namespace FedAgg.Libp2p.Benchmarks;

/// <summary>Runs every case and prints one Markdown table; see <see cref="Program.Usage"/>.</summary>
internal sealed class Libp2pBenchmark(BenchOptions options)
{
    public const string BulkProtocol = "/fedagg/bench/bulk/1.0.0";
    public const string MessagesProtocol = "/fedagg/bench/messages/1.0.0";

    private const double Mega = 1e6;
    private const int NoiseFramePlaintext = 65535 - 16;

    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(120);

    private readonly List<Row> _rows = [];
    private int _handshakes;

    public async Task<int> RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var token = timeout.Token;
        using var keyA = Ed25519PrivateKey.Generate();
        using var keyB = Ed25519PrivateKey.Generate();
        await using var hostA = CreateHost(keyA);
        await using var hostB = CreateHost(keyB);
        await hostA.StartAsync(token);
        await hostB.StartAsync(token);
        var addressB = Multiaddress.Parse($"{hostB.ListenAddresses[0]}/p2p/{hostB.LocalPeerId}");
        var connection = await hostA.DialAsync(addressB, token);
        await connection.Identify.WaitAsync(CaseTimeout, token);

        await using var bulkServer = new RawTcpServer(Workloads.ReceiveBulkAsync);
        await using var messageServer = new RawTcpServer(Workloads.ReceiveMessagesRawAsync);
        await using var pingServer = new RawTcpServer(Workloads.ServePingsAsync);
        await using var acceptServer = new RawTcpServer(static async (pipe, ct) =>
        {
            pipe.Output.GetSpan(1)[0] = 1;
            pipe.Output.Advance(1);
            await pipe.Output.FlushAsync(ct);
            while (true)
            {
                var result = await pipe.Input.ReadAsync(ct);
                pipe.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        });

        // Warm-up: JIT tiers, pools and socket buffers, outside every figure.
        await RepeatAsync(2, () => Libp2pBulkAsync(connection, 4 << 20, 1, token));
        await RepeatAsync(2, () => TcpBulkAsync(bulkServer, 4 << 20, 1, token));

        if (options.Has("crypto") || options.Has("single") || options.Has("concurrent"))
        {
            var crypto = await RepeatAsync(options.Runs, () => Task.FromResult(ChaChaRate(options.SingleStreamBytes)));
            Add("ChaCha20-Poly1305 encrypt+decrypt, 1 thread, 65519-byte frames", "MB/s", crypto);
        }

        if (options.Has("single"))
        {
            var bytes = options.SingleStreamBytes;
            var cost = Cost.Start();
            var libp2p = await RepeatAsync(options.Runs, () => Libp2pBulkAsync(connection, bytes, 1, token));
            var libp2pCost = cost.PerMb((double)bytes * options.Runs);
            cost = Cost.Start();
            var tcp = await RepeatAsync(options.Runs, () => TcpBulkAsync(bulkServer, bytes, 1, token));
            var tcpCost = cost.PerMb((double)bytes * options.Runs);
            Add($"single stream, {bytes >> 20} MiB one way", "MB/s", libp2p, ("raw TCP + Pipelines", tcp), ("ChaCha20-Poly1305 enc+dec", Find("ChaCha20")));
            Add("single stream: process CPU per MB (both ends)", "ms/MB", [libp2pCost.CpuMs], ("raw TCP + Pipelines", [tcpCost.CpuMs]), ("ChaCha20-Poly1305 enc+dec", Find("ChaCha20").Select(static r => 1000 / r).ToList()));
            Note($"single stream: {libp2pCost.AllocatedKiB:0.0} KiB allocated per MB moved (both hosts; raw TCP {tcpCost.AllocatedKiB:0.0} KiB)");
        }

        if (options.Has("concurrent"))
        {
            var streams = options.ConcurrentStreams;
            var each = options.ConcurrentStreamBytes;
            var cost = Cost.Start();
            var libp2p = await RepeatAsync(options.Runs, () => Libp2pBulkAsync(connection, each, streams, token));
            var libp2pCost = cost.PerMb((double)each * streams * options.Runs);
            cost = Cost.Start();
            var tcp = await RepeatAsync(options.Runs, () => TcpBulkAsync(bulkServer, each, streams, token));
            var tcpCost = cost.PerMb((double)each * streams * options.Runs);
            Add($"{streams} concurrent streams × {each >> 20} MiB (one connection; TCP: {streams} connections)", "MB/s", libp2p,
                ("raw TCP + Pipelines", tcp), ("ChaCha20-Poly1305 enc+dec", Find("ChaCha20")));
            Add("concurrent streams: process CPU per MB (both ends)", "ms/MB", [libp2pCost.CpuMs], ("raw TCP + Pipelines", [tcpCost.CpuMs]));
            Note($"concurrent streams: {libp2pCost.AllocatedKiB:0.0} KiB allocated per MB moved (both hosts; raw TCP {tcpCost.AllocatedKiB:0.0} KiB)");
        }

        if (options.Has("messages"))
        {
            var message = RandomNumberGenerator.GetBytes(options.MessageBytes);
            var libp2p = await RepeatAsync(options.Runs, () => Libp2pMessagesAsync(connection, message, options.MessageCount, token));
            var tcp = await RepeatAsync(options.Runs, () => TcpMessagesAsync(messageServer, message, options.MessageCount, token));
            Add($"{options.MessageBytes >> 20} MiB length-prefixed messages, one stream ({options.MessageCount} per run)", "msg/s", libp2p, ("raw TCP + Pipelines", tcp));
        }

        if (options.Has("handshakes"))
        {
            var address = hostB.ListenAddresses[0];
            // Warm-up: the handshake path's JIT tiers (BouncyCastle's field arithmetic above all) settle after a few hundred.
            await HandshakeRateAsync(hostA, hostB, address, TimeSpan.FromSeconds(options.Quick ? 1 : 2), token);
            var cost = Cost.Start();
            var before = _handshakes;
            var libp2p = await RepeatAsync(options.Runs, () => HandshakeRateAsync(hostA, hostB, address, options.HandshakeDuration, token));
            var libp2pCost = cost.PerMb((_handshakes - before) * Mega);
            var tcp = await RepeatAsync(options.Runs, () => TcpConnectRateAsync(acceptServer, token));
            Add($"handshakes (dial+Noise+Yamux+identify+close), {options.Dialers} dialers", "conn/s", libp2p, ("TCP connect+accept+close", tcp));
            Add("handshakes: process CPU per connection (both ends)", "ms", [libp2pCost.CpuMs]);
        }

        if (options.Has("ping"))
        {
            var libp2p = await Libp2pPingsAsync(connection, options.Pings, token);
            await using var raw = await pingServer.ConnectAsync(token);
            var tcp = await PingsAsync(raw, options.Pings, token);
            Add("ping RTT p50 (32 bytes on an open stream)", "µs", [Percentile(libp2p, 0.5)], ("raw TCP + Pipelines", [Percentile(tcp, 0.5)]));
            Add("ping RTT p99", "µs", [Percentile(libp2p, 0.99)], ("raw TCP + Pipelines", [Percentile(tcp, 0.99)]));
            var perStream = new List<double>();
            for (var i = 0; i < Math.Min(200, options.Pings); i++)
            {
                perStream.Add((await connection.PingAsync(token)).TotalMicroseconds);
            }

            perStream.Sort();
            Add("Libp2pConnection.PingAsync p50 (new stream + multistream-select + ping)", "µs", [Percentile(perStream, 0.5)]);
        }

        if (options.Has("echo"))
        {
            await EchoRowsAsync(hostA, connection, token);
        }

        await connection.CloseAsync();
        Print();
        return 0;
    }

    private Libp2pHost CreateHost(Ed25519PrivateKey key)
    {
        var hostOptions = new Libp2pHostOptions
        {
            YamuxInitialWindowBytes = options.WindowBytes,
            MaxConnections = 8192,
            MaxConnectionsPerIp = 8192,
            HandshakeTimeout = TimeSpan.FromSeconds(30),
        };
        hostOptions.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
        hostOptions.MaxMessageBytesPerProtocol[JsPeer.EchoProtocol] = 64 << 20;
        var host = new Libp2pHost(key, hostOptions);
        host.RegisterProtocol(BulkProtocol, static (stream, ct) => Workloads.ReceiveBulkAsync(stream, ct));
        host.RegisterProtocol(MessagesProtocol, static async (stream, ct) =>
        {
            long count = 0;
            while (await stream.ReadMessageAsync(ct) is not null)
            {
                count++;
            }

            await Workloads.WriteInt64Async(stream.Output, count, ct);
        });
        host.RegisterProtocol(JsPeer.EchoProtocol, static async (stream, ct) =>
        {
            while (await stream.ReadMessageAsync(ct) is { } message)
            {
                await stream.WriteMessageAsync(message, ct);
            }
        });
        return host;
    }

    private static async Task<double> Libp2pBulkAsync(Libp2pConnection connection, long bytesPerStream, int streams, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[streams];
        for (var i = 0; i < streams; i++)
        {
            tasks[i] = Task.Run(
                async () =>
                {
                    await using var stream = await connection.OpenStreamAsync(BulkProtocol, token);
                    await Workloads.SendBulkAsync(stream, bytesPerStream, token);
                },
                token);
        }

        await Task.WhenAll(tasks).WaitAsync(CaseTimeout, token);
        return bytesPerStream * streams / Mega / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<double> TcpBulkAsync(RawTcpServer server, long bytesPerStream, int streams, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[streams];
        for (var i = 0; i < streams; i++)
        {
            tasks[i] = Task.Run(
                async () =>
                {
                    await using var pipe = await server.ConnectAsync(token);
                    await Workloads.SendBulkAsync(pipe, bytesPerStream, token);
                },
                token);
        }

        await Task.WhenAll(tasks).WaitAsync(CaseTimeout, token);
        return bytesPerStream * streams / Mega / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<double> Libp2pMessagesAsync(Libp2pConnection connection, byte[] message, int count, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        await using var stream = await connection.OpenStreamAsync(MessagesProtocol, token);
        for (var i = 0; i < count; i++)
        {
            await stream.WriteMessageAsync(message, token);
        }

        await stream.CompleteWritesAsync();
        var received = await Workloads.ReadInt64Async(stream.Input, token).WaitAsync(CaseTimeout, token);
        if (received != count)
        {
            throw new InvalidOperationException($"the receiver counted {received} messages, not {count}");
        }

        return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<double> TcpMessagesAsync(RawTcpServer server, byte[] message, int count, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        await using var pipe = await server.ConnectAsync(token);
        await Workloads.SendMessagesRawAsync(pipe, message, count, token).WaitAsync(CaseTimeout, token);
        return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private async Task<double> HandshakeRateAsync(Libp2pHost dialer, Libp2pHost listener, Multiaddress address, TimeSpan duration, CancellationToken token)
    {
        var baseline = listener.Connections.Count;
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var completed = 0;
        var started = Stopwatch.GetTimestamp();
        var dialers = Enumerable.Range(0, options.Dialers).Select(_ => Task.Run(
            async () =>
            {
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    var connection = await dialer.DialAsync(address, token);
                    await connection.Identify.WaitAsync(CaseTimeout, token);
                    await connection.CloseAsync();
                    Interlocked.Increment(ref completed);
                    Interlocked.Increment(ref _handshakes);
                }
            },
            token)).ToArray();
        await Task.WhenAll(dialers).WaitAsync(CaseTimeout, token);
        var rate = completed / Stopwatch.GetElapsedTime(started).TotalSeconds;

        // The listener closes its ends as the go-aways arrive; let it settle before the next figure.
        var settle = Stopwatch.GetTimestamp();
        while (listener.Connections.Count > baseline && Stopwatch.GetElapsedTime(settle) < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10, token);
        }

        return rate;
    }

    private async Task<double> TcpConnectRateAsync(RawTcpServer server, CancellationToken token)
    {
        var duration = TimeSpan.FromSeconds(Math.Min(1, options.HandshakeDuration.TotalSeconds));
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var completed = 0;
        var started = Stopwatch.GetTimestamp();
        var dialers = Enumerable.Range(0, options.Dialers).Select(_ => Task.Run(
            async () =>
            {
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    await using var pipe = await server.ConnectAsync(token);
                    var result = await pipe.Input.ReadAtLeastAsync(1, token);
                    pipe.Input.AdvanceTo(result.Buffer.End);
                    Interlocked.Increment(ref completed);
                }
            },
            token)).ToArray();
        await Task.WhenAll(dialers).WaitAsync(CaseTimeout, token);
        return completed / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<List<double>> Libp2pPingsAsync(Libp2pConnection connection, int count, CancellationToken token)
    {
        await using var stream = await connection.OpenStreamAsync("/ipfs/ping/1.0.0", token);
        var rtts = await PingsAsync(stream, count, token);
        await stream.CompleteWritesAsync();
        return rtts;
    }

    private static async Task<List<double>> PingsAsync(System.IO.Pipelines.IDuplexPipe pipe, int count, CancellationToken token)
    {
        for (var i = 0; i < 50; i++)
        {
            await Workloads.PingOnceAsync(pipe, token);
        }

        var rtts = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            rtts.Add(await Workloads.PingOnceAsync(pipe, token));
        }

        rtts.Sort();
        return rtts;
    }

    private static double ChaChaRate(int bytes)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var sender = new ChaCha20Poly1305(key);
        using var receiver = new ChaCha20Poly1305(key);
        var plaintext = Workloads.CreatePattern().AsSpan(0, NoiseFramePlaintext).ToArray();
        var ciphertext = new byte[NoiseFramePlaintext];
        var decrypted = new byte[NoiseFramePlaintext];
        var tag = new byte[16];
        Span<byte> nonce = stackalloc byte[12];
        var started = Stopwatch.GetTimestamp();
        ulong counter = 0;
        for (long done = 0; done < bytes; done += NoiseFramePlaintext)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter++);
            sender.Encrypt(nonce, plaintext, ciphertext, tag);
            receiver.Decrypt(nonce, ciphertext, tag, decrypted);
        }

        return (double)bytes / Mega / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private async Task EchoRowsAsync(Libp2pHost hostA, Libp2pConnection connection, CancellationToken token)
    {
        const int size = 16 << 20;
        var data = RandomNumberGenerator.GetBytes(size);
        var csharp = await RepeatAsync(options.Runs, () => CSharpEchoAsync(connection, data, token));
        if (!options.Js)
        {
            Add("16 MiB echo (one message there and back), C#↔C#", "ms", csharp);
            return;
        }

        await using var jsA = await JsPeer.StartAsync();
        await using var jsB = await JsPeer.StartAsync();
        var js = await RepeatAsync(options.Runs, () => JsEchoAsync(jsA, jsB.Address, size));
        var csharpAddress = $"{connection.RemoteAddress}/p2p/{connection.RemotePeer}";
        var jsToCSharp = await RepeatAsync(options.Runs, () => JsEchoAsync(jsA, csharpAddress, size));
        var toJs = await hostA.DialAsync(Multiaddress.Parse(jsB.Address), token);
        await CSharpEchoAsync(toJs, data.AsMemory(0, 1024), token);
        var csharpToJs = await RepeatAsync(options.Runs, () => CSharpEchoAsync(toJs, data, token));
        await toJs.CloseAsync();
        Add("16 MiB echo (one message there and back), C#↔C#", "ms", csharp, ("js↔js", js));
        Add("16 MiB echo, js dials C#", "ms", jsToCSharp, ("js↔js", js));
        Add("16 MiB echo, C# dials js", "ms", csharpToJs, ("js↔js", js));
    }

    private static async Task<double> CSharpEchoAsync(Libp2pConnection connection, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        await using var stream = await connection.OpenStreamAsync(JsPeer.EchoProtocol, token);
        stream.MaxMessageBytes = Math.Max(stream.MaxMessageBytes, data.Length);
        await stream.WriteMessageAsync(data, token);
        await stream.CompleteWritesAsync();
        var echoed = await stream.ReadMessageAsync(token).AsTask().WaitAsync(CaseTimeout, token);
        var end = await stream.ReadMessageAsync(token);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (echoed is not { } e || !e.Span.SequenceEqual(data.Span) || end is not null)
        {
            throw new InvalidOperationException("the echo differs from what was sent");
        }

        return elapsed;
    }

    private static async Task<double> JsEchoAsync(JsPeer peer, string address, int size)
    {
        await peer.RunAsync("echo", new { addr = address, size = 1024, streams = 1 });
        var answer = await peer.RunAsync("echo", new { addr = address, size, streams = 1 }, CaseTimeout);
        return answer["ms"]!.GetValue<double>();
    }

    private static async Task<List<double>> RepeatAsync(int runs, Func<Task<double>> run)
    {
        var values = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            values.Add(await run());
        }

        return values;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private List<double> Find(string prefix) =>
        _rows.FirstOrDefault(r => r.Figure.StartsWith(prefix, StringComparison.Ordinal))?.Values ?? [];

    private void Add(string figure, string unit, List<double> values, params (string Name, List<double> Values)[] baselines) =>
        _rows.Add(new Row(figure, unit, values, baselines));

    private void Note(string text) => _rows.Add(new Row(text, string.Empty, [], []));

    private void Print()
    {
        Console.WriteLine("| figure | unit | libp2p | baseline | baseline figure | libp2p ÷ baseline |");
        Console.WriteLine("| --- | --- | ---: | --- | ---: | ---: |");
        foreach (var row in _rows.Where(r => r.Values.Count > 0))
        {
            if (row.Baselines.Length == 0)
            {
                Console.WriteLine($"| {row.Figure} | {row.Unit} | {Format(row.Values)} | | | |");
                continue;
            }

            for (var i = 0; i < row.Baselines.Length; i++)
            {
                var (name, values) = row.Baselines[i];
                var ratio = values.Count > 0 ? (Median(row.Values) / Median(values)).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
                Console.WriteLine(i == 0
                    ? $"| {row.Figure} | {row.Unit} | {Format(row.Values)} | {name} | {Format(values)} | {ratio} |"
                    : $"| ″ | | | {name} | {Format(values)} | {ratio} |");
            }
        }

        Console.WriteLine();
        foreach (var row in _rows.Where(r => r.Values.Count == 0))
        {
            Console.WriteLine($"- {row.Figure}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Format(List<double> values)
    {
        if (values.Count == 0)
        {
            return "n/a";
        }

        var median = Median(values).ToString(values.Max() >= 100 ? "N0" : values.Max() >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        return values.Count == 1 ? median : $"{median} [{values.Min().ToString("N0", CultureInfo.InvariantCulture)}–{values.Max().ToString("N0", CultureInfo.InvariantCulture)}]";
    }

    /// <summary>Process CPU time and allocations over a stretch of work.</summary>
    private readonly record struct Cost(TimeSpan Cpu, long Allocated)
    {
        public static Cost Start() => new(Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes());

        /// <summary>CPU milliseconds and KiB allocated per MB of <paramref name="bytes"/> (or per unit, given units × 10^6).</summary>
        public (double CpuMs, double AllocatedKiB) PerMb(double bytes)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - Cpu;
            var megabytes = bytes / Mega;
            return (cpu.TotalMilliseconds / megabytes, (GC.GetTotalAllocatedBytes() - Allocated) / 1024.0 / megabytes);
        }
    }

    private sealed record Row(string Figure, string Unit, List<double> Values, (string Name, List<double> Values)[] Baselines);
}
