namespace FedAgg.Core.Merkle;

/// <summary>
/// Proof checking as OpenZeppelin's <c>MerkleProof.sol</c> and <c>@openzeppelin/merkle-tree</c> do it: every inner
/// node is the Keccak-256 of its two children sorted ascending, so a proof needs no left/right flags.
/// </summary>
public static class MerkleProof
{
    /// <summary>Keccak-256 of the two hashes concatenated smaller first (OpenZeppelin's <c>commutativeKeccak256</c>).</summary>
    /// <param name="a">One child.</param>
    /// <param name="b">The other child.</param>
    public static Bytes32 HashPair(Bytes32 a, Bytes32 b)
    {
        Span<byte> pair = stackalloc byte[2 * Bytes32.Size];
        var (first, second) = a <= b ? (a, b) : (b, a);
        first.AsSpan().CopyTo(pair);
        second.AsSpan().CopyTo(pair[Bytes32.Size..]);
        return Keccak256.HashToBytes32(pair);
    }

    /// <summary>The root reached from <paramref name="leaf"/> by hashing in each proof element in turn.</summary>
    /// <param name="leaf">The leaf hash.</param>
    /// <param name="proof">The sibling hashes from the leaf up.</param>
    public static Bytes32 ProcessProof(Bytes32 leaf, ReadOnlySpan<Bytes32> proof)
    {
        var node = leaf;
        foreach (var sibling in proof)
        {
            node = HashPair(node, sibling);
        }

        return node;
    }

    /// <summary>Whether <paramref name="proof"/> leads from <paramref name="leaf"/> to <paramref name="root"/>.</summary>
    /// <param name="root">The expected root.</param>
    /// <param name="leaf">The leaf hash.</param>
    /// <param name="proof">The sibling hashes from the leaf up.</param>
    public static bool Verify(Bytes32 root, Bytes32 leaf, ReadOnlySpan<Bytes32> proof) => ProcessProof(leaf, proof) == root;

    /// <summary>The root a multiproof leads to.</summary>
    /// <param name="multiProof">The multiproof.</param>
    /// <exception cref="ArgumentException">
    /// The counts do not fit together (leaves + proof ≠ flags + 1, or fewer proof elements than false flags) or a
    /// step runs out of operands; OpenZeppelin rejects the same proofs.
    /// </exception>
    public static Bytes32 ProcessMultiProof(MerkleMultiProof multiProof)
    {
        ArgumentNullException.ThrowIfNull(multiProof);
        var error = TryProcessMultiProof(multiProof, out var root);
        return error is null ? root : throw new ArgumentException(error, nameof(multiProof));
    }

    /// <summary>
    /// Whether <paramref name="multiProof"/> leads to <paramref name="root"/>; <see langword="false"/> also for a
    /// malformed proof (where <see cref="ProcessMultiProof"/> throws), since proofs come from other parties.
    /// </summary>
    /// <param name="root">The expected root.</param>
    /// <param name="multiProof">The multiproof.</param>
    public static bool VerifyMultiProof(Bytes32 root, MerkleMultiProof multiProof)
    {
        ArgumentNullException.ThrowIfNull(multiProof);
        return TryProcessMultiProof(multiProof, out var computed) is null && computed == root;
    }

    // Returns why the proof is malformed, or null. Mirrors processMultiProof in the npm package step for step:
    // a queue of hashes, each step consuming its head and either the next queued hash or the next proof element.
    private static string? TryProcessMultiProof(MerkleMultiProof multiProof, out Bytes32 root)
    {
        root = default;
        var leaves = multiProof.Leaves;
        var proof = multiProof.Proof;
        var flags = multiProof.ProofFlags;
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(flags);

        var falseFlags = 0;
        foreach (var flag in flags)
        {
            falseFlags += flag ? 0 : 1;
        }

        if (proof.Count < falseFlags)
        {
            return $"Invalid multiproof format: {falseFlags} steps take a proof element but the proof has {proof.Count}.";
        }

        if ((long)leaves.Count + proof.Count != (long)flags.Count + 1)
        {
            return $"Provided leaves and multiproof are not compatible: {leaves.Count} leaves + {proof.Count} proof elements should be {flags.Count} flags + 1.";
        }

        var queue = new Bytes32[leaves.Count + flags.Count];
        var head = 0;
        var tail = 0;
        foreach (var leaf in leaves)
        {
            queue[tail++] = leaf;
        }

        var proofPosition = 0;
        foreach (var flag in flags)
        {
            if (head == tail || (flag ? head + 1 == tail : proofPosition == proof.Count))
            {
                return "Invalid multiproof: a step has no operand left.";
            }

            var a = queue[head++];
            var b = flag ? queue[head++] : proof[proofPosition++];
            queue[tail++] = HashPair(a, b);
        }

        var remaining = (tail - head) + (proof.Count - proofPosition);
        if (remaining != 1)
        {
            return $"Invalid multiproof: {remaining} hashes are left instead of one root.";
        }

        root = head < tail ? queue[tail - 1] : proof[proofPosition];
        return null;
    }
}
