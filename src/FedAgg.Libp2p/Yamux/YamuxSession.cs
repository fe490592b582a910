using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Libp2p.Yamux;

/// <summary>
/// A yamux session (hashicorp/yamux spec, libp2p <c>/yamux/1.0.0</c>) over an established, ordered, reliable byte
/// connection such as a decrypted Noise channel. One read loop decodes frames, one write loop frames data from all
/// streams in turn (never more than a stream's window, never interleaving frames) and an optional keep-alive loop
/// pings the peer. Peer misbehaviour ends the session with a reason (<see cref="Completion"/>); nothing throws out of
/// the loops.
/// </summary>
public sealed partial class YamuxSession : IAsyncDisposable
{
    private const int WriteBatchBytes = 256 * 1024;

    // Pongs and RSTs we owe the peer but could not write yet (it is not reading); more ends the session.
    private const int MaxPendingControlFrames = 4096;

    private readonly IDuplexPipe _connection;
    private readonly YamuxOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PipeOptions _inboundPipeOptions;
    private readonly PipeOptions _outboundPipeOptions;
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, YamuxStream> _streams = [];
    private readonly Queue<YamuxFrameHeader> _controlFrames = new();
    private readonly Queue<YamuxStream> _controlStreams = new();
    private readonly Queue<YamuxStream> _dataStreams = new();
    private readonly Dictionary<uint, PendingPing> _pings = [];
    private readonly Channel<YamuxStream> _acceptQueue = Channel.CreateUnbounded<YamuxStream>();
    private readonly SemaphoreSlim _writerSignal = new(0);
    private readonly CancellationTokenSource _writerAbort;
    private readonly CancellationTokenSource _keepAliveStop = new();
    private readonly TaskCompletionSource<YamuxSessionEnd> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _goAwayFlushed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly uint _maxDataFrame;
    private long _nextStreamId;
    private uint _lastRemoteStreamId;
    private uint _nextPingId;
    private int _backlog;
    private int _writerSignaled;
    private bool _started;
    private bool _localGoAway;
    private bool _remoteGoAway;
    private YamuxSessionEnd? _end;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _keepAliveLoop = Task.CompletedTask;
    private Task? _finish;

    /// <summary>Creates a session; nothing is read or written until <see cref="Start"/>.</summary>
    /// <param name="connection">The connection; the session owns it and completes both ends when it ends.</param>
    /// <param name="isClient">Whether we dialled (client streams have odd ids, server streams even ids).</param>
    /// <param name="options">Limits and timers; validated here.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <param name="timeProvider">The clock for keep-alive, ping round-trip times and the close timeout; the system
    /// clock by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public YamuxSession(
        IDuplexPipe connection, bool isClient, YamuxOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connection = connection;
        _options = options;
        IsClient = isClient;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _writerAbort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        _nextStreamId = isClient ? 1 : 2;
        _maxDataFrame = (uint)options.InitialWindowBytes;

