using System.Buffers;
using System.IO.Pipelines;

namespace FedAgg.Libp2p.Yamux;

/// <summary>
/// One yamux stream: a duplex byte channel multiplexed over a <see cref="YamuxSession"/>. Read <see cref="Input"/>
/// (advance past what you consumed; that is what reopens the peer's send window) and write <see cref="Output"/>
/// (completing it sends FIN). Created by <see cref="YamuxSession.OpenStreamAsync"/> and
/// <see cref="YamuxSession.AcceptStreamAsync"/>.
/// </summary>
public sealed class YamuxStream : IDuplexPipe, IAsyncDisposable
{
    // Everything below is guarded by the session's gate; the inner pipes' session-side ends (_inbound.Writer,
    // _outbound.Reader) are used only under it.
    internal readonly Pipe _inbound;
    internal readonly Pipe _outbound;
    internal bool _inTable;
    internal bool _synPending;
    internal bool _ackPending;
    internal bool _rstPending;
    internal bool _remoteFin;
    internal bool _localFinSent;
    internal bool _inboundClosed;
    internal bool _outboundClosed;
    internal bool _inputAbandoned;
    internal bool _inControlQueue;
    internal bool _inDataQueue;
    internal long _sendWindow;
    internal long _recvWindow;
    internal long _buffered;
    internal long _unacked;
    internal long _pendingGrant;
    internal long _sentBytes;
    internal long _receivedBytes;

    private readonly YamuxSession _session;

    internal YamuxStream(YamuxSession session, uint id, bool isOutbound, PipeOptions inboundOptions, PipeOptions outboundOptions)
    {
        _session = session;
        Id = id;
        IsOutbound = isOutbound;
        _inbound = new Pipe(inboundOptions);
        _outbound = new Pipe(outboundOptions);
        Input = new StreamInput(this, _inbound.Reader);
        Output = new StreamOutput(this, _outbound.Writer);
    }

    /// <summary>The yamux stream id: odd for streams the client (dialler) opened, even for the server's.</summary>
    public uint Id { get; }

    /// <summary>Whether we opened the stream (rather than accepted it).</summary>
    public bool IsOutbound { get; }

    /// <summary>
    /// Data from the peer. Completes (<see cref="ReadResult.IsCompleted"/>) after the peer's FIN; throws
    /// <see cref="YamuxStreamResetException"/> after a reset by either side or when the session ends before the peer's FIN.
    /// Completing it early tells the session to discard (and still acknowledge) whatever else the peer sends. Only
    /// consumed bytes reopen the window, so never wait for more than <see cref="YamuxOptions.InitialWindowBytes"/>
    /// unconsumed bytes (e.g. <c>ReadAtLeastAsync</c> with a larger minimum): the peer cannot send them.
    /// </summary>
    public PipeReader Input { get; }

    /// <summary>
    /// Data to the peer, sent as DATA frames never larger than the peer's current window; <c>FlushAsync</c> waits while
    /// the unsent data exceeds <see cref="YamuxOptions.StreamWriteBufferBytes"/> (for instance while the peer's window
    /// is 0), and throws <see cref="YamuxStreamResetException"/> once the stream is reset. <c>Complete()</c> sends FIN
    /// after the data written; completing with an exception resets the stream.
    /// </summary>
    public PipeWriter Output { get; }

    /// <summary>Bytes of DATA sent on the stream so far (diagnostics and tests).</summary>
    internal long SentBytes => _session.ReadLocked(this, static s => s._sentBytes);

    /// <summary>Bytes of DATA received on the stream so far.</summary>
    internal long ReceivedBytes => _session.ReadLocked(this, static s => s._receivedBytes);

    /// <summary>Received bytes the application has not consumed yet.</summary>
    internal long BufferedBytes => _session.ReadLocked(this, static s => s._buffered);

    /// <summary>The peer's window left to us.</summary>
    internal long SendWindow => _session.ReadLocked(this, static s => s._sendWindow);

    /// <summary>Sends RST (if the peer knows the stream) and fails both directions locally. Idempotent; a no-op once the
    /// stream has closed normally in both directions.</summary>
    public void Reset() => _session.ResetStream(this);

    /// <summary>Sends FIN if not sent already and stops reading; data still arriving from the peer is discarded (and its
    /// window returned) until the peer's FIN.</summary>
    public ValueTask DisposeAsync()
    {
        Output.Complete();
        Input.Complete();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"yamux stream {Id} ({(IsOutbound ? "outbound" : "inbound")})";

    private sealed class StreamInput(YamuxStream stream, PipeReader inner) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }

            _last = result.Buffer;
            return true;
        }

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            _last = result.Buffer;
            return result;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            var bytes = _last.Slice(_last.Start, consumed).Length;
            inner.AdvanceTo(consumed, examined);
            _last = default;
            if (bytes > 0)
            {
                stream._session.OnInputConsumed(stream, bytes);
            }
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            stream._session.OnInputAbandoned(stream);
            inner.Complete(exception);
        }
    }

    private sealed class StreamOutput(YamuxStream stream, PipeWriter inner) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            var flush = inner.FlushAsync(cancellationToken);
            stream._session.OnOutputReady(stream);
            return flush;
        }

        public override void Complete(Exception? exception = null)
        {
            if (exception is not null)
            {
                stream._session.ResetStream(stream);
            }

            inner.Complete(exception);
            stream._session.OnOutputReady(stream);
        }
    }
}
