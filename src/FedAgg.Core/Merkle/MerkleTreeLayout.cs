namespace FedAgg.Core.Merkle;

/// <summary>
/// The array layout of <c>@openzeppelin/merkle-tree</c>'s <c>core.js</c>: a complete binary tree of 2n − 1 nodes,
/// node i's children at 2i + 1 and 2i + 2, the n leaves filling the end of the array in reverse order.
/// </summary>
internal static class MerkleTreeLayout
{
    public static bool IsLeaf(int treeLength, int index) => index >= 0 && index < treeLength && (2L * index) + 1 >= treeLength;

    /// <summary>Leaf i (in the given order) goes to position length − 1 − i; inner nodes hash their children.</summary>
    public static Bytes32[] Build(ReadOnlySpan<Bytes32> leaves)
    {
        var tree = new Bytes32[(2 * leaves.Length) - 1];
        for (var i = 0; i < leaves.Length; i++)
        {
            tree[tree.Length - 1 - i] = leaves[i];
        }

        for (var i = tree.Length - 1 - leaves.Length; i >= 0; i--)
        {
            tree[i] = MerkleProof.HashPair(tree[(2 * i) + 1], tree[(2 * i) + 2]);
        }

        return tree;
    }

    public static Bytes32[] GetProof(ReadOnlySpan<Bytes32> tree, int index)
    {
        var depth = 0;
        for (var i = index; i > 0; i = (i - 1) / 2)
        {
            depth++;
        }

        var proof = new Bytes32[depth];
        for (var level = 0; index > 0; level++, index = (index - 1) / 2)
        {
            proof[level] = tree[Sibling(index)];
        }

        return proof;
    }

    /// <summary>
    /// getMultiProof of <c>core.js</c>: <paramref name="indices"/> are distinct leaf positions sorted descending,
    /// processed as a queue, each step pairing the head with its sibling (taken from the queue when it is next
    /// there, else from the tree into the proof) and queueing the parent.
    /// </summary>
    public static (Bytes32[] Proof, bool[] ProofFlags) GetMultiProof(ReadOnlySpan<Bytes32> tree, ReadOnlySpan<int> indices)
    {
        var queue = new int[tree.Length + indices.Length];
        var head = 0;
        var tail = 0;
        foreach (var index in indices)
        {
            queue[tail++] = index;
        }

        var proof = new List<Bytes32>();
        var flags = new List<bool>();
        while (head < tail && queue[head] > 0)
        {
            var index = queue[head++];
            var sibling = Sibling(index);
            if (head < tail && queue[head] == sibling)
            {
                flags.Add(true);
                head++;
            }
            else
            {
                flags.Add(false);
                proof.Add(tree[sibling]);
            }

            queue[tail++] = (index - 1) / 2;
        }

        if (indices.Length == 0)
        {
            proof.Add(tree[0]);
        }

        return (proof.ToArray(), flags.ToArray());
    }

    /// <summary>The first inner node that is not the hash of its children, −1 for none; the length must be odd.</summary>
    public static int FindInconsistentNode(ReadOnlySpan<Bytes32> tree)
    {
        for (var i = (tree.Length / 2) - 1; i >= 0; i--)
        {
            if (tree[i] != MerkleProof.HashPair(tree[(2 * i) + 1], tree[(2 * i) + 2]))
            {
                return i;
            }
        }

        return -1;
    }

    private static int Sibling(int index) => index % 2 == 1 ? index + 1 : index - 1;
}
