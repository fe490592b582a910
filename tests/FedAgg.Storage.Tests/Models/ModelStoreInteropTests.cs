using FedAgg.Storage.Models;
using FedAgg.TestKit.Processes;

namespace FedAgg.Storage.Tests.Models;

/// <summary>
/// Reads a stored model with a safetensors reader written in Python from the specification (json + struct + numpy), the
/// way safetensors.torch.load_file lays the tensors out; Debian has no python3-safetensors.
/// </summary>
[Trait("Category", "Interop")]
public sealed class ModelStoreInteropTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task PutAsync_FileReadByPython_SameTensorsAndModelHash()
    {
        const string Script = """
            import hashlib, json, struct, sys
            import numpy as np
            data = open(sys.argv[1], "rb").read()
            (n,) = struct.unpack("<Q", data[:8])
            assert n % 8 == 0
            header = json.loads(data[8:8 + n])
            buffer = data[8 + n:]
            meta = header.pop("__metadata__")
            manifest = json.loads(meta["fedagg.manifest"])
            parts, end = [], 0
            for t in manifest["tensors"]:
                info = header[t["name"]]
                begin, stop = info["data_offsets"]
                assert info["dtype"] == "F32" and info["shape"] == t["shape"] and begin == end, (t, info, end)
                parts.append(np.frombuffer(buffer[begin:stop], dtype="<f4").reshape(t["shape"]))
                end = stop
            assert end == len(buffer) and len(header) == len(manifest["tensors"])
            vector = np.concatenate([p.ravel() for p in parts]).astype("<f4")
            print(meta["format"], meta["fedagg.modelHash"], "0x" + hashlib.sha256(vector.tobytes()).hexdigest(), "%.6f" % vector.sum(dtype=np.float64))
            """;
        var manifest = new ModelManifest([new ModelTensor("layer.0.weight", [4, 3]), new ModelTensor("layer.0.bias", [3]), new ModelTensor("scale", [])]);
        var values = Enumerable.Range(0, (int)manifest.TotalElements).Select(static i => (i * 0.25f) - 1).ToArray();
        using var store = ModelStore.Open(_directory.Path);
        var hash = await store.PutAsync(manifest, values);

        var output = (await PythonRunner.RunNumpyAsync(Script, store.GetPath(hash))).Trim();

        var expectedHash = "0x" + Convert.ToHexStringLower(hash);
        Assert.Equal($"pt {expectedHash} {expectedHash} {values.Sum(static v => (double)v).ToString("F6", System.Globalization.CultureInfo.InvariantCulture)}", output);
    }
}
