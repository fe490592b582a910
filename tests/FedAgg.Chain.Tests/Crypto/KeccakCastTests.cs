using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;

namespace FedAgg.Chain.Tests.Crypto;

/// <summary>Keccak-256 of random inputs (lengths around the 136-byte rate) equals <c>cast keccak</c>.</summary>
[Trait("Category", "Chain")]
public sealed class KeccakCastTests
{
    [Fact]
    public void Hash_RandomInputs_EqualsCastKeccak()
    {
        var random = new Random(20261130);
        foreach (var length in new[] { 0, 1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 1000, 4096 })
        {
            var input = new byte[length];
            random.NextBytes(input);
            var hex = "0x" + Convert.ToHexStringLower(input);

            var ours = "0x" + Convert.ToHexStringLower(Keccak256.Hash(input));

            Assert.Equal(Foundry.Cast("keccak", hex), ours);
        }
    }
}
