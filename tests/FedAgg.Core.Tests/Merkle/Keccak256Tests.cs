using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Core.Tests.Merkle;

public class Keccak256Tests
{
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void Hash_PublishedVector_Matches(string input, string expectedHex)
    {
        var data = Encoding.ASCII.GetBytes(input);

        Assert.Equal(expectedHex, Convert.ToHexStringLower(Keccak256.Hash(data)));
        Assert.Equal("0x" + expectedHex, Keccak256.HashToBytes32(data).ToString());
    }

    [Fact]
    public void Hash_EmptyInput_IsNotSha3()
    {
        // SHA3-256("") differs only by the padding byte; Ethereum's Keccak must not produce it.
        Assert.NotEqual("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", Convert.ToHexStringLower(Keccak256.Hash([])));
    }

    [Fact]
    public void Hash_LongInputAcrossRateBoundaries_MatchesArrayOverload()
    {
        // 136 bytes is the Keccak-256 rate: lengths around its multiples exercise the padding paths.
        var random = new Random(7);
        Span<byte> destination = stackalloc byte[40];
        foreach (var length in new[] { 1, 135, 136, 137, 271, 272, 273, 10_000 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            destination.Fill(0xEE);

            Keccak256.Hash(data, destination);

            Assert.Equal(Keccak256.Hash(data), destination[..32].ToArray());
            Assert.True(destination[32..].ToArray().All(b => b == 0xEE), "bytes after the hash must be untouched");
        }
    }

    [Fact]
    public void Hash_DestinationOverlapsInput_HashesOriginalInput()
    {
        var buffer = Encoding.ASCII.GetBytes("abc".PadRight(32, '\0'));
        var expected = Keccak256.Hash(buffer);

        Keccak256.Hash(buffer, buffer);

        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void Hash_DestinationTooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => Keccak256.Hash([1, 2, 3], new byte[31]));
    }

    [Fact]
    public async Task Hash_ManyThreads_SameResults()
    {
        var data = Encoding.ASCII.GetBytes("abc");
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            var last = Array.Empty<byte>();
            for (var i = 0; i < 1000; i++)
            {
                last = Keccak256.Hash(data);
            }

            return Convert.ToHexStringLower(last);
        })));

        Assert.All(results, r => Assert.Equal("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", r));
    }
}
