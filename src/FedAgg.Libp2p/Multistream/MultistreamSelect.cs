using System.Buffers;
using System.IO.Pipelines;
using FedAgg.Core.Codecs;

namespace FedAgg.Libp2p.Multistream;

/// <summary>
/// multistream-select 1.0 negotiation over a byte pipe (a raw connection, a secured channel or a muxed stream).
/// Neither side reads past the message that settles the protocol, so data the dialler sends straight after its
/// proposal (js-libp2p's optimistic select) stays in the pipe for the protocol. Callers bound the time with the token.
/// </summary>
internal static class MultistreamSelect
{
    /// <summary>The most messages a listener answers before it gives up on a dialler that never settles.</summary>
    public const int MaxListenerMessages = 32;

    /// <summary>
    /// As the dialler: sends the header with the first protocol in one write, then tries the others in order until the
    /// listener echoes one.
    /// </summary>
    /// <returns>The protocol the listener accepted.</returns>
    /// <exception cref="Libp2pException">The listener speaks none of them, broke the protocol, or the pipe ended.</exception>
    public static async Task<string> SelectAsync(IDuplexPipe pipe, IReadOnlyList<string> protocols, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(protocols);
        if (protocols.Count == 0)
        {
            throw new ArgumentException("At least one protocol is needed.", nameof(protocols));
        }

        MultistreamCodec.Write(pipe.Output, MultistreamCodec.ProtocolId);
        MultistreamCodec.Write(pipe.Output, protocols[0]);
        await FlushAsync(pipe.Output, cancellationToken).ConfigureAwait(false);
        var header = await ReadMessageAsync(pipe.Input, cancellationToken).ConfigureAwait(false);
        if (header != MultistreamCodec.ProtocolId)
        {
            throw new Libp2pException($"The peer does not speak {MultistreamCodec.ProtocolId} (it sent '{Shorten(header)}').");
        }

        for (var i = 0; i < protocols.Count; i++)
        {
            if (i > 0)
            {
                MultistreamCodec.Write(pipe.Output, protocols[i]);
                await FlushAsync(pipe.Output, cancellationToken).ConfigureAwait(false);
            }

            var answer = await ReadMessageAsync(pipe.Input, cancellationToken).ConfigureAwait(false);
            if (answer == protocols[i])
            {
                return answer;
            }

            if (answer != MultistreamCodec.NotAvailable)
            {
                throw new Libp2pException($"The peer answered '{Shorten(answer)}' to the proposal {protocols[i]}.");
            }
        }

        throw new Libp2pException($"The peer supports none of: {string.Join(", ", protocols)}.");
    }

    /// <summary>
    /// As the listener: answers the header, refuses unknown protocols with <c>na</c>, answers <c>ls</c>, and returns the
    /// first proposal <paramref name="isSupported"/> accepts (after echoing it).
    /// </summary>
    /// <exception cref="Libp2pException">The dialler broke the protocol, proposed too many, or the pipe ended.</exception>
    public static async Task<string> HandleAsync(IDuplexPipe pipe, Func<string, bool> isSupported, Func<IEnumerable<string>> listProtocols, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(isSupported);
        ArgumentNullException.ThrowIfNull(listProtocols);
        for (var i = 0; i < MaxListenerMessages; i++)
        {
            var message = await ReadMessageAsync(pipe.Input, cancellationToken).ConfigureAwait(false);
            if (message == MultistreamCodec.ProtocolId)
            {
                MultistreamCodec.Write(pipe.Output, MultistreamCodec.ProtocolId);
            }
            else if (message.Length > 0 && message != MultistreamCodec.NotAvailable && isSupported(message))
            {
                MultistreamCodec.Write(pipe.Output, message);
                await FlushAsync(pipe.Output, cancellationToken).ConfigureAwait(false);
                return message;
            }
            else if (message == MultistreamCodec.List)
            {
                WriteList(pipe.Output, listProtocols());
            }
            else
            {
                MultistreamCodec.Write(pipe.Output, MultistreamCodec.NotAvailable);
            }

            await FlushAsync(pipe.Output, cancellationToken).ConfigureAwait(false);
        }

        throw new Libp2pException($"The peer proposed {MaxListenerMessages} messages without settling on a protocol.");
    }

    /// <summary>Reads one message, advancing the reader past it and no further.</summary>
    /// <exception cref="Libp2pException">The bytes are not a valid message or the pipe ended first.</exception>
    public static async ValueTask<string> ReadMessageAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
            {
                throw new Libp2pException($"The connection failed during protocol negotiation: {e.Message}", e);
            }

            var buffer = result.Buffer;
            var status = MultistreamCodec.TryRead(buffer, out var message, out var consumed, out var error);
            switch (status)
            {
                case MultistreamStatus.Done:
                    reader.AdvanceTo(consumed);
                    return message;
                case MultistreamStatus.Invalid:
                    reader.AdvanceTo(buffer.Start);
                    throw new Libp2pException($"Invalid multistream-select message: {error}.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new Libp2pException("The peer closed the connection during protocol negotiation.");
            }
        }
    }

    private static void WriteList(PipeWriter output, IEnumerable<string> protocols)
    {
        // js-libp2p's form: each protocol as its own length-prefixed line, then a newline, all inside one message.
        var inner = new ArrayBufferWriter<byte>();
        foreach (var protocol in protocols)
        {
            if (inner.WrittenCount + MultistreamCodec.GetSize(protocol) >= MultistreamCodec.MaxMessageLength - 1)
            {
                break;
            }

            MultistreamCodec.Write(inner, protocol);
        }

        inner.GetSpan(1)[0] = (byte)'\n';
        inner.Advance(1);
        UnsignedVarint.Write((ulong)inner.WrittenCount, output);
        output.Write(inner.WrittenSpan);
    }

    private static async ValueTask FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        FlushResult flush;
        try
        {
            flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not Libp2pException)
        {
            throw new Libp2pException($"The connection failed during protocol negotiation: {e.Message}", e);
        }

        if (flush.IsCompleted)
        {
            throw new Libp2pException("The peer closed the connection during protocol negotiation.");
        }
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    internal static byte[] Encode(params string[] messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            MultistreamCodec.Write(writer, message);
        }

        return writer.WrittenSpan.ToArray();
    }
}
