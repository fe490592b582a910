using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Noise;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Noise;

public sealed class NoiseHandshakeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void XXHandshakeState_FixedKeys_MatchesJsLibp2pNoiseTranscript()
    {
        // Produced by @chainsafe/libp2p-noise 17.0.0's XXHandshakeState with X25519 private keys 0x01…01 (initiator
        // static), 0x02…02 (initiator ephemeral), 0x03…03 (responder static), 0x04…04 (responder ephemeral), an
        // empty prologue, and the payloads below; "transport" is the initiator's first transport message "hello".
        const string ExpectedA = "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59";
        const string ExpectedB = "ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10bb719b14d19eaf5ca91c89748c5ce8668e6864f05ee2367682b3e0c2fd086f0b4f64162733f3fe548251c518fe8c03cced86cd812e317f9705ead84eadcd2aef973a19e619104791b73380393a079392c3b";
        const string ExpectedC = "539a5cf3ae8a0a9134b32bfa775a1522db3558a1351ed4101989b8b88aa6a6f0e995a5273c343d1c35f005c662c3cc142e0cdd5fc8f6a9e718bbfa74549af89902beac6d79d1861d9fdc5b380f5aa7aead";
        const string ExpectedTransport = "f5c8fdccae8939c5a6d0d9be2753d6cf345c85961d";
        const string ExpectedHash = "b13f89e67c0facbb458c66755001df45267e247a0a4ed532690946f297bd8be0";
        using var initiator = new NoiseXXHandshakeState(true, Key(1), [], Key(2));
        using var responder = new NoiseXXHandshakeState(false, Key(3), [], Key(4));

        var a = initiator.WriteMessageA([]);
        Assert.Equal(ExpectedA, Convert.ToHexStringLower(a));
        Assert.NotNull(responder.ReadMessageA(a));
        var b = responder.WriteMessageB("responder payload"u8)!;
        Assert.Equal(ExpectedB, Convert.ToHexStringLower(b));
        Assert.Equal("responder payload", Encoding.UTF8.GetString(initiator.ReadMessageB(b)!));
        var c = initiator.WriteMessageC("initiator payload"u8)!;
        Assert.Equal(ExpectedC, Convert.ToHexStringLower(c));
        Assert.Equal("initiator payload", Encoding.UTF8.GetString(responder.ReadMessageC(c)!));
        Assert.Equal(ExpectedHash, Convert.ToHexStringLower(initiator.HandshakeHash));
        Assert.Equal(ExpectedHash, Convert.ToHexStringLower(responder.HandshakeHash));
        Assert.Equal(NoiseXXHandshakeState.PublicKeyOf(Key(1)), responder.RemoteStaticKey);
        Assert.Equal(NoiseXXHandshakeState.PublicKeyOf(Key(3)), initiator.RemoteStaticKey);

        var (send, _) = initiator.Split();
        var (_, receive) = responder.Split();
        var transport = new byte[5 + NoiseCipherState.TagLength];
        send.Encrypt([], "hello"u8, transport);
        Assert.Equal(ExpectedTransport, Convert.ToHexStringLower(transport));
        var plain = new byte[5];
        Assert.Equal(5, receive.Decrypt([], transport, plain));
        Assert.Equal("hello", Encoding.UTF8.GetString(plain));
        send.Dispose();
        receive.Dispose();
    }

    [Fact]
    public void X25519_Rfc7748Vector_PublicKeysAndSharedSecretMatch()
    {
        // RFC 7748 section 6.1.
        var alice = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bob = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(NoiseXXHandshakeState.PublicKeyOf(alice)));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(NoiseXXHandshakeState.PublicKeyOf(bob)));
        var shared = new byte[32];
        Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(alice, 0, NoiseXXHandshakeState.PublicKeyOf(bob), 0, shared, 0);
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Convert.ToHexStringLower(shared));
    }

    [Fact]
    public void CipherState_NonceLayout_IsFourZeroBytesThenLittleEndianCounter()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var state = new NoiseCipherState(key);
        var first = new byte[3 + NoiseCipherState.TagLength];
        var second = new byte[3 + NoiseCipherState.TagLength];
        state.Encrypt([], "abc"u8, first);
        state.Encrypt([], "abc"u8, second);

        using var aead = new ChaCha20Poly1305(key);
        var nonce = new byte[12];
        nonce[4] = 1;
        var expected = new byte[3];
        var tag = new byte[16];
        aead.Encrypt(nonce, "abc"u8, expected, tag);
        Assert.Equal(expected.Concat(tag), second);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task RunAsync_BothRoles_AuthenticatePeersAndCarryData()
    {
        var pair = DuplexPipePair.Create();
        using var dialer = Ed25519PrivateKey.Generate();
        using var listener = Ed25519PrivateKey.Generate();

        var (dialerResult, listenerResult) = await HandshakeAsync(pair, dialer, listener, listener.PeerId);

        Assert.Equal(listener.PeerId, dialerResult.RemotePeer);
        Assert.Equal(dialer.PeerId, listenerResult.RemotePeer);
        Assert.Empty(dialerResult.RemoteStreamMuxers);
        Assert.Equal(dialerResult.HandshakeHash, listenerResult.HandshakeHash);

        await using var left = new NoiseSecureChannel(pair.Left, dialerResult.Send, dialerResult.Receive, TimeProvider.System);
        await using var right = new NoiseSecureChannel(pair.Right, listenerResult.Send, listenerResult.Receive, TimeProvider.System);
        var data = RandomNumberGenerator.GetBytes(300_000);
        var write = WriteAllAsync(left.Output, data);
        var received = await ReadExactlyAsync(right.Input, data.Length).WaitAsync(Wait);
        await write;
        Assert.Equal(data, received);

        right.Output.Write("reply"u8);
        await right.Output.FlushAsync();
        Assert.Equal("reply"u8.ToArray(), await ReadExactlyAsync(left.Input, 5).WaitAsync(Wait));
    }

    [Fact]
    public async Task RunAsync_OfferedMuxers_AreSeenByThePeer()
    {
        var pair = DuplexPipePair.Create();
        using var dialer = Ed25519PrivateKey.Generate();
        using var listener = Ed25519PrivateKey.Generate();
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, null, ["/yamux/1.0.0", "/mplex/6.7.0"], CancellationToken.None);
        var listening = NoiseHandshake.RunAsync(pair.Right, listener, false, null, ["/yamux/1.0.0"], CancellationToken.None);
        var results = await Task.WhenAll(dialing, listening).WaitAsync(Wait);
        Assert.Equal(["/yamux/1.0.0"], results[0].RemoteStreamMuxers);
        Assert.Equal(["/yamux/1.0.0", "/mplex/6.7.0"], results[1].RemoteStreamMuxers);
    }

    [Fact]
    public async Task RunAsync_ExpectedPeerDiffers_Throws()
    {
        var pair = DuplexPipePair.Create();
        using var dialer = Ed25519PrivateKey.Generate();
        using var listener = Ed25519PrivateKey.Generate();
        var other = Ed25519PrivateKey.Generate().PeerId;
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, other, [], CancellationToken.None);
        _ = NoiseHandshake.RunAsync(pair.Right, listener, false, null, [], CancellationToken.None).ContinueWith(t => t.Exception, TaskScheduler.Default);

        var error = await Assert.ThrowsAsync<Libp2pException>(() => dialing.WaitAsync(Wait));
        Assert.Contains(other.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(listener.PeerId.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResponderSignsAnotherStaticKey_InitiatorRejects()
    {
        var pair = DuplexPipePair.Create();
        using var dialer = Ed25519PrivateKey.Generate();
        using var forger = Ed25519PrivateKey.Generate();
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, null, [], CancellationToken.None);

        // A hand-driven responder whose payload signs a static key other than the one it uses.
        using var responder = new NoiseXXHandshakeState(false, RandomNumberGenerator.GetBytes(32), []);
        var messageA = await ReadFrameAsync(pair.Right.Input);
        Assert.NotNull(responder.ReadMessageA(messageA));
        var wrongStatic = NoiseXXHandshakeState.PublicKeyOf(RandomNumberGenerator.GetBytes(32));
        var payload = NoiseHandshakePayload.Create(forger, wrongStatic, []).Encode();
        NoiseFrameCodec.Write(pair.Right.Output, responder.WriteMessageB(payload)!);
        await pair.Right.Output.FlushAsync();

        var error = await Assert.ThrowsAsync<Libp2pException>(() => dialing.WaitAsync(Wait));
        Assert.Contains("signature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WithBindingCache_RemembersTheVerifiedBindingAndAuthenticatesAgain()
    {
        using var dialer = Ed25519PrivateKey.Generate();
        using var listener = Ed25519PrivateKey.Generate();
        using var listenerStatic = NoiseStaticKey.Generate(listener);
        var cache = new NoiseBindingCache(16);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var pair = DuplexPipePair.Create();
            var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, listener.PeerId, [], CancellationToken.None, bindingCache: cache);
            var listening = NoiseHandshake.RunAsync(pair.Right, listener, false, null, [], CancellationToken.None, staticKey: listenerStatic);
            var results = await Task.WhenAll(dialing, listening).WaitAsync(Wait);

            Assert.Equal(listener.PeerId, results[0].RemotePeer);
            Assert.Equal(results[0].HandshakeHash, results[1].HandshakeHash);
        }

        Assert.True(NoiseHandshakePayload.TryDecode(listenerStatic.GetPayload([]), out var payload, out _));
        Assert.True(cache.Contains(NoiseBindingCache.KeyOf(payload.IdentityKey, listenerStatic.PublicKey, payload.IdentitySignature)));
    }

    [Fact]
    public async Task RunAsync_CachedBindingReplayedWithAnotherStaticKey_IsStillRejected()
    {
        using var dialer = Ed25519PrivateKey.Generate();
        using var victim = Ed25519PrivateKey.Generate();
        using var victimStatic = NoiseStaticKey.Generate(victim);
        var cache = new NoiseBindingCache(16);
        Assert.True(NoiseHandshakePayload.TryDecode(victimStatic.GetPayload([]), out var victimPayload, out _));
        cache.Add(NoiseBindingCache.KeyOf(victimPayload.IdentityKey, victimStatic.PublicKey, victimPayload.IdentitySignature));

        // An attacker replays the victim's identity key and signature, but runs the handshake with its own static key.
        var pair = DuplexPipePair.Create();
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, null, [], CancellationToken.None, bindingCache: cache);
        using var responder = new NoiseXXHandshakeState(false, RandomNumberGenerator.GetBytes(32), []);
        Assert.NotNull(responder.ReadMessageA(await ReadFrameAsync(pair.Right.Input)));
        NoiseFrameCodec.Write(pair.Right.Output, responder.WriteMessageB(victimStatic.GetPayload([]))!);
        await pair.Right.Output.FlushAsync();

        var error = await Assert.ThrowsAsync<Libp2pException>(() => dialing.WaitAsync(Wait));
        Assert.Contains("signature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BindingCache_PastItsCapacity_ForgetsTheOldestAndStaysBounded()
    {
        var cache = new NoiseBindingCache(4);
        UInt128 Key(int i, byte[]? staticKey = null, byte[]? signature = null) => NoiseBindingCache.KeyOf(BitConverter.GetBytes(i), staticKey ?? [1], signature ?? [2]);

        for (var i = 0; i < 6; i++)
        {
            cache.Add(Key(i));
        }

        Assert.False(cache.Contains(Key(0)));
        Assert.False(cache.Contains(Key(1)));
        Assert.True(cache.Contains(Key(4)));
        Assert.True(cache.Contains(Key(5)));
        Assert.False(cache.Contains(Key(5, signature: [3])));
        Assert.False(cache.Contains(Key(5, staticKey: [1, 2], signature: [])));
    }

    [Fact]
    public async Task RunAsync_GarbageMessage_Throws()
    {
        var pair = DuplexPipePair.Create();
        using var dialer = Ed25519PrivateKey.Generate();
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, null, [], CancellationToken.None);
        _ = await ReadFrameAsync(pair.Right.Input);
        NoiseFrameCodec.Write(pair.Right.Output, RandomNumberGenerator.GetBytes(200));
        await pair.Right.Output.FlushAsync();
        await Assert.ThrowsAsync<Libp2pException>(() => dialing.WaitAsync(Wait));
    }

    [Fact]
    public async Task RunAsync_PeerCloses_Throws()
    {
        var pair = DuplexPipePair.Create();
        using var listener = Ed25519PrivateKey.Generate();
        var listening = NoiseHandshake.RunAsync(pair.Right, listener, false, null, [], CancellationToken.None);
        pair.Left.Output.Write(new byte[] { 0, 40, 1, 2, 3 });
        await pair.Left.Output.CompleteAsync();
        await Assert.ThrowsAsync<Libp2pException>(() => listening.WaitAsync(Wait));
    }

    [Fact]
    public async Task SecureChannel_TamperedCiphertext_EndsTheChannel()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var transport = DuplexPipePair.Create();
        await using var channel = new NoiseSecureChannel(transport.Right, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(key), TimeProvider.System);
        using var sender = new NoiseCipherState(key);
        var good = Frame(sender, "first"u8);
        var bad = Frame(sender, "second"u8);
        bad[^3] ^= 0x40;
        transport.Left.Output.Write(good);
        await transport.Left.Output.FlushAsync();
        Assert.Equal("first"u8.ToArray(), await ReadExactlyAsync(channel.Input, 5).WaitAsync(Wait));

        transport.Left.Output.Write(bad);
        await transport.Left.Output.FlushAsync();
        await Assert.ThrowsAsync<Libp2pException>(async () => await ReadExactlyAsync(channel.Input, 1).WaitAsync(Wait));
        await channel.Completion.WaitAsync(Wait);
        Assert.Contains("authentication", channel.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecureChannel_FramesSplitAtEveryOffset_DecryptInOrder()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var messages = new[] { "alpha"u8.ToArray(), RandomNumberGenerator.GetBytes(300), "z"u8.ToArray() };
        byte[] wire;
        using (var sender = new NoiseCipherState(key))
        {
            wire = messages.SelectMany(m => Frame(sender, m)).ToArray();
        }

        var expected = messages.SelectMany(m => m).ToArray();
        for (var split = 0; split <= wire.Length; split++)
        {
            var received = await RunChannelAsync(key, [wire[..split], wire[split..]], expected.Length);
            Assert.Equal(expected, received);
        }

        var oneByOne = await RunChannelAsync(key, wire.Select(b => new[] { b }).ToArray(), expected.Length);
        Assert.Equal(expected, oneByOne);
    }

    [Fact]
    public async Task SecureChannel_LargeWrite_IsCutIntoMaximalFrames()
    {
        var transport = DuplexPipePair.Create(4 << 20);
        await using var channel = new NoiseSecureChannel(transport.Left, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), TimeProvider.System);
        var data = new byte[NoiseFrameCodec.MaxPlaintextLength * 2 + 10];
        channel.Output.Write(data);
        await channel.Output.FlushAsync();
        await channel.Output.CompleteAsync();

        var lengths = new List<int>();
        while (true)
        {
            var result = await transport.Right.Input.ReadAsync().AsTask().WaitAsync(Wait);
            var buffer = result.Buffer;
            while (NoiseFrameCodec.TryRead(buffer, out var frame, out var consumed))
            {
                lengths.Add((int)frame.Length);
                buffer = buffer.Slice(consumed);
            }

            transport.Right.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal([65535, 65535, 10 + NoiseCipherState.TagLength], lengths);
    }

    [Fact]
    public void Payload_EncodeDecode_Roundtrips()
    {
        using var identity = Ed25519PrivateKey.Generate();
        var staticKey = NoiseXXHandshakeState.PublicKeyOf(RandomNumberGenerator.GetBytes(32));
        var payload = NoiseHandshakePayload.Create(identity, staticKey, ["/yamux/1.0.0"]);
        Assert.True(NoiseHandshakePayload.TryDecode(payload.Encode(), out var decoded, out _));
        Assert.Equal(identity.PublicKey.ToProtobuf(), decoded.IdentityKey);
        Assert.True(identity.PublicKey.Verify(NoiseHandshakePayload.SignedBytes(staticKey), decoded.IdentitySignature));
        Assert.Equal(["/yamux/1.0.0"], decoded.StreamMuxers);

        Assert.False(NoiseHandshakePayload.TryDecode(new byte[] { 0x0a, 0x02, 1, 2 }, out _, out var error));
        Assert.Contains("identity_sig", error, StringComparison.Ordinal);
        Assert.False(NoiseHandshakePayload.TryDecode(new byte[] { 0x0a, 0x05, 1 }, out _, out _));
    }

    private static byte[] Key(byte value) => Enumerable.Repeat(value, 32).ToArray();

    private static byte[] Frame(NoiseCipherState sender, ReadOnlySpan<byte> plaintext)
    {
        var frame = new byte[2 + plaintext.Length + NoiseCipherState.TagLength];
        frame[0] = (byte)((frame.Length - 2) >> 8);
        frame[1] = (byte)(frame.Length - 2);
        sender.Encrypt([], plaintext, frame.AsSpan(2));
        return frame;
    }

    private static async Task<byte[]> RunChannelAsync(byte[] key, byte[][] pieces, int expectedLength)
    {
        var transport = DuplexPipePair.Create();
        await using var channel = new NoiseSecureChannel(transport.Right, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(key), TimeProvider.System);
        foreach (var piece in pieces)
        {
            transport.Left.Output.Write(piece);
            await transport.Left.Output.FlushAsync();
        }

        var received = await ReadExactlyAsync(channel.Input, expectedLength).WaitAsync(Wait);
        Assert.Null(channel.FailureReason);
        return received;
    }

    private static async Task<(NoiseHandshakeResult Dialer, NoiseHandshakeResult Listener)> HandshakeAsync(DuplexPipePair pair, Ed25519PrivateKey dialer, Ed25519PrivateKey listener, PeerId? expected)
    {
        var dialing = NoiseHandshake.RunAsync(pair.Left, dialer, true, expected, [], CancellationToken.None);
        var listening = NoiseHandshake.RunAsync(pair.Right, listener, false, null, [], CancellationToken.None);
        var results = await Task.WhenAll(dialing, listening).WaitAsync(Wait);
        return (results[0], results[1]);
    }

    private static async Task<byte[]> ReadFrameAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Wait);
            if (NoiseFrameCodec.TryRead(result.Buffer, out var frame, out var consumed))
            {
                var bytes = frame.ToArray();
                reader.AdvanceTo(consumed);
                return bytes;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task WriteAllAsync(PipeWriter writer, byte[] data)
    {
        for (var offset = 0; offset < data.Length; offset += 70_000)
        {
            writer.Write(data.AsSpan(offset, Math.Min(70_000, data.Length - offset)));
            await writer.FlushAsync();
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int length)
    {
        var result = await reader.ReadAtLeastAsync(length);
        if (result.Buffer.Length < length)
        {
            reader.AdvanceTo(result.Buffer.End);
            throw new InvalidOperationException("The channel ended early.");
        }

        var bytes = result.Buffer.Slice(0, length).ToArray();
        reader.AdvanceTo(result.Buffer.GetPosition(length));
        return bytes;
    }
}
