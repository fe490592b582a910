using System.Buffers;
using System.Globalization;
using System.Text;
using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Processes;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Libp2p.Tests.Yamux;

public class YamuxFrameCodecTests
{
    private const uint Limit = 256 * 1024;

    [Fact]
    public void WriteHeader_KnownFrame_MatchesSpecLayout()
    {
        var writer = new ArrayBufferWriter<byte>();

        YamuxFrameCodec.WriteFrame(writer, new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.Syn | YamuxFlags.Ack, 0x01020304, 3), [7, 8, 9]);

        Assert.Equal(Convert.FromHexString("0000" + "0003" + "01020304" + "00000003" + "070809"), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void TryReadFrame_RandomFrames_RoundTrip()
    {
        var frames = FrameGen().ToArbitrary();
        Prop.ForAll(frames, frame =>
        {
            var bytes = Encode([frame]);
            var status = YamuxFrameCodec.TryReadFrame(new ReadOnlySequence<byte>(bytes), Limit, out var header, out var payload, out var consumed, out var error);
            return status == YamuxDecodeStatus.Complete && error == YamuxFrameError.None && header == frame.Header
                && consumed == bytes.Length && payload.ToArray().AsSpan().SequenceEqual(frame.Payload);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryReadFrame_EverySplitOffset_DecodesSameFrames()
    {
        var frames = SampleFrames();
        var bytes = Encode(frames);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var sequence = Segmented(bytes, split);
            Assert.Equal(frames.Select(f => (f.Header, f.Payload)), DecodeAll(sequence, out var rest), FrameComparer.Instance);
            Assert.Equal(0, rest);
        }
    }

    [Fact]
    public void TryReadFrame_OneByteAtATime_DecodesSameFrames()
    {
        var frames = SampleFrames();
        var bytes = Encode(frames);
        var decoded = new List<(YamuxFrameHeader, byte[])>();
        var pending = new List<byte>();
        foreach (var b in bytes)
        {
            pending.Add(b);
            var status = YamuxFrameCodec.TryReadFrame(new ReadOnlySequence<byte>(pending.ToArray()), Limit, out var header, out var payload, out var consumed, out _);
            Assert.NotEqual(YamuxDecodeStatus.Invalid, status);
            if (status == YamuxDecodeStatus.Complete)
            {
                decoded.Add((header, payload.ToArray()));
                pending.RemoveRange(0, (int)consumed);
            }
        }

        Assert.Empty(pending);
        Assert.Equal(frames.Select(f => (f.Header, f.Payload)), decoded, FrameComparer.Instance);
    }

    [Fact]
    public void TryReadFrame_EveryStrictPrefix_NeedsMoreData()
    {
        foreach (var frame in SampleFrames())
        {
            var bytes = Encode([frame]);
            for (var length = 0; length < bytes.Length; length++)
            {
                var status = YamuxFrameCodec.TryReadFrame(new ReadOnlySequence<byte>(bytes, 0, length), Limit, out _, out _, out var consumed, out _);
                Assert.Equal(YamuxDecodeStatus.NeedMoreData, status);
                Assert.Equal(0, consumed);
            }
        }
    }

    [Theory]
    [InlineData("010000000000000100000000", (int)YamuxFrameError.UnsupportedVersion)]
    [InlineData("ff0100000000000100000000", (int)YamuxFrameError.UnsupportedVersion)]
    [InlineData("000400000000000100000000", (int)YamuxFrameError.UnknownFrameType)]
    [InlineData("00ff00000000000000000000", (int)YamuxFrameError.UnknownFrameType)]
    [InlineData("000000000000000100040001", (int)YamuxFrameError.LengthExceedsLimit)]
    [InlineData("0000000000000001ffffffff", (int)YamuxFrameError.LengthExceedsLimit)]
    public void TryReadHeader_InvalidHeader_ReportsError(string hex, int expectedError)
    {
        var expected = (YamuxFrameError)expectedError;
        var status = YamuxFrameCodec.TryReadHeader(new ReadOnlySequence<byte>(Convert.FromHexString(hex)), Limit, out var header, out var error);

        Assert.Equal(YamuxDecodeStatus.Invalid, status);
        Assert.Equal(expected, error);
        Assert.Equal(hex.StartsWith("00ff", StringComparison.Ordinal) ? 0u : 1u, header.StreamId);
    }

    [Theory]
    [InlineData((int)YamuxFrameType.WindowUpdate)]
    [InlineData((int)YamuxFrameType.Ping)]
    [InlineData((int)YamuxFrameType.GoAway)]
    public void TryReadHeader_NonDataLengthOverLimit_IsNotPayload(int type)
    {
        var bytes = Encode([(new YamuxFrameHeader((YamuxFrameType)type, YamuxFlags.None, 1, uint.MaxValue), [])]);

        var status = YamuxFrameCodec.TryReadFrame(new ReadOnlySequence<byte>(bytes), Limit, out var header, out var payload, out var consumed, out _);

        Assert.Equal(YamuxDecodeStatus.Complete, status);
        Assert.Equal(uint.MaxValue, header.Length);
        Assert.Equal(0, payload.Length);
        Assert.Equal(12, consumed);
    }

    [Fact]
    public void TryReadFrame_RandomBytes_NeverThrowsAndAgreesWithReEncoding()
    {
        var bytes = ArbMap.Default.GeneratorFor<byte[]>().ToArbitrary();
        Prop.ForAll(bytes, input =>
        {
            var status = YamuxFrameCodec.TryReadFrame(new ReadOnlySequence<byte>(input), 64, out var header, out var payload, out var consumed, out var error);
            switch (status)
            {
                case YamuxDecodeStatus.NeedMoreData:
                    return consumed == 0 && (input.Length < 12 || (input[0] == 0 && input[1] == 0 && header.Length <= 64 && input.Length < 12 + header.Length));
                case YamuxDecodeStatus.Invalid:
                    return error != YamuxFrameError.None && input.Length >= 12;
                default:
                    var again = Encode([(header, payload.ToArray())]);
                    return input.AsSpan(0, (int)consumed).SequenceEqual(again);
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    [Trait("Category", "Interop")]
    public async Task WriteHeader_RandomHeaders_MatchJsLibp2pYamux()
    {
        var random = new Random(20250101);
        var headers = Enumerable.Range(0, 200).Select(_ => new YamuxFrameHeader(
            (YamuxFrameType)random.Next(4), (YamuxFlags)random.Next(16), (uint)random.NextInt64(uint.MaxValue + 1L), (uint)random.NextInt64(uint.MaxValue + 1L))).ToList();
        var input = new StringBuilder();
        foreach (var h in headers)
        {
            input.Append(CultureInfo.InvariantCulture, $"{(byte)h.Type} {(ushort)h.Flags} {h.StreamId} {h.Length}\n");
        }

        // js encodes the same headers; js decodes ours (its decodeHeader checks the version).
        const string Script = """
            import fs from 'node:fs';
            import { encodeHeader } from './node_modules/@chainsafe/libp2p-yamux/dist/src/encode.js';
            import { decodeHeader } from './node_modules/@chainsafe/libp2p-yamux/dist/src/decode.js';
            const out = [];
            for (const line of fs.readFileSync(0, 'utf8').trim().split('\n')) {
              const [type, flag, streamID, length] = line.split(' ').map(Number);
              const bytes = encodeHeader({ type, flag, streamID, length });
              const back = decodeHeader(bytes);
              out.push(Buffer.from(bytes).toString('hex') + ' ' + [back.type, back.flag, back.streamID, back.length].join(','));
            }
            process.stdout.write(out.join('\n'));
            """;
        var lines = (await NodeRunner.RunModuleAsync(Script, input.ToString())).Split('\n');

        Assert.Equal(headers.Count, lines.Length);
        for (var i = 0; i < headers.Count; i++)
        {
            var ours = new byte[12];
            headers[i].Write(ours);
            var parts = lines[i].Split(' ');
            Assert.Equal(Convert.ToHexString(ours).ToLowerInvariant(), parts[0]);
            var h = headers[i];
            Assert.Equal($"{(byte)h.Type},{(ushort)h.Flags},{h.StreamId},{h.Length}", parts[1]);
        }
    }

    internal static Gen<(YamuxFrameHeader Header, byte[] Payload)> FrameGen() =>
        from type in Gen.Elements(YamuxFrameType.Data, YamuxFrameType.WindowUpdate, YamuxFrameType.Ping, YamuxFrameType.GoAway)
        from flags in Gen.Choose(0, 15)
        from id in ArbMap.Default.GeneratorFor<uint>()
        from length in ArbMap.Default.GeneratorFor<uint>()
        from payload in Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n))
        select type == YamuxFrameType.Data
            ? (new YamuxFrameHeader(type, (YamuxFlags)flags, id, (uint)payload.Length), payload)
            : (new YamuxFrameHeader(type, (YamuxFlags)flags, id, length), Array.Empty<byte>());

    private static List<(YamuxFrameHeader Header, byte[] Payload)> SampleFrames() =>
    [
        (new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0), []),
        (new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.None, 1, 5), [1, 2, 3, 4, 5]),
        (new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.Fin, 1, 0), []),
        (new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, 0xdeadbeef), []),
        (new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.Ack, 2, 40), Enumerable.Range(0, 40).Select(i => (byte)i).ToArray()),
        (new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, 1), []),
    ];

    private static byte[] Encode(IEnumerable<(YamuxFrameHeader Header, byte[] Payload)> frames)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var (header, payload) in frames)
        {
            YamuxFrameCodec.WriteFrame(writer, header, payload);
        }

        return writer.WrittenSpan.ToArray();
    }

    private static List<(YamuxFrameHeader Header, byte[] Payload)> DecodeAll(ReadOnlySequence<byte> sequence, out long rest)
    {
        var frames = new List<(YamuxFrameHeader, byte[])>();
        while (YamuxFrameCodec.TryReadFrame(sequence, Limit, out var header, out var payload, out var consumed, out _) == YamuxDecodeStatus.Complete)
        {
            frames.Add((header, payload.ToArray()));
            sequence = sequence.Slice(consumed);
        }

        rest = sequence.Length;
        return frames;
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int split)
    {
        var first = new Segment(bytes.AsMemory(0, split));
        var last = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    private sealed class FrameComparer : IEqualityComparer<(YamuxFrameHeader, byte[])>
    {
        public static readonly FrameComparer Instance = new();

        public bool Equals((YamuxFrameHeader, byte[]) x, (YamuxFrameHeader, byte[]) y) => x.Item1 == y.Item1 && x.Item2.AsSpan().SequenceEqual(y.Item2);

        public int GetHashCode((YamuxFrameHeader, byte[]) obj) => obj.Item1.GetHashCode();
    }
}
