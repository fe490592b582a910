using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using FedAgg.Libp2p.Multistream;
using FedAgg.TestKit.Networking;

namespace FedAgg.Libp2p.Tests.Multistream;

public sealed class MultistreamSelectTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void Write_Header_IsTheSpecBytes()
    {
        // "\x13/multistream/1.0.0\n" as in the multistream-select spec.
        Assert.Equal("\u0013/multistream/1.0.0\n"u8.ToArray(), MultistreamSelect.Encode(MultistreamCodec.ProtocolId));
        Assert.Equal("\u0007/noise\n"u8.ToArray(), MultistreamSelect.Encode("/noise"));
    }

    [Fact]
    public void TryRead_EverySplitOffset_NeedsMoreThenDone()
    {
        var bytes = MultistreamSelect.Encode(MultistreamCodec.ProtocolId, "/yamux/1.0.0");
        var first = MultistreamSelect.Encode(MultistreamCodec.ProtocolId).Length;
        for (var i = 0; i < first; i++)
        {
            Assert.Equal(MultistreamStatus.NeedMoreData, MultistreamCodec.TryRead(new ReadOnlySequence<byte>(bytes, 0, i), out _, out _, out _));
        }

        var sequence = Split(bytes, 5);
        Assert.Equal(MultistreamStatus.Done, MultistreamCodec.TryRead(sequence, out var message, out var consumed, out _));
        Assert.Equal(MultistreamCodec.ProtocolId, message);
        Assert.Equal(MultistreamStatus.Done, MultistreamCodec.TryRead(sequence.Slice(consumed), out var second, out var end, out _));
        Assert.Equal("/yamux/1.0.0", second);
        Assert.Equal(sequence.End, end);
    }

    [Theory]
    [InlineData("00", "empty")]
    [InlineData("8108", "exceeds")]
    [InlineData("03616263", "newline")]
    [InlineData("8000", "varint")]
    [InlineData("02ff0a", "UTF-8")]
    public void TryRead_Malformed_IsInvalid(string hex, string reason)
    {
        Assert.Equal(MultistreamStatus.Invalid, MultistreamCodec.TryRead(new ReadOnlySequence<byte>(Convert.FromHexString(hex)), out _, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelectAndHandle_Match_BothReturnTheProtocolAndLeaveFollowingDataInThePipe()
    {
        var pair = DuplexPipePair.Create();
        var handling = MultistreamSelect.HandleAsync(pair.Right, p => p == "/b/1", () => ["/b/1"], CancellationToken.None);
        var selecting = MultistreamSelect.SelectAsync(pair.Left, ["/a/1", "/b/1"], CancellationToken.None);

        Assert.Equal("/b/1", await selecting.WaitAsync(Wait));
        Assert.Equal("/b/1", await handling.WaitAsync(Wait));

        pair.Left.Output.Write("payload"u8);
        await pair.Left.Output.FlushAsync();
        var result = await pair.Right.Input.ReadAtLeastAsync(7);
        Assert.Equal("payload", Encoding.UTF8.GetString(result.Buffer.ToArray()));
    }

    [Fact]
    public async Task Select_NothingSupported_ThrowsAfterNa()
    {
        var pair = DuplexPipePair.Create();
        var handling = MultistreamSelect.HandleAsync(pair.Right, _ => false, () => [], CancellationToken.None);
        var error = await Assert.ThrowsAsync<Libp2pException>(() => MultistreamSelect.SelectAsync(pair.Left, ["/x/1", "/y/1"], CancellationToken.None).WaitAsync(Wait));
        Assert.Contains("/x/1", error.Message, StringComparison.Ordinal);
        await pair.Left.Output.CompleteAsync();
        await Assert.ThrowsAsync<Libp2pException>(() => handling.WaitAsync(Wait));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Handle_OptimisticDialerByteByByte_AnswersAndKeepsData(bool oneWrite)
    {
        var pair = DuplexPipePair.Create();
        var handling = MultistreamSelect.HandleAsync(pair.Right, p => p == "/echo/1", () => ["/echo/1"], CancellationToken.None);
        var bytes = MultistreamSelect.Encode(MultistreamCodec.ProtocolId, "/nope/1", "/echo/1").Concat("data!"u8.ToArray()).ToArray();
        if (oneWrite)
        {
            pair.Left.Output.Write(bytes);
            await pair.Left.Output.FlushAsync();
        }
        else
        {
            foreach (var b in bytes)
            {
                pair.Left.Output.Write([b]);
                await pair.Left.Output.FlushAsync();
            }
        }

        Assert.Equal("/echo/1", await handling.WaitAsync(Wait));
        var answers = await ReadMessagesAsync(pair.Left.Input, 3);
        Assert.Equal([MultistreamCodec.ProtocolId, "na", "/echo/1"], answers);
        var rest = await pair.Right.Input.ReadAtLeastAsync(5);
        Assert.Equal("data!", Encoding.UTF8.GetString(rest.Buffer.ToArray()));
    }

    [Fact]
    public async Task Select_ListenerAnswersSplitAtEveryOffset_Succeeds()
    {
        var answer = MultistreamSelect.Encode(MultistreamCodec.ProtocolId, "/p/1");
        for (var split = 0; split <= answer.Length; split++)
        {
            var pair = DuplexPipePair.Create();
            var selecting = MultistreamSelect.SelectAsync(pair.Left, ["/p/1"], CancellationToken.None);
            pair.Right.Output.Write(answer.AsSpan(0, split));
            await pair.Right.Output.FlushAsync();
            pair.Right.Output.Write(answer.AsSpan(split));
            await pair.Right.Output.FlushAsync();
            Assert.Equal("/p/1", await selecting.WaitAsync(Wait));
            var sent = await ReadMessagesAsync(pair.Right.Input, 2);
            Assert.Equal([MultistreamCodec.ProtocolId, "/p/1"], sent);
        }
    }

    [Fact]
    public async Task Handle_Oversized_Throws()
    {
        var pair = DuplexPipePair.Create();
        var handling = MultistreamSelect.HandleAsync(pair.Right, _ => true, () => [], CancellationToken.None);
        pair.Left.Output.Write(new byte[] { 0xFF, 0x7F });
        pair.Left.Output.Write(new byte[100]);
        await pair.Left.Output.FlushAsync();
        var error = await Assert.ThrowsAsync<Libp2pException>(() => handling.WaitAsync(Wait));
        Assert.Contains("exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handle_NotMultistreamPeer_ThrowsForSelect()
    {
        var pair = DuplexPipePair.Create();
        var selecting = MultistreamSelect.SelectAsync(pair.Left, ["/p/1"], CancellationToken.None);
        pair.Right.Output.Write(MultistreamSelect.Encode("/other/9.9"));
        await pair.Right.Output.FlushAsync();
        await Assert.ThrowsAsync<Libp2pException>(() => selecting.WaitAsync(Wait));
    }

    [Fact]
    public async Task Handle_Ls_AnswersWithTheProtocolList()
    {
        var pair = DuplexPipePair.Create();
        var handling = MultistreamSelect.HandleAsync(pair.Right, p => p == "/a/1", () => ["/a/1", "/b/2"], CancellationToken.None);
        pair.Left.Output.Write(MultistreamSelect.Encode(MultistreamCodec.ProtocolId, "ls"));
        await pair.Left.Output.FlushAsync();
        var result = await pair.Left.Input.ReadAtLeastAsync(20 + 2 + 5 + 5 + 1).AsTask().WaitAsync(Wait);
        var bytes = result.Buffer.ToArray();
        var header = MultistreamSelect.Encode(MultistreamCodec.ProtocolId);
        var inner = MultistreamSelect.Encode("/a/1", "/b/2").Concat(new byte[] { (byte)'\n' }).ToArray();
        Assert.Equal(header.Concat(new[] { (byte)inner.Length }).Concat(inner).ToArray(), bytes);
        pair.Left.Input.AdvanceTo(result.Buffer.End);
        pair.Left.Output.Write(MultistreamSelect.Encode("/a/1"));
        await pair.Left.Output.FlushAsync();
        Assert.Equal("/a/1", await handling.WaitAsync(Wait));
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsMemory(0, at), 0);
        var last = first.Append(bytes.AsMemory(at));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static async Task<string[]> ReadMessagesAsync(PipeReader reader, int count)
    {
        var messages = new string[count];
        for (var i = 0; i < count; i++)
        {
            messages[i] = await MultistreamSelect.ReadMessageAsync(reader, CancellationToken.None).AsTask().WaitAsync(Wait);
        }

        return messages;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
