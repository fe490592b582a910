using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Tensors;

namespace FedAgg.Verification;

/// <summary>
/// A round's artefacts in a server's data directory (<see cref="RoundDataLayout"/>), read only: nothing is locked,
/// recovered or written, so it is safe beside a running server.
/// </summary>
/// <param name="dataDirectory">The data directory.</param>
/// <param name="taskId">The task.</param>
/// <param name="round">The round, from 1.</param>
public sealed class DataDirectoryRoundArtifacts(string dataDirectory, string taskId, ulong round) : IRoundArtifacts
{
    /// <summary>The data directory.</summary>
    public string DataDirectory { get; } = Path.GetFullPath(dataDirectory);

    /// <inheritdoc/>
    public string TaskId { get; } = taskId;

    /// <inheritdoc/>
    public ulong Round { get; } = round >= 1 ? round : throw new ArgumentOutOfRangeException(nameof(round), round, "rounds count from 1");

    /// <inheritdoc/>
    public Task<RoundManifest> ReadManifestAsync(CancellationToken cancellationToken) =>
        RoundManifestJson.ReadFileAsync(RoundDataLayout.ManifestPath(DataDirectory, TaskId, Round), cancellationToken);

    /// <inheritdoc/>
    public async Task<RoundManifest?> ReadPreviousManifestAsync(CancellationToken cancellationToken)
    {
        if (Round == 1)
        {
            return null;
        }

        var path = RoundDataLayout.ManifestPath(DataDirectory, TaskId, Round - 1);
        return File.Exists(path) ? await RoundManifestJson.ReadFileAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc/>
    public Stream? OpenUpdatePayload(Bytes32 updateId)
    {
        var path = RoundDataLayout.PayloadPath(DataDirectory, TaskId, Round, updateId);
        return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16) : null;
    }

    /// <inheritdoc/>
    public Task<TensorData?> ReadModelAsync(Bytes32 modelHash, CancellationToken cancellationToken) =>
        Task.FromResult(ReadSafetensors(RoundDataLayout.ModelPath(DataDirectory, modelHash)));

    /// <inheritdoc/>
    public Task<TensorData?> ReadOptimizerStateAsync(Bytes32 stateHash, CancellationToken cancellationToken) =>
        Task.FromResult(ReadSafetensors(RoundDataLayout.OptimizerStatePath(DataDirectory, stateHash)));

    /// <summary>Reads an F32 safetensors file as stored by a model store (tensors in data order); null when it does not exist.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors, or null.</returns>
    /// <exception cref="FormatException">The file is not a valid F32 safetensors file.</exception>
    internal static TensorData? ReadSafetensors(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var file = SafetensorsFile.Open(path);
            if (file.Tensors.Any(static t => t.DType != TensorDType.Float32))
            {
                throw new FormatException($"{path} holds a tensor that is not F32");
            }

            if (file.TotalElements > Array.MaxLength)
            {
                throw new FormatException($"{path} holds {file.TotalElements} elements, more than this verifier holds in memory");
            }

            // Data-offset order is the order the store wrote them in, the model vector's order.
            var tensors = file.Tensors.OrderBy(static t => t.Begin).Select(static t => new TensorSpec(t.Name, [.. t.Shape])).ToArray();
            var values = new float[file.TotalElements];
            file.ReadConcatenated(0, values);
            return new TensorData(tensors, values);
        }
        catch (TensorFormatException e)
        {
            throw new FormatException($"{path} is not a valid safetensors file: {e.Message}", e);
        }
    }
}
