using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using FedAgg.Core.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Storage.Models;

/// <summary>
/// Content-addressed float32 models. A model is stored once, as <c>models/&lt;modelHashHex&gt;.safetensors</c> under the
/// root, where the model hash is the SHA-256 of its float32 little-endian payload with the tensors concatenated in
/// manifest order (the protocol's model hash).
/// </summary>
/// <remarks>
/// <para>
/// Each file is a standard safetensors file that <c>safetensors.torch.load_file</c> reads directly: the tensors are F32,
/// laid out back to back in manifest order (so the data buffer is exactly the hashed payload), and
/// <c>__metadata__</c> holds <c>format</c> = <c>pt</c>, <c>fedagg.manifest</c> = the manifest's compact JSON and
/// <c>fedagg.modelHash</c> = the hash as <c>0x</c>-prefixed lowercase hex.
/// </para>
/// <para>
/// A model is written to <c>models/.tmp-*</c>, flushed, renamed to its final name and the directory flushed, so a
/// model file that exists is complete. A store holds <c>models/model-store.lock</c> while open; opening removes
/// temporary files left by a crash. All members are safe to call from many threads at once.
/// </para>
/// </remarks>
public sealed class ModelStore : IDisposable
{
    internal const string ModelsDirectoryName = "models";
    internal const string Extension = ".safetensors";
    internal const string TemporaryPrefix = ".tmp-";
    internal const string LockFileName = "model-store.lock";

    /// <summary>The safetensors metadata key of the manifest JSON.</summary>
    public const string ManifestMetadataKey = "fedagg.manifest";

    /// <summary>The safetensors metadata key of the model hash (0x-prefixed lowercase hex).</summary>
    public const string ModelHashMetadataKey = "fedagg.modelHash";

    private const int ChunkBytes = 1 << 20;

    private readonly FileStream _lockFile;
    private long _temporaryCounter;
    private int _disposed;

    private ModelStore(string root, string modelsDirectory, FileStream lockFile, ILogger logger)
    {
        RootDirectory = root;
        ModelsDirectory = modelsDirectory;
        _lockFile = lockFile;
        Logger = logger;
    }

    /// <summary>The absolute root directory (which holds <c>models/</c>).</summary>
    public string RootDirectory { get; }

    /// <summary>The absolute <c>models/</c> directory.</summary>
    public string ModelsDirectory { get; }

    internal ILogger Logger { get; }

