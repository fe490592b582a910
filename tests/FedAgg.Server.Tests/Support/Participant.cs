using System.Buffers;
using System.Security.Cryptography;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;

namespace FedAgg.Server.Tests.Support;

/// <summary>What a participant got back from the server: the receipt and its exact bytes.</summary>
public sealed record SubmitResult(SubmitReceipt Receipt, byte[] Raw);

/// <summary>
/// A C# participant: its own libp2p host (dial only) with an Ed25519 identity, connected to the server; builds signed
/// updates per PROTOCOL.md and speaks /fedagg/submit/1.0.0 and /fedagg/model/1.0.0.
/// </summary>
public sealed class Participant : IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly Libp2pConnection _connection;

    private Participant(Ed25519PrivateKey key, Libp2pHost host, Libp2pConnection connection)
    {
        Key = key;
        _host = host;
        _connection = connection;
    }

    public Ed25519PrivateKey Key { get; }

    public PeerId PeerId => Key.PeerId;

    public static async Task<Participant> ConnectAsync(Multiaddress server, Ed25519PrivateKey? key = null)
    {
        key ??= Ed25519PrivateKey.Generate();
        var host = new Libp2pHost(key, new Libp2pHostOptions());
        try
        {
            var connection = await host.DialAsync(server, CancellationToken.None).WaitAsync(TestServer.Timeout);
            return new Participant(key, host, connection);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>A random payload of <paramref name="elements"/> float32 values (distinct for every call).</summary>
    public static byte[] RandomPayload(int elements)
    {
        var floats = new float[elements];
        var bytes = RandomNumberGenerator.GetBytes(elements * 4);
        for (var i = 0; i < elements; i++)
        {
            floats[i] = (BitConverter.ToInt32(bytes, i * 4) % 1000) / 1000f;
        }

        var payload = new byte[elements * 4];
        Buffer.BlockCopy(floats, 0, payload, 0, payload.Length);
        return payload;
    }

    /// <summary>A preimage for this participant's update of <paramref name="payload"/> to round <paramref name="round"/>.</summary>
    public static UpdatePreimage Preimage(string taskId, ulong round, string baseModelHash, byte[] payload, PayloadCodec codec = PayloadCodec.Float32) => new()
    {
        ChainId = 0,
        Ledger = new byte[20],
        TaskId = taskId,
        Round = round,
        BaseModelHash = Hex.TryDecode(baseModelHash, 32)!,
        Codec = codec,
        NumElements = (ulong)(payload.Length / codec.ElementSize()),
        PayloadSha256 = SHA256.HashData(payload),
        NumSamples = 10,
        Nonce = RandomNumberGenerator.GetBytes(16),
        ExpiresUnixMs = (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(),
    };

    public SubmitRequest Sign(UpdatePreimage preimage) => SubmitRequest.Create(preimage, Key);

    /// <summary>Sends <paramref name="frame"/> (the header, as given) then <paramref name="payload"/>, and reads the receipt.</summary>
    public async Task<SubmitResult> SubmitRawAsync(byte[] frame, ReadOnlyMemory<byte> payload)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var stream = await _connection.OpenStreamAsync("/fedagg/submit/1.0.0", timeout.Token);
        await using (stream)
        {
            // The payload is written beside the read: the server may answer early and stop reading.
            var writing = Task.Run(async () =>
            {
                try
                {
                    await stream.WriteMessageAsync(frame, timeout.Token);
                    for (var offset = 0; offset < payload.Length; offset += 64 * 1024)
                    {
                        stream.Output.Write(payload.Span.Slice(offset, Math.Min(64 * 1024, payload.Length - offset)));
                        var flush = await stream.Output.FlushAsync(timeout.Token);
                        if (flush.IsCompleted)
                        {
                            return;
                        }
                    }

                    await stream.CompleteWritesAsync();
                }
                catch (Exception e) when (e is Libp2pException or InvalidOperationException or OperationCanceledException)
                {
                    // The server answered and closed before taking everything; the receipt says why.
                }
            });
            var raw = await stream.ReadMessageAsync(timeout.Token) ?? throw new InvalidOperationException("The server closed the stream without a receipt.");
            if (!writing.IsCompleted)
            {
                // Answered before the whole payload: the server stopped reading (docs/PROTOCOL.md); stop as a client must.
                stream.Reset();
            }

            await writing.WaitAsync(TestServer.Timeout);
            Assert.True(SubmitReceipt.TryDecode(raw.Span, out var receipt, out var error), error);
            return new SubmitResult(receipt, raw.ToArray());
        }
    }

    public Task<SubmitResult> SubmitAsync(SubmitRequest request, ReadOnlyMemory<byte> payload) => SubmitRawAsync(request.Encode(), payload);

    /// <summary>Signs and submits a fresh random update to <paramref name="round"/> from <paramref name="baseModelHash"/>.</summary>
    public async Task<(SubmitResult Result, SubmitRequest Request, byte[] Payload)> SubmitRandomAsync(string taskId, ulong round, string baseModelHash, int elements)
    {
        var payload = RandomPayload(elements);
        var request = Sign(Preimage(taskId, round, baseModelHash, payload));
        return (await SubmitAsync(request, payload), request, payload);
    }

    /// <summary>Fetches a model: the response and the payload bytes after it.</summary>
    public async Task<(ModelResponse Response, byte[] Payload)> FetchModelAsync(string taskId, ReadOnlyMemory<byte> modelHash = default)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var stream = await _connection.OpenStreamAsync("/fedagg/model/1.0.0", timeout.Token);
        await using (stream)
        {
            await stream.WriteMessageAsync(new ModelRequest(taskId, modelHash).Encode(), timeout.Token);
            await stream.CompleteWritesAsync();
            var raw = await stream.ReadMessageAsync(timeout.Token) ?? throw new InvalidOperationException("No model response.");
            Assert.True(ModelResponse.TryDecode(raw.Span, out var response, out var error), error);
            var payload = new ArrayBufferWriter<byte>();
            while (true)
            {
                var read = await stream.Input.ReadAsync(timeout.Token);
                foreach (var segment in read.Buffer)
                {
                    payload.Write(segment.Span);
                }

                stream.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            return (response, payload.WrittenSpan.ToArray());
        }
    }

    public Task<TimeSpan> PingAsync() => _connection.PingAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Key.Dispose();
    }
}
