using System.Buffers;
using System.Security.Cryptography;
using FedAgg.Core.Tensors;

namespace FedAgg.Storage.Models;

/// <summary>A stored model, memory-mapped for reading.</summary>
public sealed class StoredModel : IDisposable
{
    private readonly ModelStore _store;
    private readonly byte[] _modelHash;

    internal StoredModel(ModelStore store, string path, byte[] modelHash, ModelManifest manifest, SafetensorsFile file)
    {
        _store = store;
        Path = path;
        _modelHash = modelHash;
        Manifest = manifest;
        File = file;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The model hash the file is stored under (32 bytes).</summary>
    public ReadOnlyMemory<byte> ModelHash => _modelHash;

    /// <summary>The model's tensors, from the file's metadata (checked against its layout).</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The mapped safetensors file.</summary>
    public SafetensorsFile File { get; }

    /// <summary>Reads elements <c>[start, start + destination.Length)</c> of the model vector.</summary>
    /// <param name="start">The first element.</param>
    /// <param name="destination">Receives the values.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the model vector.</exception>
    public void ReadConcatenated(long start, Span<float> destination) => File.ReadConcatenated(start, destination);

    /// <summary>Recomputes the SHA-256 of the file's payload and compares it with the model hash.</summary>
    /// <param name="cancellationToken">Cancels between 1 MiB chunks.</param>
    /// <exception cref="StorageException">The payload's hash differs (logged as an error).</exception>
    public void Verify(CancellationToken cancellationToken = default)
    {
        using var handle = System.IO.File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            // The data buffer is the file's tail (the layout was checked on open).
            var end = RandomAccess.GetLength(handle);
            var offset = end - Manifest.PayloadBytes;
            while (offset < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - offset)), offset);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var actual = hash.GetHashAndReset();
        if (!actual.AsSpan().SequenceEqual(_modelHash))
        {
            throw _store.Corrupt(
                Path, $"its payload hashes to 0x{Convert.ToHexStringLower(actual)}, not 0x{Convert.ToHexStringLower(_modelHash)}");
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => File.Dispose();
}
