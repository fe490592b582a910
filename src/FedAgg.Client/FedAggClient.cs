using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;

namespace FedAgg.Client;

/// <summary>What a participant got back for a submission: the receipt and its exact bytes.</summary>
/// <param name="Receipt">The decoded receipt.</param>
/// <param name="Raw">The receipt's bytes as received (kept by participants as proof).</param>
/// <param name="UpdateId">The update's id (SHA-256 of the preimage).</param>
public sealed record SubmitOutcome(SubmitReceipt Receipt, byte[] Raw, byte[] UpdateId);

/// <summary>A model fetched from the server, checked against its hash.</summary>
/// <param name="Response">The server's response header.</param>
/// <param name="Payload">The payload bytes (little-endian elements of the response's codec).</param>
public sealed record ModelDownload(ModelResponse Response, byte[] Payload)
{
    /// <summary>The payload as float32 (codec float32 only).</summary>
    /// <returns>A copy of the values.</returns>
    /// <exception cref="InvalidOperationException">The codec is not float32.</exception>
    public float[] ToFloats() => Response.Codec == PayloadCodec.Float32
        ? MemoryMarshal.Cast<byte, float>(Payload).ToArray()
        : throw new InvalidOperationException($"The model's codec is {Response.Codec}, not float32.");
}

/// <summary>A published round fetched from the server.</summary>
/// <param name="Response">The server's response header.</param>
/// <param name="ManifestJson">The manifest's bytes (status 0), exactly as served.</param>
/// <param name="Manifest">The parsed manifest (status 0).</param>
public sealed record RoundDownload(RoundResponse Response, byte[] ManifestJson, RoundManifest? Manifest);

/// <summary>Options of a <see cref="FedAggClient"/>.</summary>
public sealed class FedAggClientOptions
{
    /// <summary>How long one request may take (dial, send, answer); default 60 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest model accepted from the server (default 4 GiB).</summary>
    public long MaxModelBytes { get; set; } = 4L << 30;

    /// <summary>The libp2p host's options (dial only); defaults when null.</summary>
    public Libp2pHostOptions? HostOptions { get; set; }
}

