using System.Buffers;
using System.IO.Pipelines;

namespace FedAgg.Libp2p.Yamux;

public sealed partial class YamuxSession
{
    // Read-loop state: the data frame whose payload is still arriving (a null stream means discard it).
    private YamuxStream? _payloadStream;
    private long _payloadRemaining;
    private bool _payloadFin;

    private async Task ReadLoopAsync()
    {
        var input = _connection.Input;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    EndSession(new YamuxSessionEnd(YamuxSessionEndReason.TransportClosed, $"reading the connection failed: {ex.Message}"), null);
                    return;
                }

                if (result.IsCanceled || IsEnded)
                {
                    return;
                }

                var buffer = result.Buffer;
                var keepGoing = ProcessFrames(ref buffer);
                input.AdvanceTo(buffer.Start, buffer.End);
                if (!keepGoing)
                {
                    return;
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty || _payloadRemaining > 0)
                    {
                        EndProtocolError(YamuxProtocolViolation.TruncatedFrame, "the connection ended in the middle of a frame");
                    }
                    else
                    {
                        EndSession(TransportClosedEnd(), null);
                    }

                    return;
                }
            }
        }
        catch (Exception ex)
        {
            Log.YamuxLoopFailed(_logger, ex, "read");
            EndSession(new YamuxSessionEnd(YamuxSessionEndReason.InternalError, $"the read loop failed: {ex.Message}"), YamuxGoAwayCode.InternalError);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private YamuxSessionEnd TransportClosedEnd()
    {
        lock (_gate)
        {
            return _remoteGoAway
                ? new YamuxSessionEnd(YamuxSessionEndReason.RemoteGoAway, "the peer sent go-away and closed the connection", GoAwayCode: YamuxGoAwayCode.Normal)
                : new YamuxSessionEnd(YamuxSessionEndReason.TransportClosed, "the connection was closed by the peer");
        }
    }

    /// <summary>Handles every whole header and every payload byte in <paramref name="buffer"/>; false once the session ended.</summary>
    private bool ProcessFrames(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (_payloadRemaining > 0)
            {
                if (buffer.IsEmpty)
                {
                    return true;
                }

                var take = Math.Min(buffer.Length, _payloadRemaining);
                DeliverPayload(_payloadStream, buffer.Slice(0, take));
                buffer = buffer.Slice(take);
                _payloadRemaining -= take;
                if (_payloadRemaining > 0)
                {
                    return true;
                }

                var finished = _payloadStream;
                var fin = _payloadFin;
                _payloadStream = null;
                _payloadFin = false;
                if (fin && finished is not null)
                {
                    OnRemoteFin(finished);
                }

                continue;
            }

            var status = YamuxFrameCodec.TryReadHeader(buffer, _maxDataFrame, out var header, out var error);
            if (status == YamuxDecodeStatus.NeedMoreData)
            {
                return true;
            }

            if (status == YamuxDecodeStatus.Invalid)
            {
                var violation = error switch
                {
                    YamuxFrameError.UnsupportedVersion => YamuxProtocolViolation.UnsupportedVersion,
                    YamuxFrameError.UnknownFrameType => YamuxProtocolViolation.UnknownFrameType,
                    _ => YamuxProtocolViolation.WindowOverrun,
                };
                var message = error == YamuxFrameError.LengthExceedsLimit
                    ? $"window overrun on stream {header.StreamId}: a data frame of {header.Length} bytes exceeds the receive window of {_maxDataFrame}"
                    : YamuxFrameCodec.Describe(error, header, _maxDataFrame);
                EndProtocolError(violation, message);
                return false;
            }

            buffer = buffer.Slice(YamuxFrameHeader.Size);
            var handled = header.Type switch
            {
                YamuxFrameType.Ping => HandlePing(header),
                YamuxFrameType.GoAway => HandleGoAway(header),
                _ => HandleStreamFrame(header),
            };
            if (!handled)
            {
                return false;
            }
        }
    }

    private bool HandlePing(YamuxFrameHeader header)
    {
        if ((header.Flags & YamuxFlags.Syn) != 0)
        {
            var flooded = false;
            lock (_gate)
            {
                if (_end is not null)
                {
                    return false;
                }

                if (_controlFrames.Count >= MaxPendingControlFrames)
                {
                    flooded = true;
                }
                else
                {
                    _controlFrames.Enqueue(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, header.Length));
                }
            }

            if (flooded)
            {
                EndProtocolError(YamuxProtocolViolation.ControlFlood, $"more than {MaxPendingControlFrames} pings unanswered because the peer does not read");
                return false;
            }

            SignalWriter();
            return true;
        }

        if ((header.Flags & YamuxFlags.Ack) != 0)
        {
            PendingPing ping;
            lock (_gate)
            {
                if (!_pings.Remove(header.Length, out ping))
                {
                    ping = default;
                }
            }

            if (ping.Completion is null)
            {
                Log.YamuxUnsolicitedPong(_logger, header.Length);
            }
            else
            {
                ping.Completion.TrySetResult(_time.GetElapsedTime(ping.StartTimestamp));
            }

            return true;
        }

        EndProtocolError(YamuxProtocolViolation.InvalidFrame, $"ping with flags {header.Flags} (neither SYN nor ACK)");
        return false;
    }

    private bool HandleGoAway(YamuxFrameHeader header)
    {
        Log.YamuxRemoteGoAway(_logger, header.Length);
        var code = (YamuxGoAwayCode)header.Length;
        lock (_gate)
        {
            _remoteGoAway = true;
            if (code != YamuxGoAwayCode.Normal)
            {
                EndLocked(new YamuxSessionEnd(YamuxSessionEndReason.RemoteGoAway, $"the peer sent go-away {code}", GoAwayCode: code), null);
            }
            else if (_streams.Count == 0)
            {
                EndLocked(new YamuxSessionEnd(YamuxSessionEndReason.RemoteGoAway, "the peer sent go-away", GoAwayCode: code), null);
            }

            return _end is null;
        }
    }

    private bool HandleStreamFrame(YamuxFrameHeader header)
    {
        var id = header.StreamId;
        var isData = header.Type == YamuxFrameType.Data;
        if (id == 0)
        {
            EndProtocolError(YamuxProtocolViolation.InvalidFrame, $"{header.Type} frame on stream 0");
            return false;
        }

        YamuxStream? stream = null;
        (YamuxProtocolViolation Violation, string Message)? violation = null;
        string? rejected = null;
        var ignored = false;
        var reset = false;
        var signal = false;
        lock (_gate)
        {
            if (_end is not null)
            {
                return false;
            }

            var remoteParity = (id % 2 == 0) == IsClient;
            if ((header.Flags & YamuxFlags.Syn) != 0)
            {
                if (!remoteParity)
                {
                    violation = (YamuxProtocolViolation.WrongParitySyn, $"SYN on stream {id}, an id of our parity (both sides act as {(IsClient ? "client" : "server")}?)");
                }
                else if (id <= _lastRemoteStreamId)
                {
                    violation = (YamuxProtocolViolation.DuplicateSyn, $"duplicate SYN on stream {id} (ids up to {_lastRemoteStreamId} were used)");
                }
                else
                {
                    _lastRemoteStreamId = id;
                    rejected = _localGoAway ? "we sent go-away"
                        : _streams.Count >= _options.MaxStreams ? $"MaxStreams ({_options.MaxStreams}) streams are open"
                        : _backlog >= _options.MaxAcceptBacklog ? $"the accept backlog ({_options.MaxAcceptBacklog}) is full"
                        : null;
                    if (rejected is not null && _controlFrames.Count >= MaxPendingControlFrames)
                    {
                        violation = (YamuxProtocolViolation.ControlFlood, $"more than {MaxPendingControlFrames} rejected streams unanswered because the peer does not read");
                    }
                    else if (rejected is not null)
                    {
                        _controlFrames.Enqueue(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, id, 0));
                        signal = true;
                    }
                    else
                    {
                        stream = NewStreamLocked(id, isOutbound: false);
                        stream._ackPending = true;
                        EnqueueControlLocked(stream);
                        _backlog++;
                        _acceptQueue.Writer.TryWrite(stream);
                        signal = true;
                    }
                }
            }
            else if (!_streams.TryGetValue(id, out stream))
            {
                var used = remoteParity ? id <= _lastRemoteStreamId : id < _nextStreamId;
                if (used)
                {
                    ignored = true;
                }
                else
                {
                    violation = (YamuxProtocolViolation.UnknownStream, $"{header.Type} frame on stream {id}, which was never opened");
                }
            }

            if (stream is not null && violation is null)
            {
                if ((header.Flags & YamuxFlags.Rst) != 0)
                {
                    RemoveLocked(stream);
                    FailStreamLocked(stream, new YamuxStreamResetException($"yamux stream {id} was reset by the peer"));
                    StreamRemovedLocked();
                    reset = true;
                }
                else if (isData)
                {
                    if (stream._remoteFin && header.Length > 0)
                    {
                        violation = (YamuxProtocolViolation.DataAfterFin, $"data after FIN on stream {id}");
                    }
                    else if (header.Length > stream._recvWindow)
                    {
                        violation = (YamuxProtocolViolation.WindowOverrun,
                            $"window overrun on stream {id}: a data frame of {header.Length} bytes with {stream._recvWindow} bytes of window left");
                    }
                    else
                    {
                        stream._recvWindow -= header.Length;
                        stream._receivedBytes += header.Length;
                    }
                }
                else
                {
                    var window = stream._sendWindow + header.Length;
                    if (window > uint.MaxValue)
                    {
                        violation = (YamuxProtocolViolation.WindowOverflow, $"window update on stream {id} takes the send window to {window}");
                    }
                    else
                    {
                        stream._sendWindow = window;
                        signal |= header.Length > 0 && EnqueueDataLocked(stream);
                    }
                }
            }
        }

        if (violation is { } v)
        {
            EndProtocolError(v.Violation, v.Message);
            return false;
        }

        if (signal)
        {
            SignalWriter();
        }

        if (rejected is not null)
        {
            Log.YamuxInboundStreamRejected(_logger, id, rejected);
        }
        else if (ignored)
        {
            Log.YamuxFrameForClosedStream(_logger, header.Type, id);
        }
        else if (reset)
        {
            Log.YamuxStreamReset(_logger, id, "peer");
        }
        else if (stream is not null && (header.Flags & YamuxFlags.Syn) != 0)
        {
            Log.YamuxInboundStream(_logger, id);
        }

        var target = reset || rejected is not null || ignored ? null : stream;
        if (isData && header.Length > 0)
        {
            _payloadStream = target;
            _payloadRemaining = header.Length;
            _payloadFin = (header.Flags & YamuxFlags.Fin) != 0;
        }
        else if (target is not null && (header.Flags & YamuxFlags.Fin) != 0)
        {
            OnRemoteFin(target);
        }

        return true;
    }

    private void DeliverPayload(YamuxStream? stream, ReadOnlySequence<byte> payload)
    {
        if (stream is null)
        {
            return;
        }

        lock (_gate)
        {
            if (stream._inboundClosed)
            {
                return;
            }

            if (stream._inputAbandoned)
            {
                // Dropped, and the window is not given back: a peer that keeps sending after the reader stopped (a
                // rejected upload, say) gets at most the window it already had, not the whole stream's worth decrypted
                // and thrown away. It learns why from the answer and stops, or stalls.
                return;
            }

            var writer = stream._inbound.Writer;
            foreach (var segment in payload)
            {
                writer.Write(segment.Span);
            }

            // The inbound pipe never pauses (the window bounds it), so this completes synchronously.
            var flush = writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                throw new InvalidOperationException("An inbound stream pipe paused its writer.");
            }

            _ = flush.Result;
            stream._buffered += payload.Length;
            DataBuffered?.Invoke(stream);
        }
    }

    private void OnRemoteFin(YamuxStream stream)
    {
        lock (_gate)
        {
            if (stream._remoteFin)
            {
                return;
            }

            stream._remoteFin = true;
            if (!stream._inboundClosed)
            {
                stream._inboundClosed = true;
                stream._inbound.Writer.Complete();
            }

            TryRetireLocked(stream);
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = _connection.Output;
        var token = _writerAbort.Token;
        try
        {
            while (true)
            {
                await _writerSignal.WaitAsync(token).ConfigureAwait(false);
                Volatile.Write(ref _writerSignaled, 0);
                bool more;
                bool ended;
                do
                {
                    long written;
                    bool wroteGoAway;
                    lock (_gate)
                    {
                        written = WriteBatchLocked(output, out more, out wroteGoAway);
                        ended = _end is not null;
                    }

                    if (written > 0)
                    {
                        var flush = await output.FlushAsync(token).ConfigureAwait(false);
                        if (wroteGoAway)
                        {
                            _goAwayFlushed.TrySetResult();
                        }

                        if (flush.IsCompleted || flush.IsCanceled)
                        {
                            EndSession(new YamuxSessionEnd(YamuxSessionEndReason.TransportClosed, "the connection stopped accepting data"), null);
                            return;
                        }
                    }
                }
                while (more);

                if (ended)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The close timeout ran out while flushing the last frames.
        }
        catch (Exception ex)
        {
            EndSession(new YamuxSessionEnd(YamuxSessionEndReason.TransportClosed, $"writing to the connection failed: {ex.Message}"), null);
        }
        finally
        {
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes session frames, then every stream's window update/SYN/ACK/RST, then data frames from the streams in
    /// turn (one frame per stream per turn) until about <see cref="WriteBatchBytes"/> are written.
    /// </summary>
    private long WriteBatchLocked(PipeWriter output, out bool more, out bool wroteGoAway)
    {
        long written = 0;
        wroteGoAway = false;
        while (_controlFrames.TryDequeue(out var frame))
        {
            WriteHeaderLocked(output, frame);
            written += YamuxFrameHeader.Size;
            wroteGoAway |= frame.Type == YamuxFrameType.GoAway;
        }

        while (_controlStreams.TryDequeue(out var stream))
        {
            written += WriteStreamControlLocked(output, stream);
        }

        while (written < WriteBatchBytes && _dataStreams.TryDequeue(out var stream))
        {
            stream._inDataQueue = false;
            written += WriteStreamDataLocked(output, stream, out var requeue);
            if (requeue)
            {
                EnqueueDataLocked(stream);
            }
        }

        more = _controlFrames.Count > 0 || _controlStreams.Count > 0 || _dataStreams.Count > 0;
        return written;
    }

    private void WriteHeaderLocked(PipeWriter output, in YamuxFrameHeader header)
    {
        YamuxFrameCodec.WriteHeader(output, header);
        FrameWritten?.Invoke(header);
    }

    private static YamuxFlags TakeOpeningFlags(YamuxStream stream)
    {
        var flags = YamuxFlags.None;
        if (stream._synPending)
        {
            flags |= YamuxFlags.Syn;
            stream._synPending = false;
        }

        if (stream._ackPending)
        {
            flags |= YamuxFlags.Ack;
            stream._ackPending = false;
        }

        return flags;
    }

    private int WriteStreamControlLocked(PipeWriter output, YamuxStream stream)
    {
        stream._inControlQueue = false;
        if (stream._rstPending)
        {
            stream._rstPending = false;
            var neverAnnounced = stream._synPending;
            var flags = TakeOpeningFlags(stream);
            if (neverAnnounced)
            {
                return 0;
            }

            WriteHeaderLocked(output, new YamuxFrameHeader(YamuxFrameType.WindowUpdate, (flags & YamuxFlags.Ack) | YamuxFlags.Rst, stream.Id, 0));
            return YamuxFrameHeader.Size;
        }

        if (!stream._inTable || (!stream._synPending && !stream._ackPending && stream._pendingGrant == 0))
        {
            return 0;
        }

        var grant = (uint)stream._pendingGrant;
        stream._pendingGrant = 0;
        WriteHeaderLocked(output, new YamuxFrameHeader(YamuxFrameType.WindowUpdate, TakeOpeningFlags(stream), stream.Id, grant));
        return YamuxFrameHeader.Size;
    }

    private long WriteStreamDataLocked(PipeWriter output, YamuxStream stream, out bool requeue)
    {
        requeue = false;
        if (!stream._inTable || stream._outboundClosed)
        {
            return 0;
        }

        var reader = stream._outbound.Reader;
        if (!reader.TryRead(out var result))
        {
            return 0;
        }

        var buffer = result.Buffer;
        // Read before AdvanceTo: the sequence's segments go back to the pipe's pool after it.
        var available = buffer.Length;
        var length = Math.Min(available, Math.Min(stream._sendWindow, _options.MaxFrameDataBytes));
        // FIN travels in its own empty frame after the last data: js-libp2p-yamux handles a frame's FIN before its data
        // and drops data that arrives on a stream whose reading side it already closed.
        var fin = result.IsCompleted && available == 0;
        if (length == 0 && !fin)
        {
            reader.AdvanceTo(buffer.Start);
            return 0;
        }

        var flags = TakeOpeningFlags(stream) | (fin ? YamuxFlags.Fin : YamuxFlags.None);
        if (length == 0)
        {
            WriteHeaderLocked(output, new YamuxFrameHeader(YamuxFrameType.WindowUpdate, flags, stream.Id, 0));
        }
        else
        {
            WriteHeaderLocked(output, new YamuxFrameHeader(YamuxFrameType.Data, flags, stream.Id, (uint)length));
            foreach (var segment in buffer.Slice(0, length))
            {
                output.Write(segment.Span);
            }
        }

        stream._sendWindow -= length;
        stream._sentBytes += length;
        reader.AdvanceTo(buffer.GetPosition(length));
        if (fin)
        {
            reader.Complete();
            stream._outboundClosed = true;
            stream._localFinSent = true;
            TryRetireLocked(stream);
        }
        else
        {
            requeue = (available > length && stream._sendWindow > 0) || (result.IsCompleted && available == length);
        }

        return YamuxFrameHeader.Size + length;
    }

    private (uint Opaque, Task<TimeSpan> Task) StartPing()
    {
        var completion = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint opaque;
        lock (_gate)
        {
            if (_end is not null)
            {
                throw new Libp2pException($"The yamux session has ended: {_end.Message}");
            }

            opaque = _nextPingId++;
            _pings[opaque] = new PendingPing(completion, _time.GetTimestamp());
            _controlFrames.Enqueue(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, opaque));
        }

        SignalWriter();
        return (opaque, completion.Task);
    }

    private async Task KeepAliveLoopAsync(TimeSpan interval)
    {
        var token = _keepAliveStop.Token;
        try
        {
            while (true)
            {
                // Stopping is the normal end of every session: no exception for it.
                await Task.Delay(interval, _time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (token.IsCancellationRequested)
                {
                    return;
                }

                var (opaque, ping) = StartPing();
                try
                {
                    await ping.WaitAsync(_options.KeepAliveTimeout, _time, token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    lock (_gate)
                    {
                        _pings.Remove(opaque);
                    }

                    Log.YamuxKeepAliveTimeout(_logger, _options.KeepAliveTimeout);
                    EndSession(
                        new YamuxSessionEnd(YamuxSessionEndReason.KeepAliveTimeout, $"keep-alive timeout: no ping response within {_options.KeepAliveTimeout}"),
                        null);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
        catch (Libp2pException)
        {
            // The session ended before or while pinging.
        }
    }
}
