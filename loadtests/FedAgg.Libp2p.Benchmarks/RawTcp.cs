using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FedAgg.Libp2p.Benchmarks;

/// <summary>A connected loopback TCP socket read and written through System.IO.Pipelines, without libp2p: the baseline.</summary>
internal sealed class RawTcpPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public RawTcpPipe(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        await _stream.DisposeAsync();
    }
}

/// <summary>A loopback TCP listener whose accepted connections run a handler; the raw-TCP twin of a libp2p protocol.</summary>
internal sealed class RawTcpServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<RawTcpPipe, CancellationToken, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public RawTcpServer(Func<RawTcpPipe, CancellationToken, Task> handler)
    {
        _handler = handler;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1024);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    public async Task<RawTcpPipe> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(EndPoint, cancellationToken);
        return new RawTcpPipe(socket);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(new RawTcpPipe(socket));
        }
    }

    private async Task ServeAsync(RawTcpPipe pipe)
    {
        try
        {
            await _handler(pipe, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or InvalidOperationException)
        {
        }
        finally
        {
            await pipe.DisposeAsync();
        }
    }
}
