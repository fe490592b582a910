using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// The libp2p Noise handshake (<c>/noise</c>): XX with an empty prologue, the host's static X25519 key (or a fresh one per
/// connection when none is given), and the identity bound to it by an Ed25519 signature over
/// <c>"noise-libp2p-static-key:" ‖ static key</c> in the payload.
/// </summary>
internal static class NoiseHandshake
{
    /// <summary>The multistream-select protocol id.</summary>
    public const string ProtocolId = "/noise";

    /// <summary>
    /// Runs the handshake over <paramref name="transport"/>. The caller bounds the time with the token.
    /// </summary>
    /// <param name="transport">The raw connection, right after multistream-select chose <c>/noise</c>.</param>
    /// <param name="identity">The local identity key.</param>
    /// <param name="initiator">Whether this side dialled.</param>
    /// <param name="expectedRemote">The peer the dialled address named, if any; any other authenticated peer is refused.</param>
    /// <param name="offeredMuxers">Muxers to offer for early negotiation (empty: none, negotiate afterwards).</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <param name="ephemeralPrivateKey">A fixed ephemeral key, for test vectors only.</param>
    /// <param name="staticPrivateKey">A fixed static key, for test vectors only.</param>
    /// <param name="staticKey">The host's static key and its signed payloads; without it (and without
    /// <paramref name="staticPrivateKey"/>) a fresh key is made and signed for this handshake.</param>
    /// <param name="bindingCache">Bindings that verified before (skips the remote's Ed25519 verification when the same
    /// bytes come again), or null to verify every time.</param>
    /// <exception cref="Libp2pException">The peer's messages are malformed, its signature is wrong, it is not the expected peer, or the connection ended.</exception>
    public static async Task<NoiseHandshakeResult> RunAsync(
        IDuplexPipe transport,
        Ed25519PrivateKey identity,
        bool initiator,
        PeerId? expectedRemote,
        IReadOnlyList<string> offeredMuxers,
        CancellationToken cancellationToken,
        byte[]? ephemeralPrivateKey = null,
        byte[]? staticPrivateKey = null,
        NoiseStaticKey? staticKey = null,
        NoiseBindingCache? bindingCache = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(identity);
        NoiseXXHandshakeState state;
        byte[] payload;
        if (staticKey is not null && staticPrivateKey is null)
        {
            state = new NoiseXXHandshakeState(initiator, staticKey.PrivateKey, [], ephemeralPrivateKey, staticKey.PublicKey);
            payload = staticKey.GetPayload(offeredMuxers);
        }
        else
        {
            var privateKey = staticPrivateKey ?? RandomNumberGenerator.GetBytes(NoiseXXHandshakeState.DhLength);
            var publicKey = NoiseXXHandshakeState.PublicKeyOf(privateKey);
            payload = NoiseHandshakePayload.Create(identity, publicKey, offeredMuxers).Encode();
            state = new NoiseXXHandshakeState(initiator, privateKey, [], ephemeralPrivateKey, publicKey);
            if (staticPrivateKey is null)
            {
                CryptographicOperations.ZeroMemory(privateKey);
            }
        }

        using var ownedState = state;
        byte[]? remotePayload;
        if (initiator)
        {
            await WriteFrameAsync(transport.Output, state.WriteMessageA([]), cancellationToken).ConfigureAwait(false);
            var messageB = await ReadFrameAsync(transport.Input, cancellationToken).ConfigureAwait(false);
            remotePayload = state.ReadMessageB(messageB) ?? throw Fail("message 2 failed to decrypt");
            var remote = Verify(remotePayload, state.RemoteStaticKey!, expectedRemote, bindingCache);
            var messageC = state.WriteMessageC(payload) ?? throw Fail("message 3 could not be built");
            await WriteFrameAsync(transport.Output, messageC, cancellationToken).ConfigureAwait(false);
            var (send, receive) = state.Split();
            return new NoiseHandshakeResult(remote.Key, remote.Payload.StreamMuxers, send, receive, state.HandshakeHash.ToArray());
        }
        else
        {
            var messageA = await ReadFrameAsync(transport.Input, cancellationToken).ConfigureAwait(false);
            _ = state.ReadMessageA(messageA) ?? throw Fail("message 1 is shorter than an ephemeral key");
            var messageB = state.WriteMessageB(payload) ?? throw Fail("the peer's ephemeral key is a low-order point");
            await WriteFrameAsync(transport.Output, messageB, cancellationToken).ConfigureAwait(false);
            var messageC = await ReadFrameAsync(transport.Input, cancellationToken).ConfigureAwait(false);
            remotePayload = state.ReadMessageC(messageC) ?? throw Fail("message 3 failed to decrypt");
            var remote = Verify(remotePayload, state.RemoteStaticKey!, expectedRemote, bindingCache);
            var (send, receive) = state.Split();
            return new NoiseHandshakeResult(remote.Key, remote.Payload.StreamMuxers, send, receive, state.HandshakeHash.ToArray());
        }
    }

