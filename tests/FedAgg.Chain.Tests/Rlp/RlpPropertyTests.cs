using System.Buffers;
using System.Numerics;
using FedAgg.Chain.Rlp;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Chain.Tests.Rlp;

public sealed class RlpPropertyTests
{
    private static readonly Gen<byte[]> Bytes =
        Gen.OneOf(
            Gen.Choose(0, 255).Select(b => new[] { (byte)b }),
            Gen.Choose(0, 60).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)),
            Gen.Choose(200, 1100).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)));

    internal static Gen<RlpItem> Items(int depth) =>
        depth == 0
            ? Bytes.Select(b => RlpItem.FromBytes(b))
            : Gen.Frequency(
                (3, Bytes.Select(b => RlpItem.FromBytes(b))),
                (2, Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Items(depth - 1), n)).Select(RlpItem.List)),
                (1, Gen.Choose(20, 40).SelectMany(n => Gen.ArrayOf(Bytes.Select(b => RlpItem.FromBytes(b)), n)).Select(RlpItem.List)));

    [Fact]
    public void EncodeDecode_RandomTrees_RoundTrip()
    {
        Prop.ForAll(Items(4).ToArbitrary(), item =>
        {
            var encoded = item.Encode();

            Assert.Equal(item.EncodedLength, encoded.Length);
            Assert.Equal(item, RlpItem.Decode(encoded));
            var writer = new ArrayBufferWriter<byte>();
            item.Encode(writer);
            Assert.Equal(encoded, writer.WrittenSpan.ToArray());

            // A segmented buffer decodes the same.
            Assert.Equal(RlpDecodeStatus.Done, RlpDecoder.TryDecode(Segmented(encoded), out var decoded, out _));
            Assert.Equal(item, decoded);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_TruncatedAtEveryOffsetOrWithTrailingBytes_Rejected()
    {
        Prop.ForAll(Items(3).ToArbitrary(), Gen.Choose(0, 255).ToArbitrary(), (item, extra) =>
        {
            var encoded = item.Encode();

            // Every offset of small encodings (all headers included); a few hundred spread over large ones.
            var step = Math.Max(1, encoded.Length / 400);
            for (var length = 0; length < encoded.Length; length += length < 64 ? 1 : step)
            {
                var prefix = encoded.AsSpan(0, length).ToArray();
                Assert.Throws<RlpException>(() => RlpItem.Decode(prefix));
            }

            var error = Assert.Throws<RlpException>(() => RlpItem.Decode([.. encoded, (byte)extra]));
            Assert.Equal(encoded.Length, error.Offset);
            Assert.Equal(RlpDecodeStatus.Invalid, RlpDecoder.TryDecode(new ReadOnlySequence<byte>([.. encoded, (byte)extra]), out _, out var status));
            Assert.Contains("trailing", status!.Message, StringComparison.Ordinal);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_NonCanonicalVariants_Rejected()
    {
        // Every string item re-encoded in a non-canonical but well-formed way, inside a list of canonical items.
        var cases = from before in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Bytes, n))
                    from value in Bytes
                    from variant in Gen.Choose(0, 3)
                    select (before, value, variant);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var bad = NonCanonical(c.value, c.variant);
            if (bad is null)
            {
                return;
            }

            var items = c.before.Select(b => RlpItem.FromBytes(b).Encode()).SelectMany(x => x).ToArray();
            var payload = items.Concat(bad).ToArray();
            var list = new byte[RlpEncoder.GetHeaderLength(payload.Length) + payload.Length];
            var header = RlpEncoder.WriteListHeader(payload.Length, list);
            payload.CopyTo(list, header);

            var error = Assert.Throws<RlpException>(() => RlpItem.Decode(list));
            Assert.Equal(header + items.Length, error.Offset);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ReadInteger_LeadingZeroVariants_Rejected()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (value, zeros) =>
        {
            var minimal = RlpItem.FromInteger((ulong)value).Bytes.ToArray();
            var padded = RlpItem.FromBytes([.. new byte[zeros], .. minimal]).Encode();

            Assert.Equal((ulong)value, new RlpReader(RlpItem.FromInteger((ulong)value).Encode()).ReadUInt64());
            Assert.Throws<RlpException>(() => new RlpReader(padded).ReadUInt64());
            Assert.Throws<RlpException>(() => new RlpReader(padded).ReadBigInteger());
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_RandomBytes_OnlyEverThrowsRlpException()
    {
        var inputs = Gen.OneOf(
            Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)),
            Items(3).SelectMany(item => Gen.Choose(0, 255).Select(flip => Mutate(item.Encode(), flip))));
        Prop.ForAll(inputs.ToArbitrary(), bytes =>
        {
            try
            {
                var item = RlpItem.Decode(bytes);
                Assert.Equal(bytes, item.Encode());
            }
            catch (RlpException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Encode_Integers_AreMinimalBigEndian()
    {
        Prop.ForAll(Gen.Choose(0, 255).SelectMany(a => Gen.Choose(0, 64).Select(shift => ((ulong)a) << shift)).ToArbitrary(), value =>
        {
            var fromUlong = new byte[RlpEncoder.GetIntegerLength(value)];
            RlpEncoder.WriteInteger(value, fromUlong);
            var fromBig = new byte[RlpEncoder.GetIntegerLength(new BigInteger(value))];
            RlpEncoder.WriteInteger(new BigInteger(value), fromBig);

            Assert.Equal(fromUlong, fromBig);
            Assert.Equal(fromUlong, RlpItem.FromInteger(value).Encode());
            Assert.Equal(value, new RlpReader(fromUlong).ReadUInt64());
        }).QuickCheckThrowOnFailure();
    }

    private static byte[]? NonCanonical(byte[] value, int variant)
    {
        switch (variant)
        {
            case 0 when value.Length == 1 && value[0] < 0x80:
                return [0x81, value[0]]; // single byte wrapped in a header
            case 1 when value.Length < 56:
                return [0xB8, (byte)value.Length, .. value]; // long form for a short string
            case 2 when value.Length >= 56:
                {
                    // The length with a leading zero byte.
                    var length = BitConverter.GetBytes((uint)value.Length).Reverse().SkipWhile(b => b == 0).ToArray();
                    return [(byte)(0xB7 + length.Length + 1), 0x00, .. length, .. value];
                }

            case 3 when value.Length >= 56 && value.Length < 256:
                return [0xB9, 0x00, (byte)value.Length, .. value];
            default:
                return null;
        }
    }

    private static byte[] Mutate(byte[] encoded, int seed)
    {
        var copy = (byte[])encoded.Clone();
        if (copy.Length > 0)
        {
            copy[seed % copy.Length] ^= (byte)(1 << (seed % 8));
        }

        return copy;
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes)
    {
        if (bytes.Length < 2)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, bytes.Length / 2), 0);
        var last = first.Append(bytes.AsMemory(bytes.Length / 2));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
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