/// <summary>
/// A FedAgg participant's (or coordinator's) connection to a server: its own libp2p host with an Ed25519 identity,
/// dialled to the server, speaking every FedAgg protocol (docs/PROTOCOL.md). Every answer is checked: the model's bytes
/// against its hash, receipts against the server's key and the dialled peer id, manifests against the strict parser.
/// One client serves concurrent calls (each opens its own stream).
/// </summary>
public sealed class FedAggClient : IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly Libp2pConnection _connection;
    private readonly FedAggClientOptions _options;

    private FedAggClient(Ed25519PrivateKey key, Libp2pHost host, Libp2pConnection connection, FedAggClientOptions options)
    {
        Key = key;
        _host = host;
        _connection = connection;
        _options = options;
    }

    /// <summary>This client's key (used, not owned).</summary>
    public Ed25519PrivateKey Key { get; }

    /// <summary>This client's peer id.</summary>
    public PeerId PeerId => Key.PeerId;

    /// <summary>The server's authenticated peer id.</summary>
    public PeerId ServerPeerId => _connection.RemotePeer;

    /// <summary>The connection to the server.</summary>
    public Libp2pConnection Connection => _connection;

    /// <summary>Dials <paramref name="server"/> (which should carry <c>/p2p/&lt;id&gt;</c>, checked by the handshake).</summary>
    /// <param name="server">The server's multiaddress.</param>
    /// <param name="key">This client's identity (not disposed by the client).</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="Libp2pException">The dial or handshake failed.</exception>
    public static async Task<FedAggClient> ConnectAsync(Multiaddress server, Ed25519PrivateKey key, FedAggClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(key);
        options ??= new FedAggClientOptions();
        var host = new Libp2pHost(key, options.HostOptions ?? new Libp2pHostOptions());
        try
        {
            using var timeout = Timeout(options, cancellationToken);
            var connection = await host.DialAsync(server, timeout.Token).ConfigureAwait(false);
            return new FedAggClient(key, host, connection, options);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Fetches a model of <paramref name="taskId"/> (the current one when <paramref name="modelHash"/> is empty).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="modelHash">The model wanted, or empty.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The model; <see cref="ModelDownload.Payload"/> is empty unless the status is 0.</returns>
    /// <exception cref="FedAggProtocolException">The answer is malformed, too large, or its bytes do not hash to its model hash.</exception>
    public async Task<ModelDownload> FetchModelAsync(string taskId, ReadOnlyMemory<byte> modelHash = default, CancellationToken cancellationToken = default)
    {
        using var timeout = Timeout(_options, cancellationToken);
        var stream = await _connection.OpenStreamAsync("/fedagg/model/1.0.0", timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteMessageAsync(new ModelRequest(taskId, modelHash).Encode(), timeout.Token).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
            stream.MaxMessageBytes = TaskSettings.MaxJsonBytes; // the response carries the tensor manifest
            var raw = await stream.ReadMessageAsync(timeout.Token).ConfigureAwait(false) ?? throw new FedAggProtocolException("The server closed the model stream without a response.");
            if (!ModelResponse.TryDecode(raw.Span, out var response, out var error))
            {
                throw new FedAggProtocolException($"The server's ModelResponse is malformed: {error}");
            }

            if (response.Status != ModelStatus.Ok)
            {
                return new ModelDownload(response, []);
            }

            var length = checked((long)response.NumElements * response.Codec.ElementSize());
            if (length > _options.MaxModelBytes || length > Array.MaxLength)
            {
                throw new FedAggProtocolException($"The server announced a {length}-byte model, over this client's limit of {_options.MaxModelBytes}.");
            }

            var payload = new byte[length];
            var read = await ReadExactlyAsync(stream, payload, timeout.Token).ConfigureAwait(false);
            if (read != length)
            {
                throw new FedAggProtocolException($"The model stream ended after {read} of {length} bytes.");
            }

            if (response.Codec == PayloadCodec.Float32 && !SHA256.HashData(payload).AsSpan().SequenceEqual(response.ModelHash.Span))
            {
                throw new FedAggProtocolException($"The model's bytes do not hash to its model hash {Hex.Encode(response.ModelHash.Span)}.");
            }

            return new ModelDownload(response, payload);
        }
    }

    /// <summary>
    /// Builds, signs and submits an update of <paramref name="delta"/> (float32) against the model
    /// <paramref name="baseModel"/> to the round the server has open.
    /// </summary>
    /// <param name="taskId">The task.</param>
    /// <param name="baseModel">The model the update was computed from (its response names the chain, ledger and open round).</param>
    /// <param name="delta">The update, <c>local − base</c>.</param>
    /// <param name="numSamples">Informational: how many samples trained it.</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    /// <returns>The receipt.</returns>
    public Task<SubmitOutcome> SubmitUpdateAsync(string taskId, ModelResponse baseModel, ReadOnlySpan<float> delta, ulong numSamples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        var payload = MemoryMarshal.AsBytes(delta).ToArray();
        var preimage = new UpdatePreimage
        {
            ChainId = baseModel.ChainId,
            Ledger = baseModel.Ledger.Length == 20 ? baseModel.Ledger : new byte[20],
            TaskId = taskId,
            Round = baseModel.OpenRound,
            BaseModelHash = baseModel.ModelHash,
            Codec = PayloadCodec.Float32,
            NumElements = (ulong)delta.Length,
            PayloadSha256 = SHA256.HashData(payload),
            NumSamples = numSamples,
            Nonce = RandomNumberGenerator.GetBytes(16),
            ExpiresUnixMs = (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(),
        };
        return SubmitAsync(SubmitRequest.Create(preimage, Key), payload, cancellationToken);
    }

    /// <summary>Submits a signed request and its payload; checks an accepting receipt's signature, server key and update id.</summary>
    /// <param name="request">The signed request.</param>
    /// <param name="payload">The payload bytes.</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    /// <returns>The receipt (any status).</returns>
    /// <exception cref="FedAggProtocolException">No receipt came, or an accepting receipt is not validly signed by the dialled server.</exception>
    public async Task<SubmitOutcome> SubmitAsync(SubmitRequest request, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var timeout = Timeout(_options, cancellationToken);
        var updateId = UpdatePreimage.ComputeUpdateId(request.Preimage.Span);
        var stream = await _connection.OpenStreamAsync("/fedagg/submit/1.0.0", timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // The payload is written beside the read: the server may answer early and stop reading.
            using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var writing = WritePayloadAsync(stream, request.Encode(), payload, stopWriting.Token);
            stream.MaxMessageBytes = SubmitReceipt.MaxEncodedLength;
            var raw = await stream.ReadMessageAsync(timeout.Token).ConfigureAwait(false) ?? throw new FedAggProtocolException("The server closed the submit stream without a receipt.");
            if (!writing.IsCompleted)
            {
                // An answer before the whole payload went out: the server stopped reading and will not open the window
                // again (docs/PROTOCOL.md), so stop writing and reset the stream instead of waiting on it.
                await stopWriting.CancelAsync().ConfigureAwait(false);
                stream.Reset();
            }

            try
            {
                await writing.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopWriting.IsCancellationRequested && !timeout.IsCancellationRequested)
            {
            }
            if (!SubmitReceipt.TryDecode(raw.Span, out var receipt, out var error))
            {
                throw new FedAggProtocolException($"The server's SubmitReceipt is malformed: {error}");
            }

            if (receipt.IsStored && (!receipt.VerifyServerSignature(ServerPeerId) || !receipt.UpdateId.Span.SequenceEqual(updateId)))
            {
                throw new FedAggProtocolException("The server's receipt is not signed by the dialled server or names another update.");
            }

            return new SubmitOutcome(receipt, raw.ToArray(), updateId);
        }
    }

    /// <summary>Fetches round <paramref name="round"/>'s manifest (0: the latest published).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round, or 0.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response and, with status 0, the manifest.</returns>
    /// <exception cref="FedAggProtocolException">The answer is malformed, or the manifest does not parse or names another round.</exception>
    public async Task<RoundDownload> FetchRoundAsync(string taskId, ulong round = 0, CancellationToken cancellationToken = default)
    {
        using var timeout = Timeout(_options, cancellationToken);
        var stream = await _connection.OpenStreamAsync("/fedagg/round/1.0.0", timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteMessageAsync(new RoundRequest(taskId, round).Encode(), timeout.Token).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
            stream.MaxMessageBytes = RoundResponse.MaxEncodedLength;
            var raw = await stream.ReadMessageAsync(timeout.Token).ConfigureAwait(false) ?? throw new FedAggProtocolException("The server closed the round stream without a response.");
            if (!RoundResponse.TryDecode(raw.Span, out var response, out var error))
            {
                throw new FedAggProtocolException($"The server's RoundResponse is malformed: {error}");
            }

            if (response.Status != ServiceStatus.Ok)
            {
                return new RoundDownload(response, [], null);
            }

            var json = new byte[response.ManifestLength];
            if (await ReadExactlyAsync(stream, json, timeout.Token).ConfigureAwait(false) != json.Length)
            {
                throw new FedAggProtocolException("The round stream ended inside the manifest.");
            }

            if (!RoundManifestJson.TryRead(json, out var manifest, out error))
            {
                throw new FedAggProtocolException($"The server's manifest is not valid: {error}");
            }

            if (manifest.TaskId != taskId || manifest.Round != response.Round || (round != 0 && manifest.Round != round))
            {
                throw new FedAggProtocolException($"The server sent the manifest of round {manifest.Round} of '{manifest.TaskId}' for round {response.Round} of '{taskId}'.");
            }

            return new RoundDownload(response, json, manifest);
        }
    }

    /// <summary>Fetches an artifact of a published round (an update's payload, an optimizer state).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The published round.</param>
    /// <param name="kind">What.</param>
    /// <param name="id">The update id or state hash.</param>
    /// <param name="maxBytes">The largest artifact accepted.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response and, with status 0, the bytes.</returns>
    /// <exception cref="FedAggProtocolException">The answer is malformed, too large or truncated.</exception>
    public async Task<(ArtifactResponse Response, byte[] Bytes)> FetchArtifactAsync(
        string taskId, ulong round, ArtifactKind kind, ReadOnlyMemory<byte> id, long maxBytes, CancellationToken cancellationToken = default)
    {
        using var timeout = Timeout(_options, cancellationToken);
        var stream = await _connection.OpenStreamAsync("/fedagg/artifact/1.0.0", timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteMessageAsync(new ArtifactRequest(taskId, round, kind, id).Encode(), timeout.Token).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
            stream.MaxMessageBytes = ArtifactResponse.MaxEncodedLength;
            var raw = await stream.ReadMessageAsync(timeout.Token).ConfigureAwait(false) ?? throw new FedAggProtocolException("The server closed the artifact stream without a response.");
            if (!ArtifactResponse.TryDecode(raw.Span, out var response, out var error))
            {
                throw new FedAggProtocolException($"The server's ArtifactResponse is malformed: {error}");
            }

            if (response.Status != ServiceStatus.Ok)
            {
                return (response, []);
            }

            if (response.Length > (ulong)Math.Min(maxBytes, Array.MaxLength))
            {
                throw new FedAggProtocolException($"The server announced a {response.Length}-byte artifact, over the limit of {maxBytes}.");
            }

            var bytes = new byte[response.Length];
            if (await ReadExactlyAsync(stream, bytes, timeout.Token).ConfigureAwait(false) != bytes.Length)
            {
                throw new FedAggProtocolException("The artifact stream ended early.");
            }

            return (response, bytes);
        }
    }

    /// <summary>Binds <paramref name="address"/> for this peer's credits on the server's chain and ledger.</summary>
    /// <param name="chainId">The server's chain id.</param>
    /// <param name="ledger">The server's ledger (20 bytes).</param>
    /// <param name="address">The address (20 bytes).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The server's answer.</returns>
    public async Task<BindResponse> BindAddressAsync(ulong chainId, ReadOnlyMemory<byte> ledger, ReadOnlyMemory<byte> address, CancellationToken cancellationToken = default)
    {
        var signature = AddressBinding.Sign(Key, chainId, ledger.Span, address.Span);
        var raw = await RequestAsync("/fedagg/bind/1.0.0", new BindRequest(chainId, ledger, address, signature).Encode(), BindResponse.MaxEncodedLength, cancellationToken).ConfigureAwait(false);
        return BindResponse.TryDecode(raw.Span, out var response, out var error) ? response : throw new FedAggProtocolException($"The server's BindResponse is malformed: {error}");
    }

    /// <summary>Runs an admin command (this client's peer id must be one of the server's coordinators).</summary>
    /// <param name="command">The command, e.g. <c>round.close</c>.</param>
    /// <param name="argumentsJson">Its arguments, a JSON object.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The server's answer.</returns>
    public async Task<AdminResponse> AdminAsync(string command, string argumentsJson, CancellationToken cancellationToken = default)
    {
        var raw = await RequestAsync("/fedagg/admin/1.0.0", new AdminRequest(command, argumentsJson).Encode(), AdminResponse.MaxEncodedLength, cancellationToken).ConfigureAwait(false);
        return AdminResponse.TryDecode(raw.Span, out var response, out var error) ? response : throw new FedAggProtocolException($"The server's AdminResponse is malformed: {error}");
    }

    /// <summary>Closes the connection and the host.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync() => await _host.DisposeAsync().ConfigureAwait(false);

    private async Task<ReadOnlyMemory<byte>> RequestAsync(string protocol, byte[] request, int maxResponse, CancellationToken cancellationToken)
    {
        using var timeout = Timeout(_options, cancellationToken);
        var stream = await _connection.OpenStreamAsync(protocol, timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteMessageAsync(request, timeout.Token).ConfigureAwait(false);
            await stream.CompleteWritesAsync().ConfigureAwait(false);
            stream.MaxMessageBytes = maxResponse;
            return await stream.ReadMessageAsync(timeout.Token).ConfigureAwait(false)
                ?? throw new FedAggProtocolException($"The server closed the {protocol} stream without a response.");
        }
    }

    private static async Task WritePayloadAsync(Libp2pStream stream, byte[] frame, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteMessageAsync(frame, cancellationToken).ConfigureAwait(false);
            for (var offset = 0; offset < payload.Length; offset += 64 * 1024)
            {
                var flush = await stream.Output.WriteAsync(payload.Slice(offset, Math.Min(64 * 1024, payload.Length - offset)), cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return;
                }
            }

            await stream.CompleteWritesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or InvalidOperationException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The server answered and closed before taking everything; the receipt says why.
        }
    }

    private static async Task<long> ReadExactlyAsync(Libp2pStream stream, byte[] destination, CancellationToken cancellationToken)
    {
        long filled = 0;
        while (true)
        {
            var read = await stream.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            var take = Math.Min(buffer.Length, destination.Length - filled);
            buffer.Slice(0, take).CopyTo(destination.AsSpan((int)filled));
            filled += take;
            stream.Input.AdvanceTo(buffer.GetPosition(take));
            if (filled == destination.Length || read.IsCompleted)
            {
                return filled;
            }
        }
    }

    private static CancellationTokenSource Timeout(FedAggClientOptions options, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(options.RequestTimeout);
        return source;
    }
}

/// <summary>The server's answer broke the protocol (malformed, inconsistent, or not matching its own hashes).</summary>
/// <param name="message">What was wrong.</param>
public sealed class FedAggProtocolException(string message) : Exception(message);
