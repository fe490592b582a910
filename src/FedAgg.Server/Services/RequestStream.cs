using FedAgg.Libp2p;

namespace FedAgg.Server.Services;

/// <summary>The request/response shape shared by <c>/fedagg/round</c>, <c>/fedagg/bind</c> and <c>/fedagg/admin</c>: one length-prefixed request, one response.</summary>
internal static class RequestStream
{
    /// <summary>Reads the request within <paramref name="timeout"/>; null (with the problem) when the peer sent none, too much, or too late.</summary>
    public static async Task<(ReadOnlyMemory<byte>? Request, string? Problem)> ReadAsync(Libp2pStream stream, int maxBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        stream.MaxMessageBytes = maxBytes;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var request = await stream.ReadMessageAsync(deadline.Token).ConfigureAwait(false);
            return request is null ? (null, "the stream ended before a request") : (request, null);
        }
        catch (Libp2pException e)
        {
            return (null, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no request within {timeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Writes the response (and then <paramref name="body"/> raw, if any) and ends the stream; false when the peer went away.</summary>
    public static async Task<bool> RespondAsync(Libp2pStream stream, byte[] response, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteMessageAsync(response, cancellationToken).ConfigureAwait(false);
            if (!body.IsEmpty)
            {
                await stream.Output.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            }

            await stream.CompleteWritesAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is Libp2pException or IOException or InvalidOperationException)
        {
            return false;
        }
    }
}
