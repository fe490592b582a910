using System.Globalization;
using System.Numerics;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>A credits tree built with FedAgg.Core's <see cref="StandardMerkleTree.ForCredits"/>, with cast-ready proofs.</summary>
public sealed class CreditsTree
{
    private readonly (string Address, BigInteger Amount)[] _credits;

    public CreditsTree(IEnumerable<(string Address, BigInteger Amount)> credits)
    {
        _credits = [.. credits.Select(c => (c.Address.ToLowerInvariant(), c.Amount))];
        Tree = StandardMerkleTree.ForCredits(_credits.Select(c => ((ReadOnlyMemory<byte>)Convert.FromHexString(c.Address[2..]), c.Amount)));
    }

    public StandardMerkleTree Tree { get; }

    public string Root => Tree.Root.ToString();

    /// <summary>The cumulative amount of <paramref name="address"/> as a decimal cast argument.</summary>
    public string AmountOf(string address) => _credits[IndexOf(address)].Amount.ToString(CultureInfo.InvariantCulture);

    /// <summary>The proof of <paramref name="address"/>'s leaf as a cast array argument.</summary>
    public string ProofOf(string address) => LedgerFixture.Array(ProofHashesOf(address));

    public string[] ProofHashesOf(string address) => [.. Tree.GetProof(IndexOf(address)).Select(h => h.ToString())];

    /// <summary><paramref name="count"/> distinct addresses derived from <paramref name="label"/> (the last 20 bytes of a keccak hash).</summary>
    public static string[] Addresses(string label, int count)
    {
        var addresses = new string[count];
        for (var i = 0; i < count; i++)
        {
            var hash = Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"{label}-{i}"));
            addresses[i] = "0x" + Convert.ToHexStringLower(hash.AsSpan(12));
        }

        return addresses;
    }

    private int IndexOf(string address)
    {
        var lower = address.ToLowerInvariant();
        var index = Array.FindIndex(_credits, c => c.Address == lower);
        return index >= 0 ? index : throw new ArgumentException($"{address} is not in the tree.", nameof(address));
    }
}
