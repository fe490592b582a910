using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FedAgg.Libp2p.Transport;

/// <summary>
/// A connected TCP socket exposed as an <see cref="IDuplexPipe"/> with a receive loop and a send loop, as Kestrel does.
/// Each direction is a bounded pipe: the receive loop stops reading from the socket while the application has
/// <see cref="MaxBufferedBytes"/> unread, and the application's flush waits while that much is queued for sending.
/// Socket errors end the connection; they never escape the loops.
/// </summary>
internal sealed class SocketConnection : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Bytes buffered per direction before back-pressure applies.</summary>
    public const int MaxBufferedBytes = 1 << 20;

    private const int MinReceiveBuffer = 16 * 1024;

    private const int SegmentBytes = 64 * 1024;

    private readonly Socket _socket;
    private readonly Pipe _receive;
    private readonly Pipe _send;
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _receiveLoop;
    private readonly Task _sendLoop;
    private int _disposed;

    public SocketConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        var options = new PipeOptions(
            pauseWriterThreshold: MaxBufferedBytes,
            resumeWriterThreshold: MaxBufferedBytes / 2,
            minimumSegmentSize: SegmentBytes,
            useSynchronizationContext: false);
        _receive = new Pipe(options);
        _send = new Pipe(options);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        _sendLoop = Task.Run(SendLoopAsync);
        Completion = Task.WhenAll(_receiveLoop, _sendLoop);
    }

    /// <summary>Bytes from the peer; completes at the peer's FIN, faults with <see cref="Libp2pException"/> on a socket error.</summary>
    public PipeReader Input => _receive.Reader;

    /// <summary>Bytes to the peer; completing it shuts the socket down for sending.</summary>
    public PipeWriter Output => _send.Writer;

    public IPEndPoint LocalEndPoint { get; }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Completes (never faults) when both loops have ended.</summary>
    public Task Completion { get; }

    /// <summary>Completes (never faults) when everything written has been sent and the socket shut down for sending, or sending failed.</summary>
    public Task SendCompletion => _sendLoop;

    /// <summary>Closes the socket at once; both loops end and the pipes complete.</summary>
    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _socket.Close(0);
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

        // A normal close (FIN after what was sent) rather than Abort's reset, so the peer still reads our last bytes.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        _socket.Close();
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        await Completion.ConfigureAwait(false);
        _socket.Dispose();
        _abort.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _receive.Writer.GetMemory(MinReceiveBuffer);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None, _abort.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                _receive.Writer.Advance(received);
                var flush = await _receive.Writer.FlushAsync(_abort.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            error = new Libp2pException("The connection was closed locally.");
        }
        catch (Exception e)
        {
            error = new Libp2pException($"The connection to {RemoteEndPoint} failed: {e.Message}", e);
        }
        finally
        {
            await _receive.Writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _send.Reader.ReadAsync(_abort.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    foreach (var segment in buffer)
                    {
                        var remaining = segment;
                        while (!remaining.IsEmpty)
                        {
                            var sent = await _socket.SendAsync(remaining, SocketFlags.None, _abort.Token).ConfigureAwait(false);
                            remaining = remaining[sent..];
                        }
                    }
                }
                finally
                {
                    _send.Reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (OperationCanceledException)
        {
            error = new Libp2pException("The connection was closed locally.");
        }
        catch (Exception e)
        {
            error = new Libp2pException($"Sending to {RemoteEndPoint} failed: {e.Message}", e);
        }
        finally
        {
            // The writer side learns the connection is gone: its next flush reports IsCompleted.
            await _send.Reader.CompleteAsync(error).ConfigureAwait(false);
            if (error is not null)
            {
                Abort();
            }
        }
    }
}
