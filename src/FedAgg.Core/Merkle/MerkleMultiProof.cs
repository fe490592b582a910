namespace FedAgg.Core.Merkle;

/// <summary>
/// A proof that several leaves are in one tree, in the form OpenZeppelin's <c>MerkleProof.multiProofVerify</c> takes:
/// the leaves in the order the proof consumes them (by tree position, deepest last-index first), the sibling
/// hashes the verifier cannot compute itself, and one flag per hashing step (<see langword="true"/>: the second
/// operand is the next computed hash; <see langword="false"/>: the next element of <see cref="Proof"/>).
/// </summary>
/// <param name="Leaves">The leaf hashes, in the order the proof consumes them.</param>
/// <param name="Proof">The sibling hashes the verifier needs.</param>
/// <param name="ProofFlags">One flag per hashing step.</param>
public record MerkleMultiProof(IReadOnlyList<Bytes32> Leaves, IReadOnlyList<Bytes32> Proof, IReadOnlyList<bool> ProofFlags);

/// <summary>A <see cref="MerkleMultiProof"/> from a <see cref="StandardMerkleTree"/>, naming the values its leaves hold.</summary>
/// <param name="LeafValueIndices">For each of <see cref="MerkleMultiProof.Leaves"/>, the index of its value in the tree.</param>
/// <param name="Leaves">The leaf hashes, in the order the proof consumes them.</param>
/// <param name="Proof">The sibling hashes the verifier needs.</param>
/// <param name="ProofFlags">One flag per hashing step.</param>
public sealed record StandardMerkleMultiProof(
    IReadOnlyList<int> LeafValueIndices, IReadOnlyList<Bytes32> Leaves, IReadOnlyList<Bytes32> Proof, IReadOnlyList<bool> ProofFlags)
    : MerkleMultiProof(Leaves, Proof, ProofFlags);