        // The window bounds what the read loop buffers per stream, so the inbound pipe never needs to pause it.
        _inboundPipeOptions = new PipeOptions(
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            minimumSegmentSize: options.StreamBufferSegmentBytes,
            useSynchronizationContext: false);
        _outboundPipeOptions = new PipeOptions(
            pauseWriterThreshold: options.StreamWriteBufferBytes,
            resumeWriterThreshold: Math.Max(1, options.StreamWriteBufferBytes / 2),
            minimumSegmentSize: options.StreamBufferSegmentBytes,
            useSynchronizationContext: false);
    }

    /// <summary>Whether we are the client (dialler) of the connection.</summary>
    public bool IsClient { get; }

    /// <summary>Completes, never faulting, when the session has ended and its loops have stopped, with the reason.</summary>
    public Task<YamuxSessionEnd> Completion => _completion.Task;

    /// <summary>Streams open in either direction, including inbound ones not yet accepted.</summary>
    public int ActiveStreamCount
    {
        get
        {
            lock (_gate)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Test hook: called (under the session lock) for every frame header the write loop puts on the wire.</summary>
    internal Action<YamuxFrameHeader>? FrameWritten { get; set; }

    /// <summary>Test hook: called (under the session lock) after received DATA was buffered for a stream.</summary>
    internal Action<YamuxStream>? DataBuffered { get; set; }

    /// <summary>Test hook: called (under the session lock) when a stream leaves the stream table (both FINs, or a reset).</summary>
    internal Action<YamuxStream>? StreamRemoved { get; set; }

    /// <summary>Starts the read, write and keep-alive loops.</summary>
    /// <exception cref="InvalidOperationException">The session was already started or has ended.</exception>
    public void Start()
    {
        lock (_gate)
        {
            if (_started || _end is not null)
            {
                throw new InvalidOperationException("The yamux session was already started or has ended.");
            }

            _started = true;
            _readLoop = Task.Run(ReadLoopAsync);
            _writeLoop = Task.Run(WriteLoopAsync);
            if (_options.KeepAliveInterval is { } interval)
            {
                _keepAliveLoop = Task.Run(() => KeepAliveLoopAsync(interval));
            }
        }

        Log.YamuxSessionStarted(_logger, IsClient ? "client" : "server");
    }

    /// <summary>Opens a stream; its SYN goes out at once as a window update, without waiting for the peer's ACK.</summary>
    /// <param name="cancellationToken">Cancels before the stream is created.</param>
    /// <returns>The new stream.</returns>
    /// <exception cref="Libp2pException">The session has ended, either side sent go-away, <see cref="YamuxOptions.MaxStreams"/>
    /// streams are open, or the stream ids are used up.</exception>
    public ValueTask<YamuxStream> OpenStreamAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        YamuxStream stream;
        lock (_gate)
        {
            if (_end is not null)
            {
                throw new Libp2pException($"The yamux session has ended: {_end.Message}");
            }

            if (_remoteGoAway || _localGoAway)
            {
                throw new Libp2pException(
                    $"The yamux session is going away ({(_remoteGoAway ? "the peer" : "we")} sent go-away); no new streams.");
            }

            if (_streams.Count >= _options.MaxStreams)
            {
                throw new Libp2pException($"The yamux session already has MaxStreams ({_options.MaxStreams}) streams open.");
            }

            if (_nextStreamId > uint.MaxValue)
            {
                throw new Libp2pException("The yamux session has used up its stream ids.");
            }

            var id = (uint)_nextStreamId;
            _nextStreamId += 2;
            stream = NewStreamLocked(id, isOutbound: true);
            stream._synPending = true;
            EnqueueControlLocked(stream);
        }

        Log.YamuxStreamOpened(_logger, stream.Id);
        SignalWriter();
        return ValueTask.FromResult(stream);
    }

    /// <summary>Waits for the next stream the peer opens.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The stream, or <see langword="null"/> once the session has ended.</returns>
    public async ValueTask<YamuxStream?> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        while (await _acceptQueue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lock (_gate)
            {
                if (_end is not null)
                {
                    return null;
                }

                if (_acceptQueue.Reader.TryRead(out var stream))
                {
                    _backlog--;
                    return stream;
                }
            }
        }

        return null;
    }

    /// <summary>Sends a ping and waits for the peer's answer.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The round-trip time measured with the session's clock.</returns>
    /// <exception cref="Libp2pException">The session has ended (or ends before the answer).</exception>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var (opaque, task) = StartPing();
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                _pings.Remove(opaque);
            }

            throw;
        }
    }

    /// <summary>
    /// Sends go-away: we accept no new streams (the peer's SYNs are reset) and open none. With
    /// <see cref="YamuxGoAwayCode.Normal"/> existing streams may finish and the session ends when the last one closes;
    /// with an error code the session ends at once.
    /// </summary>
    /// <param name="code">The code to send.</param>
    /// <param name="cancellationToken">Cancels waiting for the frame to be flushed to the connection.</param>
    /// <returns>Completes once the go-away frame was flushed (or the session ended).</returns>
    public async ValueTask GoAwayAsync(YamuxGoAwayCode code, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_end is null)
            {
                if (!_localGoAway)
                {
                    _localGoAway = true;
                    _controlFrames.Enqueue(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, (uint)code));
                }

                if (code != YamuxGoAwayCode.Normal)
                {
                    EndLocked(new YamuxSessionEnd(YamuxSessionEndReason.LocalGoAway, $"we sent go-away {code}", GoAwayCode: code), null);
                }
                else if (_streams.Count == 0)
                {
                    EndLocked(new YamuxSessionEnd(YamuxSessionEndReason.LocalClose, "we sent go-away and no stream was left", GoAwayCode: code), null);
                }
            }
            else
            {
                return;
            }
        }

        SignalWriter();
        await _goAwayFlushed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the session now (sending a normal go-away if none was sent, flushed within
    /// <see cref="YamuxOptions.CloseTimeout"/>): streams the peer had not finished fail with
    /// <see cref="YamuxStreamResetException"/>, the loops stop and both ends of the connection are completed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task finish;
        lock (_gate)
        {
            EndLocked(new YamuxSessionEnd(YamuxSessionEndReason.LocalClose, "the session was disposed"), YamuxGoAwayCode.Normal);
            finish = _finish!;
        }

        await finish.ConfigureAwait(false);
        _writerAbort.Dispose();
        _keepAliveStop.Dispose();
        _writerSignal.Dispose();
    }

    internal T ReadLocked<T>(YamuxStream stream, Func<YamuxStream, T> read)
    {
        lock (_gate)
        {
            return read(stream);
        }
    }

    internal void OnInputConsumed(YamuxStream stream, long bytes)
    {
        bool signal;
        lock (_gate)
        {
            stream._buffered -= bytes;
            signal = CreditLocked(stream, bytes);
        }

        if (signal)
        {
            SignalWriter();
        }
    }

    internal void OnInputAbandoned(YamuxStream stream)
    {
        lock (_gate)
        {
            if (stream._inputAbandoned)
            {
                return;
            }

            // What was buffered is dropped with the pipe and not credited back (see DeliverPayload).
            stream._inputAbandoned = true;
            stream._buffered = 0;
        }
    }

    internal void OnOutputReady(YamuxStream stream)
    {
        lock (_gate)
        {
            if (!EnqueueDataLocked(stream))
            {
                return;
            }
        }

        SignalWriter();
    }

    internal void ResetStream(YamuxStream stream)
    {
        lock (_gate)
        {
            if (stream._inboundClosed && stream._outboundClosed && !stream._inTable)
            {
                return;
            }

            RemoveLocked(stream);
            FailStreamLocked(stream, new YamuxStreamResetException($"yamux stream {stream.Id} was reset locally"));
            if (_end is null)
            {
                stream._rstPending = true;
                EnqueueControlLocked(stream);
            }

            StreamRemovedLocked();
        }

        Log.YamuxStreamReset(_logger, stream.Id, "local side");
        SignalWriter();
    }

    private YamuxStream NewStreamLocked(uint id, bool isOutbound)
    {
        var stream = new YamuxStream(this, id, isOutbound, _inboundPipeOptions, _outboundPipeOptions)
        {
            _inTable = true,
            _sendWindow = YamuxOptions.SpecInitialWindowBytes,
            _recvWindow = _options.InitialWindowBytes,
            _pendingGrant = _options.InitialWindowBytes - YamuxOptions.SpecInitialWindowBytes,
        };
        _streams.Add(id, stream);
        return stream;
    }

    /// <summary>Counts bytes the application is done with toward the next window update; true if one was queued.</summary>
    private bool CreditLocked(YamuxStream stream, long bytes)
    {
        if (!stream._inTable || stream._remoteFin)
        {
            return false;
        }

        stream._unacked += bytes;
        if (stream._unacked < _options.InitialWindowBytes / 2)
        {
            return false;
        }

        stream._pendingGrant += stream._unacked;
        stream._recvWindow += stream._unacked;
        stream._unacked = 0;
        return EnqueueControlLocked(stream);
    }

    private bool EnqueueControlLocked(YamuxStream stream)
    {
        if (stream._inControlQueue || _end is not null)
        {
            return false;
        }

        stream._inControlQueue = true;
        _controlStreams.Enqueue(stream);
        return true;
    }

    private bool EnqueueDataLocked(YamuxStream stream)
    {
        if (stream._inDataQueue || !stream._inTable || stream._outboundClosed || _end is not null)
        {
            return false;
        }

        stream._inDataQueue = true;
        _dataStreams.Enqueue(stream);
        return true;
    }

    private void RemoveLocked(YamuxStream stream)
    {
        if (stream._inTable)
        {
            stream._inTable = false;
            _streams.Remove(stream.Id);
            StreamRemoved?.Invoke(stream);
        }
    }

    private void TryRetireLocked(YamuxStream stream)
    {
        if (stream._inTable && stream._remoteFin && stream._localFinSent)
        {
            RemoveLocked(stream);
            StreamRemovedLocked();
        }
    }

    /// <summary>After a go-away in either direction the session ends once its last stream is gone.</summary>
    private void StreamRemovedLocked()
    {
        if (_end is not null || _streams.Count > 0)
        {
            return;
        }

        if (_remoteGoAway)
        {
            EndLocked(new YamuxSessionEnd(
                YamuxSessionEndReason.RemoteGoAway, "the peer sent go-away and the last stream closed", GoAwayCode: YamuxGoAwayCode.Normal), null);
        }
        else if (_localGoAway)
        {
            EndLocked(new YamuxSessionEnd(
                YamuxSessionEndReason.LocalClose, "we sent go-away and the last stream closed", GoAwayCode: YamuxGoAwayCode.Normal), null);
        }
    }

    /// <summary>Fails whatever direction is still open; data the peer finished (FIN) stays readable.</summary>
    private static void FailStreamLocked(YamuxStream stream, YamuxStreamResetException exception)
    {
        if (!stream._inboundClosed)
        {
            stream._inboundClosed = true;
            stream._inbound.Writer.Complete(exception);
        }

        if (!stream._outboundClosed)
        {
            stream._outboundClosed = true;
            stream._outbound.Reader.Complete(exception);
        }
    }

    private void EndProtocolError(YamuxProtocolViolation violation, string message)
    {
        Log.YamuxProtocolViolation(_logger, violation, message);
        EndSession(
            new YamuxSessionEnd(YamuxSessionEndReason.ProtocolError, message, violation, YamuxGoAwayCode.ProtocolError),
            YamuxGoAwayCode.ProtocolError);
    }

    private void EndSession(YamuxSessionEnd end, YamuxGoAwayCode? goAway)
    {
        lock (_gate)
        {
            EndLocked(end, goAway);
        }
    }

    /// <summary>
    /// Marks the session ended (the first reason wins), fails what the peer did not finish and hands the rest (stopping
    /// the loops, completing <see cref="Completion"/>) to a background task, so it is safe under the lock.
    /// </summary>
    private void EndLocked(YamuxSessionEnd end, YamuxGoAwayCode? goAway)
    {
        if (_end is not null)
        {
            return;
        }

        _end = end;
        if (goAway is { } code && !_localGoAway && _started)
        {
            _localGoAway = true;
            _controlFrames.Enqueue(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, (uint)code));
        }

        var exception = new Libp2pException($"The yamux session has ended: {end.Message}");
        foreach (var stream in _streams.Values)
        {
            stream._inTable = false;
            FailStreamLocked(
                stream,
                new YamuxStreamResetException($"yamux stream {stream.Id}: the session ended before the peer finished it ({end.Message})"));
        }

        _streams.Clear();
        _controlStreams.Clear();
        _dataStreams.Clear();
        foreach (var ping in _pings.Values)
        {
            ping.Completion.TrySetException(exception);
            _ = ping.Completion.Task.Exception;
        }

        _pings.Clear();
        _acceptQueue.Writer.TryComplete();
        while (_acceptQueue.Reader.TryRead(out var unaccepted))
        {
            unaccepted._inbound.Reader.Complete();
            unaccepted._outbound.Writer.Complete();
        }

        _finish = Task.Run(FinishAsync);
    }

    private async Task FinishAsync()
    {
        try
        {
            SignalWriter();
            try
            {
                _connection.Input.CancelPendingRead();
            }
            catch (InvalidOperationException)
            {
                // The read loop already completed the reader.
            }

            await _keepAliveStop.CancelAsync().ConfigureAwait(false);
            _writerAbort.CancelAfter(_options.CloseTimeout);
            await Task.WhenAll(_readLoop, _writeLoop, _keepAliveLoop).ConfigureAwait(false);
            bool started;
            lock (_gate)
            {
                started = _started;
            }

            if (!started)
            {
                await _connection.Input.CompleteAsync().ConfigureAwait(false);
                await _connection.Output.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.YamuxLoopFailed(_logger, ex, "shutdown");
        }
        finally
        {
            _goAwayFlushed.TrySetResult();
            var end = _end!;
            Log.YamuxSessionEnded(_logger, end.Reason, end.Message);
            _completion.TrySetResult(end);
        }
    }

    private void SignalWriter()
    {
        if (Interlocked.Exchange(ref _writerSignaled, 1) == 0)
        {
            try
            {
                _writerSignal.Release();
            }
            catch (ObjectDisposedException)
            {
                // The session is gone; nothing is left to write.
            }
        }
    }

    private bool IsEnded
    {
        get
        {
            lock (_gate)
            {
                return _end is not null;
            }
        }
    }

    private readonly record struct PendingPing(TaskCompletionSource<TimeSpan> Completion, long StartTimestamp);
}
