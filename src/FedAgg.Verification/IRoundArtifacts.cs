using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;

namespace FedAgg.Verification;

/// <summary>Float32 tensors read from a store: their layout and the concatenated vector.</summary>
/// <param name="Tensors">The tensors in order.</param>
/// <param name="Values">Every tensor flattened and concatenated in order.</param>
public sealed record TensorData(IReadOnlyList<TensorSpec> Tensors, float[] Values);

/// <summary>
/// Where a verifier finds one round's published artefacts. Implementations return what is stored, unchecked: the
/// verifier recomputes every hash.
/// </summary>
public interface IRoundArtifacts
{
    /// <summary>The task the verifier was asked about.</summary>
    string TaskId { get; }

    /// <summary>The round the verifier was asked about.</summary>
    ulong Round { get; }

    /// <summary>The round's manifest.</summary>
    /// <exception cref="FormatException">The manifest is not valid.</exception>
    /// <exception cref="IOException">It cannot be read (<see cref="FileNotFoundException"/> when there is none).</exception>
    Task<RoundManifest> ReadManifestAsync(CancellationToken cancellationToken);

    /// <summary>The previous round's manifest, or null when there is none (round 1) or it is not available.</summary>
    /// <exception cref="FormatException">The manifest exists but is not valid.</exception>
    Task<RoundManifest?> ReadPreviousManifestAsync(CancellationToken cancellationToken);

    /// <summary>A readable, seekable stream over an update's payload as received, or null when it is not stored.</summary>
    Stream? OpenUpdatePayload(Bytes32 updateId);

    /// <summary>The model stored under <paramref name="modelHash"/>, or null when none is.</summary>
    /// <exception cref="FormatException">The stored file is not a valid float32 model.</exception>
    Task<TensorData?> ReadModelAsync(Bytes32 modelHash, CancellationToken cancellationToken);

    /// <summary>The optimizer state stored under <paramref name="stateHash"/> (one 1-D tensor per state buffer), or null.</summary>
    /// <exception cref="FormatException">The stored file is not a valid float32 state.</exception>
    Task<TensorData?> ReadOptimizerStateAsync(Bytes32 stateHash, CancellationToken cancellationToken);
}