    /// <summary>Opens (creating if needed) the model store under <paramref name="rootDirectory"/>, removing temporary files a crash left.</summary>
    /// <param name="rootDirectory">The directory that holds (or will hold) <c>models/</c>; may be the update store's root.</param>
    /// <param name="logger">Receives what the store does; none when null.</param>
    /// <returns>The open store; dispose it to release the directory.</returns>
    /// <exception cref="StorageException">Another store has the directory open.</exception>
    /// <exception cref="IOException">The directory cannot be read or written.</exception>
    public static ModelStore Open(string rootDirectory, ILogger<ModelStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        var root = Path.GetFullPath(rootDirectory);
        var models = Path.Combine(root, ModelsDirectoryName);
        Directory.CreateDirectory(models);
        DurableIO.FlushDirectory(root);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(models, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StorageException($"The model store at {models} is already open (in this or another process).", e, isTransient: true);
        }

        var log = (ILogger?)logger ?? NullLogger.Instance;
        try
        {
            var count = 0;
            foreach (var path in Directory.EnumerateFiles(models))
            {
                var name = Path.GetFileName(path);
                if (name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
                {
                    File.Delete(path);
                    Log.ModelTemporaryFileRemoved(log, path);
                }
                else if (name.EndsWith(Extension, StringComparison.Ordinal))
                {
                    count++;
                }
            }

            // Also when nothing was removed: a crashed writer may have renamed a model without flushing the directory, and
            // Contains is about to report it as stored.
            DurableIO.FlushDirectory(models);
            Log.ModelStoreOpened(log, models, count);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }

        return new ModelStore(root, models, lockFile, log);
    }

    /// <summary>Where the model with this hash lives (whether or not it exists).</summary>
    /// <param name="modelHash">The 32-byte model hash.</param>
    /// <returns>The absolute path of <c>models/&lt;modelHashHex&gt;.safetensors</c>.</returns>
    /// <exception cref="ArgumentException">The hash is not 32 bytes.</exception>
    public string GetPath(ReadOnlySpan<byte> modelHash)
    {
        if (modelHash.Length != 32)
        {
            throw new ArgumentException($"A model hash is 32 bytes, not {modelHash.Length}.", nameof(modelHash));
        }

        return Path.Combine(ModelsDirectory, Convert.ToHexStringLower(modelHash) + Extension);
    }

    /// <summary>Whether the model is stored.</summary>
    /// <param name="modelHash">The 32-byte model hash.</param>
    /// <returns>True when its file exists.</returns>
    /// <exception cref="ArgumentException">The hash is not 32 bytes.</exception>
    public bool Contains(ReadOnlySpan<byte> modelHash) => File.Exists(GetPath(modelHash));

    /// <summary>Starts storing a model whose float32 little-endian payload is streamed in chunks.</summary>
    /// <param name="manifest">The model's tensors.</param>
    /// <returns>The writer; write exactly <see cref="ModelManifest.PayloadBytes"/> bytes, then commit it, or dispose it to discard.</returns>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public ModelWriter BeginPut(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var path = Path.Combine(
            ModelsDirectory, TemporaryPrefix + Interlocked.Increment(ref _temporaryCounter).ToString("x16", CultureInfo.InvariantCulture));
        return new ModelWriter(this, manifest, path);
    }

    /// <summary>Stores a model (once: storing the same model again only returns its hash).</summary>
    /// <param name="manifest">The model's tensors.</param>
    /// <param name="payload">The model vector: <see cref="ModelManifest.TotalElements"/> values, tensors concatenated in manifest order.</param>
    /// <param name="cancellationToken">Cancels the write; nothing is stored then.</param>
    /// <returns>The model hash (32 bytes); the model is durable when the task completes.</returns>
    /// <exception cref="ArgumentException">The payload length differs from the manifest's element count.</exception>
    /// <exception cref="InvalidOperationException">The same payload is stored under a different manifest.</exception>
    public async ValueTask<byte[]> PutAsync(ModelManifest manifest, ReadOnlyMemory<float> payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (payload.Length != manifest.TotalElements)
        {
            throw new ArgumentException($"The manifest has {manifest.TotalElements} elements but the payload {payload.Length}.", nameof(payload));
        }

        await using var writer = BeginPut(manifest);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            const int ChunkElements = ChunkBytes / sizeof(float);
            for (var start = 0; start < payload.Length; start += ChunkElements)
            {
                var count = Math.Min(ChunkElements, payload.Length - start);
                Encode(payload.Span.Slice(start, count), buffer);
                await writer.WriteAsync(buffer.AsMemory(0, count * sizeof(float)), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a stored model (memory-mapped) after checking that its file is a FedAgg model of that hash.</summary>
    /// <param name="modelHash">The 32-byte model hash.</param>
    /// <returns>The model; dispose it to unmap. Call <see cref="StoredModel.Verify"/> to recompute the hash.</returns>
    /// <exception cref="FileNotFoundException">The model is not stored.</exception>
    /// <exception cref="StorageException">The file is not a valid safetensors file, or its metadata, tensors or layout do not match.</exception>
    public StoredModel OpenModel(ReadOnlySpan<byte> modelHash)
    {
        var path = GetPath(modelHash);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model store holds no model 0x{Convert.ToHexStringLower(modelHash)}.", path);
        }

        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Open(path);
        }
        catch (TensorFormatException e)
        {
            throw Corrupt(path, $"not a valid safetensors file ({e.Message})", e);
        }

        try
        {
            var manifest = ReadManifest(file, path);
            var expectedHash = "0x" + Convert.ToHexStringLower(modelHash);
            if (!file.Metadata.TryGetValue(ModelHashMetadataKey, out var recorded) || recorded != expectedHash)
            {
                throw Corrupt(path, $"'{ModelHashMetadataKey}' is '{recorded}', not {expectedHash}");
            }

            CheckLayout(file, manifest, path);
            return new StoredModel(this, path, modelHash.ToArray(), manifest, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Releases the directory.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _lockFile.Dispose();
    }

    internal static ModelManifest ReadManifest(SafetensorsFile file, string path)
    {
        if (!file.Metadata.TryGetValue(ManifestMetadataKey, out var json))
        {
            throw new StorageException($"The model file {path} has no '{ManifestMetadataKey}' metadata.");
        }

        try
        {
            return ModelManifest.FromJson(json);
        }
        catch (FormatException e)
        {
            throw new StorageException($"The model file {path} has an invalid '{ManifestMetadataKey}': {e.Message}", e);
        }
    }

    internal StorageException Corrupt(string path, string reason, Exception? inner = null)
    {
        Log.ModelCorrupt(Logger, path, reason);
        return new StorageException($"The model file {path} is corrupt: {reason}.", inner);
    }

    private void CheckLayout(SafetensorsFile file, ModelManifest manifest, string path)
    {
        if (file.Tensors.Count != manifest.Tensors.Count)
        {
            throw Corrupt(path, $"it has {file.Tensors.Count} tensors but its manifest {manifest.Tensors.Count}");
        }

        var byName = file.Tensors.ToDictionary(static t => t.Name, StringComparer.Ordinal);
        long offset = 0;
        foreach (var tensor in manifest.Tensors)
        {
            var bytes = tensor.ElementCount * sizeof(float);
            if (!byName.TryGetValue(tensor.Name, out var info)
                || info.DType != TensorDType.Float32
                || info.Begin != offset
                || info.End != offset + bytes
                || !info.Shape.SequenceEqual(tensor.Shape))
            {
                throw Corrupt(path, $"tensor '{tensor.Name}' is missing or is not F32 {tensor.Name}[{string.Join(", ", tensor.Shape)}] at bytes [{offset}, {offset + bytes}) as the manifest orders it");
            }

            offset += bytes;
        }
    }

    private static void Encode(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(i * sizeof(float))..], values[i]);
        }
    }
}
