using System.Security.Cryptography;
using System.Text;
using FedAgg.Core.Tensors;
using Microsoft.Win32.SafeHandles;

namespace FedAgg.Storage.Models;

/// <summary>
/// A model being stored: the safetensors header, then the float32 little-endian payload streamed in chunks and hashed
/// in the same pass. The hash goes into the header's metadata at commit (a fixed-width placeholder is reserved for it).
/// One writer at a time: calls must not overlap. Disposing without a commit deletes the temporary file.
/// </summary>
public sealed class ModelWriter : IAsyncDisposable, IDisposable
{
    private static readonly string HashPlaceholder = "0x" + new string('0', 64);

    private readonly ModelStore _store;
    private readonly string _temporaryPath;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _dataStart;
    private readonly int _hashOffset;
    private SafeFileHandle? _handle;
    private bool _finished;

    internal ModelWriter(ModelStore store, ModelManifest manifest, string temporaryPath)
    {
        _store = store;
        Manifest = manifest;
        _temporaryPath = temporaryPath;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [ModelStore.ManifestMetadataKey] = manifest.ToJson(),
            [ModelStore.ModelHashMetadataKey] = HashPlaceholder,
        };
        var header = SafetensorsWriter.BuildFloat32Header(
            [.. manifest.Tensors.Select(static t => (t.Name, t.Shape))], metadata);

        // The metadata object comes first and its string values are escaped, so the first match is the hash's value.
        var marker = Encoding.UTF8.GetBytes($"\"{ModelStore.ModelHashMetadataKey}\":\"{HashPlaceholder}\"");
        var markerAt = header.AsSpan().IndexOf(marker);
        if (markerAt < 0)
        {
            throw new InvalidOperationException("The safetensors header lacks the model hash placeholder.");
        }

        _hashOffset = markerAt + marker.Length - 1 - 64;
        _dataStart = header.Length;
        _handle = File.OpenHandle(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            RandomAccess.Write(_handle, header, 0);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model's tensors.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>How many payload bytes have been written.</summary>
    public long Length { get; private set; }

    /// <summary>Appends payload bytes (float32 little-endian, tensors in manifest order; chunks need not align to elements).</summary>
    /// <param name="float32LittleEndian">The next payload bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the bytes are written.</returns>
    /// <exception cref="ArgumentException">The payload would exceed <see cref="ModelManifest.PayloadBytes"/>.</exception>
    /// <exception cref="InvalidOperationException">The writer was committed, disposed, or a write failed.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> float32LittleEndian, CancellationToken cancellationToken = default)
    {
        ThrowIfFinished();
        if (float32LittleEndian.Length > Manifest.PayloadBytes - Length)
        {
            throw new ArgumentException(
                $"The payload would be {Length + float32LittleEndian.Length} bytes; the manifest has {Manifest.PayloadBytes}.", nameof(float32LittleEndian));
        }

        try
        {
            await RandomAccess.WriteAsync(_handle!, float32LittleEndian, _dataStart + Length, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Part of the chunk may be in the file but not in the hash: the model can no longer be committed.
            _finished = true;
            throw;
        }

        _hash.AppendData(float32LittleEndian.Span);
        Length += float32LittleEndian.Length;
    }

    /// <summary>Completes the file, makes it durable under its content address, and returns the model hash.</summary>
    /// <param name="cancellationToken">Observed before the file is finished.</param>
    /// <returns>The 32-byte model hash. If the model was already stored, the new copy is discarded.</returns>
    /// <exception cref="InvalidOperationException">Fewer bytes than the manifest needs were written; or the same payload is stored under a different manifest.</exception>
    public ValueTask<byte[]> CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFinished();
        if (Length != Manifest.PayloadBytes)
        {
            throw new InvalidOperationException($"{Length} of the manifest's {Manifest.PayloadBytes} payload bytes were written.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _finished = true;
        var hash = _hash.GetHashAndReset();
        var hex = Convert.ToHexStringLower(hash);
        try
        {
            RandomAccess.Write(_handle!, Encoding.ASCII.GetBytes(hex), _hashOffset);
            RandomAccess.FlushToDisk(_handle!);
            _handle!.Dispose();
            _handle = null;

            var path = _store.GetPath(hash);
            if (File.Exists(path))
            {
                AlreadyStored(path, hex);
                return ValueTask.FromResult(hash);
            }

            try
            {
                File.Move(_temporaryPath, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another writer stored the same model first.
                AlreadyStored(path, hex);
                return ValueTask.FromResult(hash);
            }

            DurableIO.FlushDirectory(_store.ModelsDirectory);
            Log.ModelStored(_store.Logger, hex, Length, Manifest.Tensors.Count);
            return ValueTask.FromResult(hash);
        }
        finally
        {
            DeleteTemporary();
        }
    }

    /// <summary>Discards the model unless it was committed.</summary>
    public void Dispose()
    {
        _finished = true;
        DeleteTemporary();
        _hash.Dispose();
    }

    /// <summary>Discards the model unless it was committed.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void AlreadyStored(string path, string hex)
    {
        using (var existing = SafetensorsFile.Open(path))
        {
            if (!ModelStore.ReadManifest(existing, path).Equals(Manifest))
            {
                throw new InvalidOperationException(
                    $"The model store already holds 0x{hex} with another manifest: the same payload with other tensor names or shapes.");
            }
        }

        Log.ModelAlreadyStored(_store.Logger, hex);
    }

    private void DeleteTemporary()
    {
        _handle?.Dispose();
        _handle = null;
        try
        {
            File.Delete(_temporaryPath);
        }
        catch (IOException)
        {
            // Opening the store removes temporary files.
        }
    }

    private void ThrowIfFinished()
    {
        if (_finished)
        {
            throw new InvalidOperationException("The model writer was committed or disposed.");
        }
    }
}
