using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Core.Updates;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Core.Tests.Updates;

public sealed class UpdatePreimageTests
{
    [Fact]
    public void Encode_MatchesProtocolTableLayout()
    {
        var p = UpdateSamples.Preimage(taskId: "tâsk");

        // Assembled field by field from docs/PROTOCOL.md's table, independently of the encoder.
        var expected = new List<byte>();
        expected.AddRange("FEDAGG-UPDATE-V1"u8.ToArray());
        expected.AddRange(BigEndian(31337));
        expected.AddRange(p.Ledger.ToArray());
        var task = Encoding.UTF8.GetBytes("tâsk");
        expected.Add(0);
        expected.Add((byte)task.Length);
        expected.AddRange(task);
        expected.AddRange(BigEndian(3));
        expected.AddRange(p.BaseModelHash.ToArray());
        expected.Add(0);
        expected.AddRange(BigEndian(1000));
        expected.AddRange(p.PayloadSha256.ToArray());
        expected.AddRange(BigEndian(6000));
        expected.AddRange(p.Nonce.ToArray());
        expected.AddRange(BigEndian(2_000_000_000_000));

        var encoded = p.Encode();

        Assert.Equal(expected.ToArray(), encoded);
        Assert.Equal(UpdatePreimage.FixedLength + 5, encoded.Length);
        Assert.Equal(SHA256.HashData(expected.ToArray()), UpdatePreimage.ComputeUpdateId(encoded));
    }

    [Fact]
    public void TryParse_RandomPreimages_RoundTrip()
    {
        var taskIds = Gen.Elements("a", "task-1", "fashion-mnist/mlp", new string('x', 128), "模型", "ünïcödé-🙂");
        var samples =
            from taskId in taskIds
            from round in Gen.Choose(1, int.MaxValue)
            from codec in Gen.Choose(0, 2)
            from high in Gen.Choose(int.MinValue, int.MaxValue)
            from low in Gen.Choose(int.MinValue, int.MaxValue)
            select (taskId, round, codec, number: ((ulong)(uint)high << 32) | (uint)low);
        var property = Prop.ForAll(
            samples.ToArbitrary(),
            sample =>
            {
                var (taskId, round, codec, number) = sample;
                var random = new Random(round);
                var p = new UpdatePreimage
                {
                    ChainId = number,
                    Ledger = RandomBytes(random, 20),
                    TaskId = taskId,
                    Round = (ulong)round,
                    BaseModelHash = RandomBytes(random, 32),
                    Codec = (PayloadCodec)codec,
                    NumElements = number ^ 0x5555,
                    PayloadSha256 = RandomBytes(random, 32),
                    NumSamples = number >> 3,
                    Nonce = RandomBytes(random, 16),
                    ExpiresUnixMs = ~number,
                };
                var encoded = p.Encode();
                return encoded.Length == p.GetEncodedLength()
                    && UpdatePreimage.TryParse(encoded, out var parsed, out _)
                    && parsed.Equals(p)
                    && parsed.Encode().AsSpan().SequenceEqual(encoded);
            });
        property.QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryParse_EveryTruncationAndOneExtraByte_Rejected()
    {
        var encoded = UpdateSamples.Preimage().Encode();
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.False(UpdatePreimage.TryParse(encoded.AsSpan(0, length), out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
        }

        Assert.False(UpdatePreimage.TryParse([.. encoded, 0], out _, out _));
    }

    [Fact]
    public void TryParse_RandomAndMutatedBytes_NeverThrow()
    {
        var random = new Random(13);
        var valid = UpdateSamples.Preimage().Encode();
        var buffer = new byte[UpdatePreimage.MaxLength + 40];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            _ = UpdatePreimage.TryParse(buffer.AsSpan(0, random.Next(buffer.Length)), out _, out _);

            var mutated = (byte[])valid.Clone();
            mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            if (UpdatePreimage.TryParse(mutated, out var parsed, out _))
            {
                Assert.Equal(mutated, parsed.Encode());
            }
        }
    }

    [Theory]
    [InlineData(0, 0, "does not start")]
    [InlineData(44, 0, "task ID length")]
    [InlineData(44, 0xFF, "task ID length")]
    public void TryParse_BadHeaderFields_ExplainWhy(int offset, byte value, string expected)
    {
        var encoded = UpdateSamples.Preimage().Encode();
        encoded[offset] = value;
        if (offset == 44)
        {
            encoded[45] = value;
        }

        Assert.False(UpdatePreimage.TryParse(encoded, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_UnknownCodecRoundZeroAndBadUtf8_Rejected()
    {
        var p = UpdateSamples.Preimage(taskId: "abc");
        var encoded = p.Encode();
        var at = 46 + 3;

        var codec = (byte[])encoded.Clone();
        codec[at + 40] = 3;
        Assert.False(UpdatePreimage.TryParse(codec, out _, out var codecError));
        Assert.Contains("codec", codecError, StringComparison.Ordinal);

        var round = (byte[])encoded.Clone();
        BinaryPrimitives.WriteUInt64BigEndian(round.AsSpan(at), 0);
        Assert.False(UpdatePreimage.TryParse(round, out _, out var roundError));
        Assert.Contains("round 0", roundError, StringComparison.Ordinal);

        var utf8 = (byte[])encoded.Clone();
        utf8[46] = 0xC3;
        utf8[47] = 0x28;
        Assert.False(UpdatePreimage.TryParse(utf8, out _, out var utf8Error));
        Assert.Contains("UTF-8", utf8Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_OutOfRangeFields_Throw()
    {
        Assert.Throws<ArgumentException>(() => UpdateSamples.Preimage(taskId: "").Encode());
        Assert.Throws<ArgumentException>(() => UpdateSamples.Preimage(taskId: new string('x', 129)).Encode());
        Assert.Throws<ArgumentException>(() => UpdateSamples.Preimage(round: 0).Encode());
        Assert.Throws<ArgumentException>(() => (UpdateSamples.Preimage() with { Ledger = new byte[19] }).Encode());
        Assert.Throws<ArgumentException>(() => (UpdateSamples.Preimage() with { Codec = (PayloadCodec)7 }).Encode());
    }

    [Theory]
    [InlineData(PayloadCodec.Float32, 10UL, 40L)]
    [InlineData(PayloadCodec.Float16, 10UL, 20L)]
    [InlineData(PayloadCodec.BFloat16, 10UL, 20L)]
    [InlineData(PayloadCodec.Float32, ulong.MaxValue, null)]
    public void PayloadLength_IsElementsTimesSizeOrNullOnOverflow(PayloadCodec codec, ulong elements, long? expected) =>
        Assert.Equal(expected, UpdateSamples.Preimage(codec: codec, numElements: elements).PayloadLength);

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
