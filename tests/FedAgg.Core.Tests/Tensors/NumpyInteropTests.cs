using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Processes;

namespace FedAgg.Core.Tests.Tensors;

/// <summary>Cross-checks against numpy (Debian's python3-numpy under /usr/bin/python3), the independent implementation.</summary>
[Trait("Category", "Interop")]
public sealed class NumpyInteropTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    // For each array: the .npy from np.save, the C-order float32 bytes as .f32, and a line "name|dtype|shape|sha256(f32 bytes)".
    private const string SaveScript = """
        import hashlib, sys
        import numpy as np
        out = sys.argv[1]
        rng = np.random.default_rng(20240501)
        arrays = {
            "f32_1d": np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38, 0.1], dtype="<f4"),
            "f16_1d": np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 6e-8, 65504.0, 0.1, 1/3], dtype="<f2"),
            "f32_2d": np.arange(12, dtype="<f4").reshape(3, 4) / 7,
            "f32_large": rng.standard_normal(100_000).astype("<f4"),
            "f16_large": rng.standard_normal(100_000).astype("<f2"),
            "f32_scalar": np.array(2.75, dtype="<f4"),
            "f32_empty": np.zeros((0,), dtype="<f4"),
            "f32_3d_empty": np.zeros((2, 0, 3), dtype="<f4"),
        }
        for name, arr in arrays.items():
            np.save(f"{out}/{name}.npy", arr)
            raw = arr.astype("<f4").tobytes(order="C")
            with open(f"{out}/{name}.f32", "wb") as f:
                f.write(raw)
            shape = ",".join(str(d) for d in arr.shape)
            print(f"{name}|{arr.dtype.str}|{shape}|{hashlib.sha256(raw).hexdigest()}")
        """;

    // Loads every .npy in the folder and prints "name|dtype|shape|fortran|sha256(float32 bytes)".
    private const string LoadScript = """
        import hashlib, os, sys
        import numpy as np
        folder = sys.argv[1]
        for file in sorted(os.listdir(folder)):
            if not file.endswith(".npy"):
                continue
            arr = np.load(os.path.join(folder, file), allow_pickle=False)
            raw = arr.astype("<f4").tobytes(order="C")
            shape = ",".join(str(d) for d in arr.shape)
            print(f"{file[:-4]}|{arr.dtype.str}|{shape}|{np.isfortran(arr)}|{hashlib.sha256(raw).hexdigest()}")
            np.save(os.path.join(folder, file[:-4] + ".resaved"), arr)
        """;

    [Fact]
    public async Task ReadFloat32_FilesSavedByNumpy_IdenticalBits()
    {
        var output = await PythonRunner.RunNumpyAsync(SaveScript, _directory.Path);
        var lines = Lines(output);

        Assert.Equal(8, lines.Length);
        foreach (var line in lines)
        {
            var (name, dtype, shape, sha) = (line[0], line[1], line[2], line[3]);
            var path = _directory.File(name + ".npy");
            var values = NpyFile.ReadFloat32(path);
            var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            using var array = MappedNpyArray.Open(path);

            Assert.Equal(File.ReadAllBytes(_directory.File(name + ".f32")), bytes);
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(dtype == "<f2" ? TensorDType.Float16 : TensorDType.Float32, array.Header.DType);
            Assert.Equal(ParseShape(shape), array.Header.Shape);
        }
    }

    [Fact]
    public async Task Build_SameShapesAsNumpy_HeaderBytesIdentical()
    {
        var output = await PythonRunner.RunNumpyAsync(SaveScript, _directory.Path);

        foreach (var line in Lines(output))
        {
            var file = File.ReadAllBytes(_directory.File(line[0] + ".npy"));
            var dtype = line[1] == "<f2" ? TensorDType.Float16 : TensorDType.Float32;

            var header = NpyHeader.Build(dtype, ParseShape(line[2]));

            Assert.Equal(file[..header.Length], header);
        }
    }

    [Fact]
    public async Task Open_FilesNumpyWritesButWeReject_ThrowWithClearProblem()
    {
        const string Script = """
            import sys
            import numpy as np
            out = sys.argv[1]
            np.save(f"{out}/fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
            np.save(f"{out}/big.npy", np.arange(3, dtype=">f4"))
            np.save(f"{out}/f64.npy", np.arange(3, dtype="<f8"))
            np.save(f"{out}/i32.npy", np.arange(3, dtype="<i4"))
            """;
        await PythonRunner.RunNumpyAsync(Script, _directory.Path);

        Assert.Contains("fortran_order is True", Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(_directory.File("fortran.npy"))).Message, StringComparison.Ordinal);
        Assert.Contains("big-endian not supported", Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(_directory.File("big.npy"))).Message, StringComparison.Ordinal);
        Assert.Contains("unsupported descr '<f8'", Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(_directory.File("f64.npy"))).Message, StringComparison.Ordinal);
        Assert.Contains("unsupported descr '<i4'", Assert.Throws<TensorFormatException>(() => MappedNpyArray.Open(_directory.File("i32.npy"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NumpyLoad_FilesWeWrote_SameShapeDTypeAndSha256()
    {
        var random = new Random(99);
        var large = Enumerable.Range(0, 100_000).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        float[] specials = [0f, -0f, 1f, -2.5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, float.MaxValue, 0.1f];
        Half[] halves = [(Half)0, (Half)(-0f), (Half)1, (Half)(-2.5f), Half.PositiveInfinity, Half.NaN, Half.Epsilon, Half.MaxValue, (Half)0.1f];
        var expected = new Dictionary<string, (string DType, long[] Shape, float[] Values)>
        {
            ["f32_empty"] = ("<f4", [0], []),
            ["f32_one"] = ("<f4", [1], [3.5f]),
            ["f32_seven"] = ("<f4", [7], specials[..7]),
            ["f32_2d"] = ("<f4", [3, 4], Enumerable.Range(0, 12).Select(i => i / 7f).ToArray()),
            ["f32_scalar"] = ("<f4", [], [2.75f]),
            ["f32_specials"] = ("<f4", [10], specials),
            ["f32_large"] = ("<f4", [100_000], large),
            ["f16_values"] = ("<f2", [halves.Length], halves.Select(h => (float)h).ToArray()),
            ["mapped"] = ("<f4", [1000], Enumerable.Range(0, 1000).Select(i => i * 0.001f).ToArray()),
        };
        foreach (var (name, (dtype, shape, values)) in expected)
        {
            var path = _directory.File(name + ".npy");
            if (name == "mapped")
            {
                using var writer = MappedNpyWriter.Create(path, values.Length);
                writer.Write(0, values);
                writer.Flush();
            }
            else if (dtype == "<f2")
            {
                NpyFile.WriteFloat16(path, halves);
            }
            else
            {
                NpyFile.WriteFloat32(path, values, shape);
            }
        }

        var lines = Lines(await PythonRunner.RunNumpyAsync(LoadScript, _directory.Path));

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), lines.Select(l => l[0]));
        foreach (var line in lines)
        {
            var (dtype, shape, values) = expected[line[0]];
            Assert.Equal(dtype, line[1]);
            Assert.Equal(shape, ParseShape(line[2]));
            Assert.Equal("False", line[3]);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan()))), line[4]);
            // np.save of what numpy loaded reproduces our file byte for byte.
            Assert.Equal(File.ReadAllBytes(_directory.File(line[0] + ".resaved.npy")), File.ReadAllBytes(_directory.File(line[0] + ".npy")));
        }
    }

    private static string[][] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split('|')).ToArray();

    private static long[] ParseShape(string text) =>
        text.Length == 0 ? [] : text.Split(',').Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
}
