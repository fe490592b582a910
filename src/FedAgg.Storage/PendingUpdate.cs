using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace FedAgg.Storage;

/// <summary>
/// An upload in progress: a temporary file in the round's <c>updates/</c> directory that the payload is streamed into
/// while it is hashed (one pass). <see cref="UpdateStore.CommitAsync"/> turns it into a durable update; disposing it
/// without a successful commit deletes the temporary file. One writer at a time: calls must not overlap.
/// </summary>
public sealed class PendingUpdate : IAsyncDisposable, IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _maxBytes;
    private SafeFileHandle? _handle;
    private byte[]? _payloadSha256;
    private State _state;
    private int _busy;

    internal PendingUpdate(UpdateStore store, RoundState round, string temporaryPath, SafeFileHandle handle, long maxBytes)
    {
        Store = store;
        RoundState = round;
        TemporaryPath = temporaryPath;
        _handle = handle;
        _maxBytes = maxBytes;
    }

    private enum State
    {
        Writing,
        Failed,
        Renamed,
        Committed,
        Disposed,
    }

    /// <summary>The task the update belongs to.</summary>
    public string TaskId => RoundState.Task.TaskId;

    /// <summary>The round the update belongs to.</summary>
    public ulong Round => RoundState.Round;

    /// <summary>How many payload bytes have been written.</summary>
    public long Length { get; private set; }

    internal UpdateStore Store { get; }

    internal RoundState RoundState { get; }

    internal string TemporaryPath { get; }

    /// <summary>Appends payload bytes to the temporary file and to the running SHA-256.</summary>
    /// <param name="data">The next bytes of the payload.</param>
    /// <param name="cancellationToken">Cancels the write; the update can then no longer be committed.</param>
    /// <returns>A task that completes when the bytes are written (not yet durable).</returns>
    /// <exception cref="ArgumentException">The payload would exceed <see cref="UpdateStoreOptions.MaxUpdateBytes"/>; nothing is written.</exception>
    /// <exception cref="InvalidOperationException">The hash was already taken, a write failed, another call is running, or the update was committed or disposed.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        EnterBusy();
        try
        {
            ThrowUnlessWritable();
            if (data.Length > _maxBytes - Length)
            {
                throw new ArgumentException(
                    $"The payload would be {Length + data.Length} bytes, over {nameof(UpdateStoreOptions)}.{nameof(UpdateStoreOptions.MaxUpdateBytes)} ({_maxBytes}).",
                    nameof(data));
            }

            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                await RandomAccess.WriteAsync(_handle!, data, Length, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The file may now hold part of the chunk; the hash does not. The update cannot be committed.
                _state = State.Failed;
                throw;
            }

            _hash.AppendData(data.Span);
            Length += data.Length;
        }
        finally
        {
            ExitBusy();
        }
    }

    /// <summary>The SHA-256 of everything written. Ends writing: later writes throw.</summary>
    /// <returns>A new 32-byte array.</returns>
    /// <exception cref="InvalidOperationException">A write failed, another call is running, or the update was disposed.</exception>
    public byte[] GetPayloadSha256()
    {
        EnterBusy();
        try
        {
            return (byte[])Seal().Clone();
        }
        finally
        {
            ExitBusy();
        }
    }

    /// <summary>Deletes the temporary file unless the update was committed.</summary>
    public void Dispose()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        var state = _state;
        _state = State.Disposed;
        _handle?.Dispose();
        _handle = null;
        _hash.Dispose();
        if (state is State.Writing or State.Failed)
        {
            try
            {
                File.Delete(TemporaryPath);
            }
            catch (IOException)
            {
                // Recovery removes temporary files at the next start.
            }
        }
    }

    /// <summary>Deletes the temporary file unless the update was committed.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts a commit: no other call may run until <see cref="EndCommit"/>.</summary>
    internal byte[] BeginCommit()
    {
        EnterBusy();
        try
        {
            return Seal();
        }
        catch
        {
            ExitBusy();
            throw;
        }
    }

    /// <summary>Flushes the payload to disk and closes the temporary file.</summary>
    internal void FlushAndClose()
    {
        if (_handle is { } handle)
        {
            RandomAccess.FlushToDisk(handle);
            handle.Dispose();
            _handle = null;
        }
    }

    /// <summary>Records that the payload now lives under its final name (the temporary file is gone).</summary>
    internal void MarkRenamed() => _state = State.Renamed;

    internal void EndCommit(bool committed)
    {
        if (committed)
        {
            _state = State.Committed;
        }
        else if (_state == State.Renamed)
        {
            _state = State.Failed;
        }

        ExitBusy();
    }

    private byte[] Seal()
    {
        if (_state != State.Writing)
        {
            ThrowUnlessWritable();
        }

        return _payloadSha256 ??= _hash.GetHashAndReset();
    }

    private void ThrowUnlessWritable()
    {
        switch (_state)
        {
            case State.Writing when _payloadSha256 is null:
                return;
            case State.Writing:
                throw new InvalidOperationException("The payload hash was already taken; no more bytes can be written.");
            case State.Failed:
                throw new InvalidOperationException("A write or commit of this update failed; dispose it and start again.");
            case State.Disposed:
                throw new ObjectDisposedException(nameof(PendingUpdate));
            default:
                throw new InvalidOperationException("The update was already committed.");
        }
    }

    private void EnterBusy()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("Another call on this pending update is still running; calls must not overlap.");
        }
    }

    private void ExitBusy() => Volatile.Write(ref _busy, 0);
}
