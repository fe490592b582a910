using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Verification;

/// <summary>
/// Where a server's data directory keeps a round's artefacts (docs/PROTOCOL.md, "Round manifest"):
/// <code>
/// tasks/&lt;taskKey&gt;/rounds/&lt;round&gt;/updates/&lt;updateIdHex&gt;.bin   payloads (the UpdateStore's layout)
/// models/&lt;modelHashHex&gt;.safetensors                       models (a ModelStore rooted at the data directory)
/// optimizer-state/models/&lt;stateHashHex&gt;.safetensors       optimizer states (a ModelStore rooted at optimizer-state/)
/// manifests/&lt;taskKey&gt;/&lt;round&gt;.json                        round manifests
/// </code>
/// taskKey is the lowercase hex SHA-256 of the task ID's UTF-8 bytes; round is decimal; hashes are lowercase hex without 0x.
/// Manifests live outside <c>tasks/</c> so the update store's recovery never meets them.
/// </summary>
public static class RoundDataLayout
{
    /// <summary>The root of the optimizer-state model store, relative to the data directory.</summary>
    public const string OptimizerStateRoot = "optimizer-state";

    /// <summary>The directory of the manifests, relative to the data directory.</summary>
    public const string ManifestsDirectory = "manifests";

    /// <summary>The lowercase hex SHA-256 of the task ID (the update store's task directory name).</summary>
    public static string TaskKey(string taskId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(taskId)));

    /// <summary>The manifest file of a round.</summary>
    public static string ManifestPath(string dataDirectory, string taskId, ulong round) =>
        Path.Combine(dataDirectory, ManifestsDirectory, TaskKey(taskId), round.ToString(CultureInfo.InvariantCulture) + ".json");

    /// <summary>The payload file of an update.</summary>
    public static string PayloadPath(string dataDirectory, string taskId, ulong round, Bytes32 updateId) =>
        Path.Combine(dataDirectory, "tasks", TaskKey(taskId), "rounds", round.ToString(CultureInfo.InvariantCulture), "updates", Hex(updateId) + ".bin");

    /// <summary>The model file of a model hash.</summary>
    public static string ModelPath(string dataDirectory, Bytes32 modelHash) =>
        Path.Combine(dataDirectory, "models", Hex(modelHash) + ".safetensors");

    /// <summary>The optimizer-state file of a state hash.</summary>
    public static string OptimizerStatePath(string dataDirectory, Bytes32 stateHash) =>
        Path.Combine(dataDirectory, OptimizerStateRoot, "models", Hex(stateHash) + ".safetensors");

    private static string Hex(Bytes32 hash) => Convert.ToHexStringLower(hash.AsSpan());
}
