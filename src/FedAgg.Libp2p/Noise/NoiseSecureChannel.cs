using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// The Noise transport phase over a connection: what the application writes to <see cref="Output"/> is cut into
/// frames of at most 65519 plaintext bytes, encrypted and sent; frames from the peer are decrypted into
/// <see cref="Input"/>. A bad tag, a frame shorter than a tag, or a truncated frame ends the channel (<see cref="Input"/>
/// fails with a <see cref="Libp2pException"/>, writes are dropped) and <see cref="FailureReason"/> says why.
/// </summary>
/// <remarks>
/// There are no loops and no threads of its own: frames are decrypted by whoever reads <see cref="Input"/>, when it
/// reads, and encrypted by whoever flushes <see cref="Output"/>, when it flushes (several frames per flush, each sealed
/// in place in a pooled buffer, then copied once into the transport). So a byte crosses no thread between the socket
/// loops and the muxer, and the transport's own bounded pipes are the only buffers that back-pressure applies to:
/// plaintext waiting in <see cref="Input"/> is at most what one read of the transport decrypted and the reader has not
/// consumed, and plaintext waiting in <see cref="Output"/> is what the writer wrote since its last flush. One reader
/// and one writer at a time, as for any pipe.
/// </remarks>
internal sealed class NoiseSecureChannel : IDuplexPipe, IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly NoiseCipherState _send;
    private readonly NoiseCipherState _receive;
    private readonly TimeProvider _timeProvider;
    private readonly SecureInput _input;
    private readonly SecureOutput _output;
    private readonly TaskCompletionSource _inputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastActivity;
    private volatile string? _failureReason;
    private volatile bool _aborted;
    private int _disposed;

    public NoiseSecureChannel(IDuplexPipe transport, NoiseCipherState send, NoiseCipherState receive, TimeProvider timeProvider)
    {
        _transport = transport;
        _send = send;
        _receive = receive;
        _timeProvider = timeProvider;
        _lastActivity = timeProvider.GetTimestamp();
        _input = new SecureInput(this);
        _output = new SecureOutput(this);
        Completion = Task.WhenAll(_inputDone.Task, _outputDone.Task);
    }

    /// <summary>Decrypted bytes from the peer; completes at the peer's end of stream.</summary>
    public PipeReader Input => _input;

    /// <summary>Plaintext to encrypt and send; completing it ends the connection's sending side.</summary>
    public PipeWriter Output => _output;

    /// <summary>Completes (never faults) when both directions have ended (completed, failed or aborted).</summary>
    public Task Completion { get; }

    /// <summary>Completes (never faults) when everything written has been encrypted and handed to the transport, which is then
    /// completed, or when the channel was aborted.</summary>
    public Task SendCompletion => _outputDone.Task;

    /// <summary>Why the channel failed, or <c>null</c> while it is healthy or ended cleanly.</summary>
    public string? FailureReason => _failureReason;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the last frame sent or received.</summary>
    public long LastActivityTimestamp => Interlocked.Read(ref _lastActivity);

    /// <summary>
    /// Stops both directions: a pending read or flush of the transport is woken, reads then fail with an error carrying
    /// <paramref name="reason"/>, and writes are dropped.
    /// </summary>
    public void Abort(string reason)
    {
        _failureReason ??= reason;
        _aborted = true;
        _outputDone.TrySetResult();
        try
        {
            _transport.Output.CancelPendingFlush();
        }
        catch (InvalidOperationException)
        {
            // The transport's writer is already completed.
        }

        try
        {
            _transport.Input.CancelPendingRead();
        }
        catch (InvalidOperationException)
        {
            // The transport's reader is already completed.
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Abort("The connection was closed locally.");

        // Only the owner disposes, after the reader and writer are done (the muxer completes both when it ends).
        _output.CompleteAfterAbort();
        _input.CompleteAfterAbort();
        _send.Dispose();
        _receive.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _timeProvider.GetTimestamp());

    private Libp2pException Fail(string reason)
    {
        _failureReason ??= reason;
        return new Libp2pException($"The secured connection failed: {reason}.");
    }

    /// <summary>Decrypts on the reader's own calls; plaintext goes through a pipe that never pauses (it holds at most one
    /// read's worth of frames beyond what the reader left unconsumed).</summary>
    private sealed class SecureInput(NoiseSecureChannel channel) : PipeReader
    {
        private readonly Pipe _plain = new(new PipeOptions(
            pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));

        private ReadOnlySequence<byte> _last;
        private bool _unexamined;
        private bool _plainCompleted;
        private bool _completed;
        private int _cancelRequested;
        private int _reading;

        public override bool TryRead(out ReadResult result)
        {
            if ((_unexamined || _plainCompleted) && Volatile.Read(ref _cancelRequested) == 0 && _plain.Reader.TryRead(out result))
            {
                _last = result.Buffer;
                return true;
            }

            result = default;
            return false;
        }

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            Volatile.Write(ref _reading, 1);
            try
            {
                while (true)
                {
                    if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
                    {
                        _plain.Reader.CancelPendingRead();
                        return await ReadPlainAsync().ConfigureAwait(false);
                    }

                    if (_unexamined || _plainCompleted)
                    {
                        return await ReadPlainAsync().ConfigureAwait(false);
                    }

                    if (channel._aborted)
                    {
                        CompletePlain(new Libp2pException(channel._failureReason ?? "The connection was closed."));
                        continue;
                    }

                    ReadResult result;
                    try
                    {
                        result = await channel._transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        throw;
                    }
                    catch (Exception e)
                    {
                        channel._failureReason ??= $"the connection failed: {e.Message}";
                        CompletePlain(e as Libp2pException ?? new Libp2pException($"The secured connection failed: {e.Message}", e));
                        continue;
                    }

                    Decrypt(result);
                }
            }
            finally
            {
                Volatile.Write(ref _reading, 0);
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            // Whether the reader looked at everything decides whether the next read must wait for the transport.
            _unexamined = !_last.Slice(examined).IsEmpty;
            _last = default;
            _plain.Reader.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead()
        {
            Volatile.Write(ref _cancelRequested, 1);
            try
            {
                channel._transport.Input.CancelPendingRead();
            }
            catch (InvalidOperationException)
            {
                // The transport's reader is already completed; the flag alone answers the next read.
            }
        }

        public override void Complete(Exception? exception = null)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _plain.Reader.Complete(exception);
            if (!_plainCompleted)
            {
                _plainCompleted = true;
                _plain.Writer.Complete();
            }

            channel._transport.Input.Complete();
            channel._inputDone.TrySetResult();
        }

        /// <summary>Completes the reading side from <see cref="DisposeAsync"/>, unless a read is still waiting on the
        /// transport (it was woken by the abort and ends by itself).</summary>
        public void CompleteAfterAbort()
        {
            if (Volatile.Read(ref _reading) == 0)
            {
                Complete();
            }
        }

        private async ValueTask<ReadResult> ReadPlainAsync()
        {
            // The plaintext pipe has new (or unexamined) bytes, an end or a cancellation here, so this completes at once.
            var result = await _plain.Reader.ReadAsync().ConfigureAwait(false);
            _last = result.Buffer;
            return result;
        }

        private void Decrypt(ReadResult result)
        {
            var input = channel._transport.Input;
            var buffer = result.Buffer;
            var frames = 0;
            byte[]? scratch = null;
            Libp2pException? failure = null;
            try
            {
                while (NoiseFrameCodec.TryRead(buffer, out var frame, out var consumed))
                {
                    if (frame.Length < NoiseCipherState.TagLength)
                    {
                        failure = channel.Fail($"a Noise frame of {frame.Length} bytes is shorter than its tag");
                        break;
                    }

                    ReadOnlySpan<byte> ciphertext;
                    if (frame.IsSingleSegment)
                    {
                        ciphertext = frame.FirstSpan;
                    }
                    else
                    {
                        scratch ??= ArrayPool<byte>.Shared.Rent(NoiseFrameCodec.MaxFrameLength);
                        frame.CopyTo(scratch);
                        ciphertext = scratch.AsSpan(0, (int)frame.Length);
                    }

                    var plaintext = _plain.Writer.GetSpan(Math.Max(1, ciphertext.Length - NoiseCipherState.TagLength));
                    var length = channel._receive.Decrypt([], ciphertext, plaintext);
                    if (length < 0)
                    {
                        failure = channel.Fail("a Noise frame failed authentication (tampered or out of order)");
                        break;
                    }

                    _plain.Writer.Advance(length);
                    buffer = buffer.Slice(consumed);
                    frames++;
                }
            }
            catch (Exception e) when (e is Libp2pException or ObjectDisposedException)
            {
                failure = e as Libp2pException ?? channel.Fail($"the connection failed: {e.Message}");
            }
            finally
            {
                if (scratch is not null)
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (frames > 0)
            {
                channel.Touch();
                // The plaintext pipe never pauses, so this completes synchronously.
                var flush = _plain.Writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    throw new InvalidOperationException("The plaintext pipe paused its writer.");
                }

                _ = flush.Result;
                _unexamined = true;
            }

            if (failure is null && result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    failure = channel.Fail("the connection ended inside a Noise frame");
                }
                else
                {
                    CompletePlain(null);
                }
            }

            if (failure is not null)
            {
                CompletePlain(failure);
                channel.Abort(channel._failureReason ?? failure.Message);
            }
        }

        private void CompletePlain(Exception? error)
        {
            if (_plainCompleted)
            {
                return;
            }

            _plainCompleted = true;
            _plain.Writer.Complete(error);
            channel._inputDone.TrySetResult();
        }
    }

    /// <summary>
    /// Collects plaintext in pooled frame buffers (2-byte length, up to 65519 bytes, room for the tag) and, on flush,
    /// seals each in place and copies it into the transport; only then does it flush the transport.
    /// </summary>
    private sealed class SecureOutput(NoiseSecureChannel channel) : PipeWriter
    {
        private const int FrameBufferLength = 2 + NoiseFrameCodec.MaxFrameLength;

        // Frames written since the last flush; the last one may still have room.
        private readonly List<(byte[] Buffer, int Length)> _frames = [];
        private byte[]? _oversize;
        private bool _completed;

        public override void Advance(int bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytes);
            if (_oversize is not null)
            {
                var oversize = _oversize;
                _oversize = null;
                try
                {
                    for (var offset = 0; offset < bytes;)
                    {
                        var span = GetSpan();
                        var take = Math.Min(span.Length, bytes - offset);
                        oversize.AsSpan(offset, take).CopyTo(span);
                        Advance(take);
                        offset += take;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(oversize);
                }

                return;
            }

            if (_frames.Count == 0)
            {
                if (bytes == 0)
                {
                    return;
                }

                throw new InvalidOperationException("Advance without GetMemory.");
            }

            var (buffer, length) = _frames[^1];
            if (length + bytes > NoiseFrameCodec.MaxPlaintextLength)
            {
                throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory handed out.");
            }

            _frames[^1] = (buffer, length + bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_completed)
            {
                throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
            }

            if (sizeHint > NoiseFrameCodec.MaxPlaintextLength)
            {
                // Rare: a caller wanting more contiguous room than a frame; cut into frames on Advance.
                _oversize = ArrayPool<byte>.Shared.Rent(sizeHint);
                return _oversize;
            }

            var need = Math.Max(1, sizeHint);
            if (_frames.Count == 0 || NoiseFrameCodec.MaxPlaintextLength - _frames[^1].Length < need)
            {
                _frames.Add((ArrayPool<byte>.Shared.Rent(FrameBufferLength), 0));
            }

            var (buffer, length) = _frames[^1];
            return buffer.AsMemory(2 + length, NoiseFrameCodec.MaxPlaintextLength - length);
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void CancelPendingFlush() => channel._transport.Output.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (channel._aborted)
            {
                ReturnFrames();
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
            }

            Exception? error = null;
            try
            {
                if (!SealFrames())
                {
                    // Nothing new to send; the transport may still be applying back-pressure, so wait for it as a pipe would.
                    return FlushTransportAsync(cancellationToken);
                }
            }
            catch (Exception e) when (e is Libp2pException or ObjectDisposedException or InvalidOperationException)
            {
                error = e;
            }

            if (error is not null)
            {
                channel._failureReason ??= $"sending failed: {error.Message}";
                channel.Abort(channel._failureReason);
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
            }

            channel.Touch();
            return FlushTransportAsync(cancellationToken);
        }

        public override void Complete(Exception? exception = null)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            try
            {
                if (!channel._aborted)
                {
                    // Like a pipe, completing delivers what was written and not flushed.
                    SealFrames();
                }
            }
            catch (Exception e) when (e is Libp2pException or ObjectDisposedException or InvalidOperationException)
            {
                channel._failureReason ??= $"sending failed: {e.Message}";
            }
            finally
            {
                ReturnFrames();
                channel._transport.Output.Complete();
                channel._outputDone.TrySetResult();
            }
        }

        /// <summary>Completes the sending side from <see cref="DisposeAsync"/> (the writer is done by then).</summary>
        public void CompleteAfterAbort() => Complete();

        private ValueTask<FlushResult> FlushTransportAsync(CancellationToken cancellationToken)
        {
            var flush = channel._transport.Output.FlushAsync(cancellationToken);
            if (flush.IsCompletedSuccessfully)
            {
                return new ValueTask<FlushResult>(Map(flush.Result));
            }

            return AwaitFlushAsync(flush);
        }

        private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask<FlushResult> flush) => Map(await flush.ConfigureAwait(false));

        private FlushResult Map(FlushResult result) =>
            result.IsCanceled && channel._aborted ? new FlushResult(isCanceled: false, isCompleted: true) : result;

        /// <summary>Encrypts every frame written since the last flush into the transport; false when there was none.</summary>
        private bool SealFrames()
        {
            if (_frames.Count == 0)
            {
                return false;
            }

            var output = channel._transport.Output;
            var sealedAny = false;
            try
            {
                foreach (var (buffer, length) in _frames)
                {
                    if (length == 0)
                    {
                        continue;
                    }

                    var frameLength = length + NoiseCipherState.TagLength;
                    BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)frameLength);
                    var body = buffer.AsSpan(2, frameLength);
                    channel._send.Encrypt([], body[..length], body);
                    output.Write(buffer.AsSpan(0, 2 + frameLength));
                    sealedAny = true;
                }
            }
            finally
            {
                ReturnFrames();
            }

            return sealedAny;
        }

        private void ReturnFrames()
        {
            foreach (var (buffer, _) in _frames)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _frames.Clear();
        }
    }
}
