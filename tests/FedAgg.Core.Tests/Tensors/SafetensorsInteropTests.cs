using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Processes;

namespace FedAgg.Core.Tests.Tensors;

/// <summary>
/// Cross-checks safetensors against a reader and writer written in Python from the specification (json + struct +
/// numpy). Debian has no python3-safetensors, so the reference library itself is not available here.
/// </summary>
[Trait("Category", "Interop")]
public sealed class SafetensorsInteropTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_FileWrittenByPython_ModelVectorMatches()
    {
        const string Script = """
            import hashlib, json, struct, sys
            import numpy as np
            rng = np.random.default_rng(5)
            tensors = [
                ("embed", "F16", rng.standard_normal((4, 3)).astype("<f2")),
                ("w", "F32", rng.standard_normal((5,)).astype("<f4")),
                ("bf", "BF16", (rng.standard_normal(6).astype("<f4").view("<u4") >> 16).astype("<u2")),
                ("s", "F32", np.array(1.5, dtype="<f4")),
            ]
            header, blobs, offset, model = {"__metadata__": {"framework": "numpy", "round": "3"}}, [], 0, []
            for name, dtype, arr in tensors:
                blob = arr.tobytes()
                header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
                offset += len(blob)
                blobs.append(blob)
                widened = (arr.astype("<u4") << 16).view("<f4") if dtype == "BF16" else arr.astype("<f4")
                model.append(widened.ravel())
            text = json.dumps(header).encode()
            text += b" " * ((8 - len(text) % 8) % 8)
            with open(sys.argv[1], "wb") as f:
                f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
            print(hashlib.sha256(np.concatenate(model).astype("<f4").tobytes()).hexdigest())
            """;
        var path = _directory.File("py.safetensors");

        var sha = (await PythonRunner.RunNumpyAsync(Script, path)).Trim();
        using var file = SafetensorsFile.Open(path);
        var model = new float[file.TotalElements];
        file.ReadConcatenated(0, model);

        Assert.Equal(["embed", "w", "bf", "s"], file.Tensors.Select(t => t.Name));
        Assert.Equal([TensorDType.Float16, TensorDType.Float32, TensorDType.BFloat16, TensorDType.Float32], file.Tensors.Select(t => t.DType));
        Assert.Equal("numpy", file.Metadata["framework"]);
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(model.AsSpan()))));
    }

    [Fact]
    public async Task Write_FileReadByPython_ValidAndSameModelVector()
    {
        const string Script = """
            import hashlib, json, struct, sys
            import numpy as np
            data = open(sys.argv[1], "rb").read()
            (n,) = struct.unpack("<Q", data[:8])
            assert n % 8 == 0, f"header length {n} is not a multiple of 8"
            header = json.loads(data[8:8 + n])
            buffer = data[8 + n:]
            meta = header.pop("__metadata__", {})
            entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
            end, parts = 0, []
            for name, info in entries:
                begin, stop = info["data_offsets"]
                assert info["dtype"] == "F32" and begin == end, (name, info, end)
                arr = np.frombuffer(buffer[begin:stop], dtype="<f4").reshape(info["shape"])
                parts.append(arr.ravel())
                end = stop
            assert end == len(buffer), "data buffer not covered exactly"
            print(json.dumps(meta, sort_keys=True))
            print(",".join(name for name, _ in entries))
            print(hashlib.sha256(np.concatenate(parts).astype("<f4").tobytes()).hexdigest())
            """;
        var random = new Random(3);
        var tensors = new List<(string Name, IReadOnlyList<long> Shape, ReadOnlyMemory<float> Data)>
        {
            ("conv.weight", [2, 3, 3], Enumerable.Range(0, 18).Select(_ => (float)random.NextDouble()).ToArray()),
            ("conv.bias", [2], new[] { -1f, 1f }),
            ("fc.weight", [10, 4], Enumerable.Range(0, 40).Select(i => i * 0.5f).ToArray()),
            ("step", [], new[] { 12f }),
        };
        var path = _directory.File("cs.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["client"] = "ö-7" });

        var lines = (await PythonRunner.RunNumpyAsync(Script, path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = tensors.SelectMany(t => t.Data.ToArray()).ToArray();

        Assert.Equal("{\"client\": \"\\u00f6-7\", \"format\": \"pt\"}", lines[0]);
        Assert.Equal(string.Join(",", tensors.Select(t => t.Name)), lines[1]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(expected.AsSpan()))), lines[2]);
    }
}
