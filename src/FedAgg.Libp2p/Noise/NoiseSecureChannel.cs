using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace FedAgg.Libp2p.Noise;

/// <summary>
/// The Noise transport phase over a connection: what the application writes to <see cref="Output"/> is cut into
/// frames of at most 65519 plaintext bytes, encrypted and sent; frames from the peer are decrypted into
/// <see cref="Input"/>. A bad tag, a frame shorter than a tag, or a truncated frame ends the channel (both pipes complete
/// with a <see cref="Libp2pException"/>, the transport is completed) and <see cref="FailureReason"/> says why.
/// </summary>
internal sealed class NoiseSecureChannel : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Plaintext bytes buffered per direction before back-pressure applies.</summary>
    public const int MaxBufferedBytes = 1 << 20;

    private readonly IDuplexPipe _transport;
    private readonly NoiseCipherState _send;
    private readonly NoiseCipherState _receive;
    private readonly TimeProvider _timeProvider;
    private readonly Pipe _plainIn;
    private readonly Pipe _plainOut;
    private readonly CancellationTokenSource _abort = new();
    private long _lastActivity;
    private volatile string? _failureReason;
    private int _disposed;

    public NoiseSecureChannel(IDuplexPipe transport, NoiseCipherState send, NoiseCipherState receive, TimeProvider timeProvider)
    {
        _transport = transport;
        _send = send;
        _receive = receive;
        _timeProvider = timeProvider;
        _lastActivity = timeProvider.GetTimestamp();
        var options = new PipeOptions(
            pauseWriterThreshold: MaxBufferedBytes,
            resumeWriterThreshold: MaxBufferedBytes / 2,
            useSynchronizationContext: false);
        _plainIn = new Pipe(options);
        _plainOut = new Pipe(options);
        var decrypt = Task.Run(DecryptLoopAsync);
        SendCompletion = Task.Run(EncryptLoopAsync);
        Completion = Task.WhenAll(decrypt, SendCompletion);
    }

    /// <summary>Decrypted bytes from the peer; completes at the peer's end of stream.</summary>
    public PipeReader Input => _plainIn.Reader;

    /// <summary>Plaintext to encrypt and send; completing it ends the connection's sending side.</summary>
    public PipeWriter Output => _plainOut.Writer;

    /// <summary>Completes (never faults) when both loops have ended.</summary>
    public Task Completion { get; }

    /// <summary>Completes (never faults) when everything written has been encrypted and handed to the transport, which is then completed.</summary>
    public Task SendCompletion { get; }

    /// <summary>Why the channel failed, or <c>null</c> while it is healthy or ended cleanly.</summary>
    public string? FailureReason => _failureReason;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the last frame sent or received.</summary>
    public long LastActivityTimestamp => Interlocked.Read(ref _lastActivity);

    /// <summary>Stops both loops; the pipes complete with an error carrying <paramref name="reason"/>.</summary>
    public void Abort(string reason)
    {
        _failureReason ??= reason;
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort("The connection was closed locally.");
        await Completion.ConfigureAwait(false);
        _send.Dispose();
        _receive.Dispose();
        _abort.Dispose();
    }

    private async Task DecryptLoopAsync()
    {
        Exception? error = null;
        var frameBuffer = ArrayPool<byte>.Shared.Rent(NoiseFrameCodec.MaxFrameLength);
        var input = _transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_abort.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var frames = 0;
                while (NoiseFrameCodec.TryRead(buffer, out var frame, out var consumed))
                {
                    if (frame.Length < NoiseCipherState.TagLength)
                    {
                        input.AdvanceTo(buffer.Start);
                        throw Fail($"a Noise frame of {frame.Length} bytes is shorter than its tag");
                    }

                    frame.CopyTo(frameBuffer);
                    var ciphertext = frameBuffer.AsSpan(0, (int)frame.Length);
                    var plaintext = _plainIn.Writer.GetSpan(Math.Max(1, ciphertext.Length - NoiseCipherState.TagLength));
                    var length = _receive.Decrypt([], ciphertext, plaintext);
                    if (length < 0)
                    {
                        input.AdvanceTo(buffer.Start);
                        throw Fail("a Noise frame failed authentication (tampered or out of order)");
                    }

                    _plainIn.Writer.Advance(length);
                    buffer = buffer.Slice(consumed);
                    frames++;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (frames > 0)
                {
                    Interlocked.Exchange(ref _lastActivity, _timeProvider.GetTimestamp());
                    var flush = await _plainIn.Writer.FlushAsync(_abort.Token).ConfigureAwait(false);
                    if (flush.IsCompleted)
                    {
                        // The application stopped reading; nothing more will be delivered.
                        break;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw Fail("the connection ended inside a Noise frame");
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            error = new Libp2pException(_failureReason ?? "The connection was closed.");
        }
        catch (Libp2pException e)
        {
            error = e;
        }
        catch (Exception e)
        {
            _failureReason ??= $"the connection failed: {e.Message}";
            error = new Libp2pException($"The secured connection failed: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frameBuffer);
            await _plainIn.Writer.CompleteAsync(error).ConfigureAwait(false);
            await input.CompleteAsync().ConfigureAwait(false);
            if (error is not null)
            {
                Abort(_failureReason ?? error.Message);
            }
        }
    }

    private async Task EncryptLoopAsync()
    {
        Exception? error = null;
        var chunk = ArrayPool<byte>.Shared.Rent(NoiseFrameCodec.MaxPlaintextLength);
        var output = _transport.Output;
        try
        {
            while (true)
            {
                var result = await _plainOut.Reader.ReadAsync(_abort.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var length = (int)Math.Min(buffer.Length, NoiseFrameCodec.MaxPlaintextLength);
                    buffer.Slice(0, length).CopyTo(chunk);
                    var frameLength = length + NoiseCipherState.TagLength;
                    var span = output.GetSpan(2 + frameLength);
                    BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)frameLength);
                    _send.Encrypt([], chunk.AsSpan(0, length), span[2..]);
                    output.Advance(2 + frameLength);
                    buffer = buffer.Slice(length);
                }

                _plainOut.Reader.AdvanceTo(result.Buffer.End);
                if (!result.Buffer.IsEmpty)
                {
                    Interlocked.Exchange(ref _lastActivity, _timeProvider.GetTimestamp());
                    var flush = await output.FlushAsync(_abort.Token).ConfigureAwait(false);
                    if (flush.IsCompleted)
                    {
                        error = new Libp2pException("The peer closed the connection.");
                        break;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            error = new Libp2pException(_failureReason ?? "The connection was closed.");
        }
        catch (Exception e)
        {
            _failureReason ??= $"sending failed: {e.Message}";
            error = e as Libp2pException ?? new Libp2pException($"The secured connection failed: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            await _plainOut.Reader.CompleteAsync(error).ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private Libp2pException Fail(string reason)
    {
        _failureReason ??= reason;
        return new Libp2pException($"The secured connection failed: {reason}.");
    }
}
