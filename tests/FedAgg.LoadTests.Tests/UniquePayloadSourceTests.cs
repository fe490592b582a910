using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.LoadTests.Scenarios;

namespace FedAgg.LoadTests.Tests;

public sealed class UniquePayloadSourceTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(64)]
    [InlineData(1 << 20)]
    public void Next_Hash_EqualsOneShotSha256OfThePayload(int bytes)
    {
        using var source = new UniquePayloadSource(Template(bytes), slots: 3);

        for (var i = 0; i < 20; i++)
        {
            var (payload, sha256) = source.Next(i % 3);

            Assert.Equal(bytes, payload.Length);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(payload)), Convert.ToHexString(sha256));
        }
    }

    [Fact]
    public void Next_ManyCalls_GivesDistinctFinitePayloadsThatDifferFromTheTemplateOnlyAtTheTail()
    {
        var template = Template(4096);
        using var source = new UniquePayloadSource(template, slots: 1);
        var hashes = new HashSet<string>(StringComparer.Ordinal);

        for (var i = 0; i < 3000; i++)
        {
            var (payload, sha256) = source.Next(0);

            Assert.True(hashes.Add(Convert.ToHexString(sha256)), $"payload {i} repeats an earlier one");
            Assert.True(payload.AsSpan(0, payload.Length - UniquePayloadSource.UniqueTailBytes).SequenceEqual(template.AsSpan(0, template.Length - UniquePayloadSource.UniqueTailBytes)));
            foreach (var value in MemoryMarshal.Cast<byte, float>(payload.AsSpan()))
            {
                Assert.True(float.IsFinite(value));
            }
        }
    }

    [Fact]
    public void Next_Slots_HaveTheirOwnBuffers()
    {
        using var source = new UniquePayloadSource(Template(64), slots: 2);

        var (first, firstHash) = source.Next(0);
        var (second, _) = source.Next(1);

        Assert.NotSame(first, second);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(first)), Convert.ToHexString(firstHash));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Constructor_TemplateNotWholeFloats_Throws(int bytes) =>
        Assert.Throws<ArgumentException>(() => new UniquePayloadSource(new byte[bytes], 1));

    private static byte[] Template(int bytes)
    {
        var template = new byte[bytes];
        var values = MemoryMarshal.Cast<byte, float>(template.AsSpan());
        var random = new Random(bytes);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() - 0.5);
        }

        return template;
    }
}
