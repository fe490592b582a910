using System.Buffers;
using System.Text;
using FedAgg.Core.Codecs;

namespace FedAgg.Libp2p.Multistream;

/// <summary>
/// multistream-select 1.0 messages: an unsigned-varint length, then that many bytes of UTF-8 text ending in '\n'
/// (the length counts the newline). Messages are capped at <see cref="MaxMessageLength"/> bytes, as go-multistream
/// and js-libp2p cap them.
/// </summary>
internal static class MultistreamCodec
{
    /// <summary>The protocol id of multistream-select itself (the header both sides send first).</summary>
    public const string ProtocolId = "/multistream/1.0.0";

    /// <summary>The refusal a listener sends for a protocol it does not speak.</summary>
    public const string NotAvailable = "na";

    /// <summary>The request for the listener's protocol list.</summary>
    public const string List = "ls";

    /// <summary>The longest message (newline included) either side accepts.</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>
    /// Reads one message from the start of <paramref name="buffer"/>. On <see cref="MultistreamStatus.Done"/>,
    /// <paramref name="consumed"/> is the position after it; nothing is consumed otherwise.
    /// </summary>
    public static MultistreamStatus TryRead(ReadOnlySequence<byte> buffer, out string message, out SequencePosition consumed, out string? error)
    {
        message = "";
        consumed = buffer.Start;
        error = null;
        switch (UnsignedVarint.TryRead(buffer, out var length, out var lengthBytes))
        {
            case VarintStatus.NeedMoreData:
                return MultistreamStatus.NeedMoreData;
            case VarintStatus.Invalid:
                error = "invalid length varint";
                return MultistreamStatus.Invalid;
        }

        if (length is 0 or > MaxMessageLength)
        {
            error = length == 0 ? "empty message" : $"message length {length} exceeds {MaxMessageLength}";
            return MultistreamStatus.Invalid;
        }

        if (buffer.Length < lengthBytes + (long)length)
        {
            return MultistreamStatus.NeedMoreData;
        }

        var body = buffer.Slice(lengthBytes, (long)length);
        Span<byte> bytes = stackalloc byte[(int)length];
        body.CopyTo(bytes);
        if (bytes[^1] != (byte)'\n')
        {
            error = "message does not end with a newline";
            return MultistreamStatus.Invalid;
        }

        try
        {
            message = new UTF8Encoding(false, true).GetString(bytes[..^1]);
        }
        catch (DecoderFallbackException)
        {
            error = "message is not UTF-8";
            return MultistreamStatus.Invalid;
        }

        consumed = body.End;
        return MultistreamStatus.Done;
    }

    /// <summary>The encoded size of <paramref name="message"/>.</summary>
    public static int GetSize(string message)
    {
        var length = Encoding.UTF8.GetByteCount(message) + 1;
        return UnsignedVarint.GetLength((ulong)length) + length;
    }

    /// <summary>Writes <paramref name="message"/> (length, text, newline).</summary>
    /// <exception cref="ArgumentException">The message is too long or contains a newline.</exception>
    public static void Write(IBufferWriter<byte> writer, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = Encoding.UTF8.GetByteCount(message) + 1;
        if (length > MaxMessageLength || message.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A multistream-select message is at most {MaxMessageLength - 1} bytes without newlines.", nameof(message));
        }

        var span = writer.GetSpan(UnsignedVarint.MaxLength + length);
        var offset = UnsignedVarint.Write((ulong)length, span);
        offset += Encoding.UTF8.GetBytes(message, span[offset..]);
        span[offset++] = (byte)'\n';
        writer.Advance(offset);
    }
}

/// <summary>The outcome of decoding a multistream-select message from the bytes received so far.</summary>
internal enum MultistreamStatus
{
    /// <summary>A complete message was read.</summary>
    Done,

    /// <summary>The bytes end inside the message.</summary>
    NeedMoreData,

    /// <summary>The bytes can never form a valid message.</summary>
    Invalid,
}
