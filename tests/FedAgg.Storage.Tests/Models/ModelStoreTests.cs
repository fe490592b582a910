using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using FedAgg.Core.Tensors;
using FedAgg.Storage.Models;

namespace FedAgg.Storage.Tests.Models;

public sealed class ModelStoreTests : IDisposable
{
    private static readonly ModelManifest Manifest = new(
    [
        new ModelTensor("embed.weight", [5, 3]),
        new ModelTensor("empty", [0]),
        new ModelTensor("alpha.bias", [3]),
        new ModelTensor("scale", []),
    ]);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task PutAsync_Model_HashIsSha256OfFloat32LittleEndianInManifestOrder()
    {
        using var store = ModelStore.Open(_directory.Path);
        var values = Values(Manifest.TotalElements, 1);

        var hash = await store.PutAsync(Manifest, values);

        // Independent: the bytes built by hand, element by element, little-endian.
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), BitConverter.SingleToInt32Bits(values[i]));
        }

        Assert.Equal(SHA256.HashData(bytes), hash);
        Assert.True(store.Contains(hash));
        Assert.Equal(_directory.Combine("models", Convert.ToHexStringLower(hash) + ".safetensors"), store.GetPath(hash));
        var file = File.ReadAllBytes(store.GetPath(hash));
        Assert.Equal(bytes, file[^bytes.Length..]);
    }

    [Fact]
    public async Task OpenModel_AfterPut_ReadsBackValuesAndVerifies()
    {
        using var store = ModelStore.Open(_directory.Path);
        var values = Values(Manifest.TotalElements, 2);
        var hash = await store.PutAsync(Manifest, values);

        using var model = store.OpenModel(hash);
        var read = new float[model.Manifest.TotalElements];
        model.ReadConcatenated(0, read);
        model.Verify();

        Assert.Equal(Manifest, model.Manifest);
        Assert.Equal(values, read);
        Assert.Equal(hash, model.ModelHash.ToArray());
        var embed = new float[15];
        model.File.ReadTensor("embed.weight", 0, embed);
        Assert.Equal(values[..15], embed);
        var bias = new float[3];
        model.File.ReadTensor("alpha.bias", 0, bias);
        Assert.Equal(values[15..18], bias);
    }

    [Fact]
    public async Task PutAsync_SameModelTwice_StoredOnce()
    {
        using var store = ModelStore.Open(_directory.Path);
        var values = Values(Manifest.TotalElements, 3);

        var first = await store.PutAsync(Manifest, values);
        var written = File.GetLastWriteTimeUtc(store.GetPath(first));
        var second = await store.PutAsync(Manifest, values);

        Assert.Equal(first, second);
        Assert.Equal([store.GetPath(first)], Directory.GetFiles(_directory.Combine("models"), "*.safetensors"));
        Assert.Empty(Directory.GetFiles(_directory.Combine("models"), ".tmp-*"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(store.GetPath(first)));
    }

    [Fact]
    public async Task PutAsync_SamePayloadOtherManifest_ThrowsInvalidOperation()
    {
        using var store = ModelStore.Open(_directory.Path);
        var values = Values(6, 4);
        await store.PutAsync(new ModelManifest([new ModelTensor("w", [2, 3])]), values);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.PutAsync(new ModelManifest([new ModelTensor("w", [3, 2])]), values));

        Assert.Single(Directory.GetFiles(_directory.Combine("models"), "*.safetensors"));
    }

    [Fact]
    public async Task BeginPut_OddChunks_SameHashAsPutAsync()
    {
        using var store = ModelStore.Open(_directory.Path);
        var manifest = new ModelManifest([new ModelTensor("a", [1000]), new ModelTensor("b", [7, 11])]);
        var values = Values(manifest.TotalElements, 5);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);

        byte[] streamed;
        await using (var writer = store.BeginPut(manifest))
        {
            for (var i = 0; i < bytes.Length; i += 333)
            {
                await writer.WriteAsync(bytes.AsMemory(i, Math.Min(333, bytes.Length - i)));
            }

            streamed = await writer.CommitAsync();
        }

        using var other = new TempDirectory();
        using var otherStore = ModelStore.Open(other.Path);
        Assert.Equal(await otherStore.PutAsync(manifest, values), streamed);
        Assert.Equal(File.ReadAllBytes(otherStore.GetPath(streamed)), File.ReadAllBytes(store.GetPath(streamed)));
    }

    [Fact]
    public async Task PutAsync_File_IsSafetensorsWithManifestAndHashMetadata()
    {
        using var store = ModelStore.Open(_directory.Path);
        var hash = await store.PutAsync(Manifest, Values(Manifest.TotalElements, 6));
        var file = File.ReadAllBytes(store.GetPath(hash));

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        var root = header.RootElement;

        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + (Manifest.TotalElements * 4), file.Length);
        Assert.Equal(["__metadata__", "embed.weight", "empty", "alpha.bias", "scale"], root.EnumerateObject().Select(static p => p.Name));
        var metadata = root.GetProperty("__metadata__");
        Assert.Equal(["fedagg.manifest", "fedagg.modelHash", "format"], metadata.EnumerateObject().Select(static p => p.Name));
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal(Manifest.ToJson(), metadata.GetProperty("fedagg.manifest").GetString());
        Assert.Equal("0x" + Convert.ToHexStringLower(hash), metadata.GetProperty("fedagg.modelHash").GetString());
        long[][] offsets = [[0, 60], [60, 60], [60, 72], [72, 76]];
        var i = 0;
        foreach (var tensor in Manifest.Tensors)
        {
            var entry = root.GetProperty(tensor.Name);
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(tensor.Shape, entry.GetProperty("shape").EnumerateArray().Select(static d => d.GetInt64()));
            Assert.Equal(offsets[i++], entry.GetProperty("data_offsets").EnumerateArray().Select(static d => d.GetInt64()));
        }

        using var reader = SafetensorsFile.Open(store.GetPath(hash));
        Assert.Equal(Manifest.TotalElements, reader.TotalElements);
    }

    [Fact]
    public async Task Verify_FlippedPayloadByte_ThrowsStorageException()
    {
        using var store = ModelStore.Open(_directory.Path);
        var hash = await store.PutAsync(Manifest, Values(Manifest.TotalElements, 7));
        var path = store.GetPath(hash);
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        using var model = store.OpenModel(hash);
        var error = Assert.Throws<StorageException>(() => model.Verify());

        Assert.Contains("0x" + Convert.ToHexStringLower(hash), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenModel_FileUnderAnotherHash_ThrowsStorageException()
    {
        using var store = ModelStore.Open(_directory.Path);
        var hash = await store.PutAsync(Manifest, Values(Manifest.TotalElements, 8));
        var other = SHA256.HashData([1]);
        File.Copy(store.GetPath(hash), store.GetPath(other));

        var error = Assert.Throws<StorageException>(() => store.OpenModel(other));

        Assert.Contains("fedagg.modelHash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenModel_Missing_ThrowsFileNotFound()
    {
        using var store = ModelStore.Open(_directory.Path);

        Assert.Throws<FileNotFoundException>(() => store.OpenModel(new byte[32]));
        Assert.False(store.Contains(new byte[32]));
        Assert.Throws<ArgumentException>(() => store.Contains(new byte[31]));
    }

    [Fact]
    public async Task Writer_WrongAmountOrDisposed_RefusesAndLeavesNoFiles()
    {
        using var store = ModelStore.Open(_directory.Path);
        var manifest = new ModelManifest([new ModelTensor("w", [4])]);

        await using (var writer = store.BeginPut(manifest))
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await writer.WriteAsync(new byte[17]));
            await writer.WriteAsync(new byte[12]);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.CommitAsync());
        }

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.PutAsync(manifest, new float[3]));
        Assert.Equal([_directory.Combine("models", "model-store.lock")], Directory.GetFiles(_directory.Combine("models")));
    }

    [Fact]
    public void Open_LeftoverTemporaryFile_Removed()
    {
        Directory.CreateDirectory(_directory.Combine("models"));
        File.WriteAllBytes(_directory.Combine("models", ".tmp-0000000000000001"), [1]);

        using var store = ModelStore.Open(_directory.Path);

        Assert.False(File.Exists(_directory.Combine("models", ".tmp-0000000000000001")));
        Assert.Throws<StorageException>(() => ModelStore.Open(_directory.Path));
    }

    private static float[] Values(long count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
