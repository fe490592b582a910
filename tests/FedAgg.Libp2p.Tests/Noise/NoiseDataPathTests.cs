using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Noise;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Noise;

/// <summary>
/// The Noise transport phase as the performance work left it: frames are sealed when the writer flushes and opened when
/// the reader reads (no loops of their own), and a host's static key and signed payload are made once.
/// </summary>
public sealed class NoiseDataPathTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SecureChannel_ManySmallWritesThenOneFlush_SendsMaximalFramesInOrder()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var transport = DuplexPipePair.Create(4 << 20);
        await using var channel = new NoiseSecureChannel(transport.Left, new NoiseCipherState(key), new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), TimeProvider.System);
        var data = RandomNumberGenerator.GetBytes(200_000);
        for (var offset = 0; offset < data.Length; offset += 1000)
        {
            channel.Output.Write(data.AsSpan(offset, 1000));
        }

        await channel.Output.FlushAsync();
        await channel.Output.CompleteAsync();

        using var receiver = new NoiseCipherState(key);
        var lengths = new List<int>();
        var plaintext = new List<byte>();
        while (true)
        {
            var result = await transport.Right.Input.ReadAsync().AsTask().WaitAsync(Wait);
            var buffer = result.Buffer;
            while (NoiseFrameCodec.TryRead(buffer, out var frame, out var consumed))
            {
                lengths.Add((int)frame.Length);
                var opened = new byte[frame.Length - NoiseCipherState.TagLength];
                Assert.Equal(opened.Length, receiver.Decrypt([], frame.ToArray(), opened));
                plaintext.AddRange(opened);
                buffer = buffer.Slice(consumed);
            }

            transport.Right.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal([65535, 65535, 65535, 200_000 - (3 * 65519) + NoiseCipherState.TagLength], lengths);
        Assert.Equal(data, plaintext.ToArray());
    }

    [Fact]
    public async Task SecureChannel_TransferMuchLargerThanTheTransportBuffer_ArrivesIntactUnderBackPressure()
    {
        var leftToRight = RandomNumberGenerator.GetBytes(32);
        var rightToLeft = RandomNumberGenerator.GetBytes(32);
        var transport = DuplexPipePair.Create(64 * 1024);
        await using var left = new NoiseSecureChannel(transport.Left, new NoiseCipherState(leftToRight), new NoiseCipherState(rightToLeft), TimeProvider.System);
        await using var right = new NoiseSecureChannel(transport.Right, new NoiseCipherState(rightToLeft), new NoiseCipherState(leftToRight), TimeProvider.System);
        var data = RandomNumberGenerator.GetBytes(4 << 20);

        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                left.Output.Write(data.AsSpan(offset, Math.Min(100_000, data.Length - offset)));
                var flush = await left.Output.FlushAsync();
                Assert.False(flush.IsCompleted);
            }

            await left.Output.CompleteAsync();
        });

        var received = new byte[data.Length];
        var filled = 0;
        while (true)
        {
            var result = await right.Input.ReadAsync().AsTask().WaitAsync(Wait);
            Assert.True(filled + result.Buffer.Length <= data.Length, "more bytes arrived than were sent");
            result.Buffer.CopyTo(received.AsSpan(filled));
            filled += (int)result.Buffer.Length;
            right.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await writing.WaitAsync(Wait);
        Assert.Equal(data.Length, filled);
        Assert.Equal(data, received);
        Assert.Null(right.FailureReason);
    }

    [Fact]
    public async Task SecureChannel_ReaderExaminesWithoutConsuming_WaitsForTheNextFrame()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var transport = DuplexPipePair.Create();
        await using var channel = new NoiseSecureChannel(transport.Right, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(key), TimeProvider.System);
        using var sender = new NoiseCipherState(key);
        await WriteFrameAsync(transport.Left.Output, sender, "abc"u8.ToArray());

        var first = await channel.Input.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal("abc"u8.ToArray(), first.Buffer.ToArray());
        channel.Input.AdvanceTo(first.Buffer.Start, first.Buffer.End);

        // Everything was examined, so the next read must wait for new bytes rather than return the same three.
        var next = channel.Input.ReadAsync().AsTask();
        Assert.False(next.IsCompleted);
        await WriteFrameAsync(transport.Left.Output, sender, "def"u8.ToArray());
        var second = await next.WaitAsync(Wait);
        Assert.Equal("abcdef"u8.ToArray(), second.Buffer.ToArray());
        channel.Input.AdvanceTo(second.Buffer.End);
    }

    [Fact]
    public async Task SecureChannel_CancelPendingRead_WakesTheReaderWithIsCanceled()
    {
        var transport = DuplexPipePair.Create();
        await using var channel = new NoiseSecureChannel(transport.Right, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), TimeProvider.System);
        var pending = channel.Input.ReadAsync().AsTask();
        Assert.False(pending.IsCompleted);

        channel.Input.CancelPendingRead();

        var result = await pending.WaitAsync(Wait);
        Assert.True(result.IsCanceled);
        Assert.True(result.Buffer.IsEmpty);
        channel.Input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task SecureChannel_PeerEndsCleanly_InputCompletesAndCompletionFollowsTheOutput()
    {
        var transport = DuplexPipePair.Create();
        var channel = new NoiseSecureChannel(transport.Right, new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), new NoiseCipherState(RandomNumberGenerator.GetBytes(32)), TimeProvider.System);
        await transport.Left.Output.CompleteAsync();

        var result = await channel.Input.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.True(result.IsCompleted);
        channel.Input.AdvanceTo(result.Buffer.End);
        Assert.False(channel.SendCompletion.IsCompleted);

        await channel.Output.CompleteAsync();
        await channel.Completion.WaitAsync(Wait);
        var peer = await transport.Left.Input.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.True(peer.IsCompleted);
        Assert.Null(channel.FailureReason);
        await channel.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_SharedStaticKey_EveryHandshakeAuthenticatesWithOneSignedPayload()
    {
        using var dialerIdentity = Ed25519PrivateKey.Generate();
        using var listenerIdentity = Ed25519PrivateKey.Generate();
        using var listenerKey = NoiseStaticKey.Generate(listenerIdentity);
        for (var i = 0; i < 3; i++)
        {
            var pair = DuplexPipePair.Create();
            var dialing = NoiseHandshake.RunAsync(pair.Left, dialerIdentity, true, listenerIdentity.PeerId, [], CancellationToken.None);
            var listening = NoiseHandshake.RunAsync(pair.Right, listenerIdentity, false, null, [], CancellationToken.None, staticKey: listenerKey);
            var results = await Task.WhenAll(dialing, listening).WaitAsync(Wait);
            Assert.Equal(listenerIdentity.PeerId, results[0].RemotePeer);
            Assert.Equal(dialerIdentity.PeerId, results[1].RemotePeer);
            Assert.Equal(results[0].HandshakeHash, results[1].HandshakeHash);
        }

        var payload = listenerKey.GetPayload([]);
        Assert.Same(payload, listenerKey.GetPayload([]));
        Assert.NotSame(payload, listenerKey.GetPayload(["/yamux/1.0.0"]));
        Assert.True(NoiseHandshakePayload.TryDecode(payload, out var decoded, out _));
        Assert.True(listenerIdentity.PublicKey.Verify(NoiseHandshakePayload.SignedBytes(listenerKey.PublicKey), decoded.IdentitySignature));
        Assert.Equal(NoiseXXHandshakeState.PublicKeyOf(listenerKey.PrivateKey), listenerKey.PublicKey);
    }

    private static async Task WriteFrameAsync(PipeWriter output, NoiseCipherState sender, byte[] plaintext)
    {
        var frame = new byte[2 + plaintext.Length + NoiseCipherState.TagLength];
        frame[0] = (byte)((frame.Length - 2) >> 8);
        frame[1] = (byte)(frame.Length - 2);
        sender.Encrypt([], plaintext, frame.AsSpan(2));
        output.Write(frame);
        await output.FlushAsync();
    }
}
