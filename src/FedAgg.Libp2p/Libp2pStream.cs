using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p;

/// <summary>
/// A negotiated protocol stream on a <see cref="Libp2pConnection"/> (one Yamux stream after multistream-select).
/// Use <see cref="Input"/>/<see cref="Output"/> for raw bytes, or <see cref="ReadMessageAsync"/>/<see cref="WriteMessageAsync"/>
/// for uvarint-length-prefixed messages. Completing <see cref="Output"/> (or <see cref="CompleteWritesAsync"/>) half-closes
/// the stream; <see cref="Reset"/> aborts both directions.
/// </summary>
public sealed class Libp2pStream : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Large messages are handed to the muxer in pieces of this size so that back-pressure applies.</summary>
    private const int WriteChunkBytes = 64 * 1024;

    /// <summary>A message buffer starts at most this large and grows as bytes arrive, so a bare length costs little.</summary>
    private const int InitialMessageBuffer = 64 * 1024;

    private readonly IDuplexPipe _pipe;
    private readonly Action _reset;
    private readonly Func<ValueTask> _dispose;
    private int _disposed;

    internal Libp2pStream(string protocol, PeerId remotePeer, Libp2pConnection? connection, IDuplexPipe pipe, int maxMessageBytes, Action reset, Func<ValueTask> dispose)
    {
        Protocol = protocol;
        RemotePeer = remotePeer;
        Connection = connection!;
        _pipe = pipe;
        MaxMessageBytes = maxMessageBytes;
        _reset = reset;
        _dispose = dispose;
    }

    /// <summary>The negotiated protocol id.</summary>
    public string Protocol { get; }

    /// <summary>The peer at the other end.</summary>
    public PeerId RemotePeer { get; }

    /// <summary>The connection the stream belongs to.</summary>
    public Libp2pConnection Connection { get; }

    /// <summary>Bytes from the peer; completes after the peer's half-close, throws <see cref="Libp2pException"/> after a reset.</summary>
    public PipeReader Input => _pipe.Input;

    /// <summary>Bytes to the peer; completing it half-closes the stream (FIN).</summary>
    public PipeWriter Output => _pipe.Output;

    /// <summary>
    /// The largest message <see cref="ReadMessageAsync"/> accepts; starts at the host's limit for this protocol
    /// (<see cref="Libp2pHostOptions.MaxMessageBytesPerProtocol"/> or <see cref="Libp2pHostOptions.DefaultMaxMessageBytes"/>).
    /// </summary>
    public int MaxMessageBytes { get; set; }

    /// <summary>
    /// Reads one uvarint-length-prefixed message. Returns <c>null</c> when the peer half-closed the stream cleanly between
    /// messages.
    /// </summary>
    /// <exception cref="Libp2pException">
    /// The length exceeds <see cref="MaxMessageBytes"/> or is malformed (the stream is reset), the stream ended inside a
    /// message, or the stream was reset.
    /// </exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        // The length first; the body is then consumed as it arrives (the muxer grants more window only for consumed
        // bytes, so waiting for a whole large message in the pipe would stall), into a buffer grown as bytes arrive.
        long length;
        while (true)
        {
            var result = await ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = UnsignedVarint.TryRead(buffer, out var declared, out var lengthBytes);
            if (status == VarintStatus.Invalid || (status == VarintStatus.Done && declared > (ulong)MaxMessageBytes))
            {
                Input.AdvanceTo(buffer.Start);
                Reset();
                throw new Libp2pException(status == VarintStatus.Invalid
                    ? $"The {Protocol} stream from {RemotePeer} sent a malformed message length; the stream was reset."
                    : $"The {Protocol} stream from {RemotePeer} announced a {declared}-byte message, over the {MaxMessageBytes}-byte limit; the stream was reset.");
            }

            if (status == VarintStatus.Done)
            {
                length = (long)declared;
                Input.AdvanceTo(buffer.GetPosition(lengthBytes));
                break;
            }

            Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                if (buffer.IsEmpty)
                {
                    return null;
                }

                throw new Libp2pException($"The {Protocol} stream from {RemotePeer} ended inside a message length.");
            }
        }

        // Buffers smaller than the message are rented and returned as it grows; only the final, exact one is allocated
        // (for a 1 MiB message that saves a megabyte of large-object garbage and the gen-2 collections it causes).
        var capacity = (int)Math.Min(length, InitialMessageBuffer);
        var message = capacity == length ? new byte[capacity] : ArrayPool<byte>.Shared.Rent(capacity);
        var filled = 0;
        try
        {
            while (filled < length)
            {
                var result = await ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                var take = (int)Math.Min(buffer.Length, length - filled);
                if (filled + take > capacity)
                {
                    var grown = (int)Math.Min(length, Math.Max((long)capacity * 2, filled + take));
                    var next = grown == length ? new byte[grown] : ArrayPool<byte>.Shared.Rent(grown);
                    message.AsSpan(0, filled).CopyTo(next);
                    ReturnIfRented(message, capacity, length);
                    message = next;
                    capacity = grown;
                }

                buffer.Slice(0, take).CopyTo(message.AsSpan(filled));
                filled += take;
                Input.AdvanceTo(buffer.GetPosition(take));
                if (filled < length && (result.IsCompleted || result.IsCanceled))
                {
                    throw new Libp2pException($"The {Protocol} stream from {RemotePeer} ended inside a message ({filled} of {length} bytes).");
                }
            }
        }
        catch
        {
            ReturnIfRented(message, capacity, length);
            throw;
        }

        return message;
    }

    /// <summary>Writes <paramref name="message"/> with its uvarint length prefix and flushes it.</summary>
    /// <exception cref="Libp2pException">The stream was reset or closed by the peer.</exception>
    public async ValueTask WriteMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        UnsignedVarint.Write((ulong)message.Length, Output);
        var remaining = message;
        do
        {
            var chunk = remaining[..Math.Min(remaining.Length, WriteChunkBytes)];
            Output.Write(chunk.Span);
            remaining = remaining[chunk.Length..];
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        while (!remaining.IsEmpty);
    }

    /// <summary>Half-closes the stream: the peer sees the end of the data; reading continues.</summary>
    public async ValueTask CompleteWritesAsync() => await Output.CompleteAsync().ConfigureAwait(false);

    /// <summary>Aborts the stream in both directions (Yamux RST).</summary>
    public void Reset() => _reset();

    /// <summary>Half-closes if not done yet and releases the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _dispose().ConfigureAwait(false);
        }
    }

    /// <summary>The protocol and peer.</summary>
    public override string ToString() => $"{Protocol} with {RemotePeer}";

    private static void ReturnIfRented(byte[] buffer, int capacity, long length)
    {
        if (capacity != length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
        {
            throw new Libp2pException($"The {Protocol} stream from {RemotePeer} failed: {e.Message}", e);
        }
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        FlushResult flush;
        try
        {
            flush = await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
        {
            throw new Libp2pException($"Writing to the {Protocol} stream of {RemotePeer} failed: {e.Message}", e);
        }

        if (flush.IsCompleted || flush.IsCanceled)
        {
            throw new Libp2pException($"The {Protocol} stream of {RemotePeer} was closed by the peer.");
        }
    }
}