    private static (Ed25519PublicKey Key, NoiseHandshakePayload Payload) Verify(
        byte[] payloadBytes, byte[] remoteStatic, PeerId? expectedRemote, NoiseBindingCache? bindingCache)
    {
        if (!NoiseHandshakePayload.TryDecode(payloadBytes, out var payload, out var error))
        {
            throw Fail($"the handshake payload is malformed ({error})");
        }

        if (!Ed25519PublicKey.TryFromProtobuf(payload.IdentityKey, out var key, out var keyError))
        {
            throw Fail($"the identity key is not usable ({keyError})");
        }

        var binding = bindingCache is null ? default : NoiseBindingCache.KeyOf(payload.IdentityKey, remoteStatic, payload.IdentitySignature);
        if (bindingCache is null || !bindingCache.Contains(binding))
        {
            if (!key.Verify(NoiseHandshakePayload.SignedBytes(remoteStatic), payload.IdentitySignature))
            {
                throw Fail($"the identity signature of {key.PeerId} over its Noise static key is invalid");
            }

            bindingCache?.Add(binding);
        }

        if (expectedRemote is not null && !expectedRemote.Equals(key.PeerId))
        {
            throw new Libp2pException($"The peer authenticated as {key.PeerId}, not the expected {expectedRemote}.");
        }

        return (key, payload);
    }

    private static async ValueTask WriteFrameAsync(PipeWriter output, byte[] message, CancellationToken cancellationToken)
    {
        NoiseFrameCodec.Write(output, message);
        FlushResult flush;
        try
        {
            flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
        {
            throw new Libp2pException($"The connection failed during the Noise handshake: {e.Message}", e);
        }

        if (flush.IsCompleted)
        {
            throw Fail("the peer closed the connection");
        }
    }

    private static async ValueTask<byte[]> ReadFrameAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
            {
                throw new Libp2pException($"The connection failed during the Noise handshake: {e.Message}", e);
            }

            var buffer = result.Buffer;
            if (NoiseFrameCodec.TryRead(buffer, out var frame, out var consumed))
            {
                var bytes = frame.ToArray();
                input.AdvanceTo(consumed);
                return bytes;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw Fail("the peer closed the connection");
            }
        }
    }

    private static Libp2pException Fail(string reason) => new($"The Noise handshake failed: {reason}.");
}

/// <summary>What a completed Noise handshake established.</summary>
internal sealed class NoiseHandshakeResult(
    Ed25519PublicKey remoteIdentity,
    IReadOnlyList<string> remoteStreamMuxers,
    NoiseCipherState send,
    NoiseCipherState receive,
    byte[] handshakeHash)
{
    /// <summary>The peer's authenticated identity key.</summary>
    public Ed25519PublicKey RemoteIdentity { get; } = remoteIdentity;

    /// <summary>The peer's identity.</summary>
    public PeerId RemotePeer => RemoteIdentity.PeerId;

    /// <summary>The muxers the peer offered for early negotiation (empty when it offered none).</summary>
    public IReadOnlyList<string> RemoteStreamMuxers { get; } = remoteStreamMuxers;

    public NoiseCipherState Send { get; } = send;

    public NoiseCipherState Receive { get; } = receive;

    public byte[] HandshakeHash { get; } = handshakeHash;
}
