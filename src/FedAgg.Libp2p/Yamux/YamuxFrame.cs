using System.Buffers;
using System.Buffers.Binary;

namespace FedAgg.Libp2p.Yamux;

/// <summary>The yamux frame types (header byte 1).</summary>
internal enum YamuxFrameType : byte
{
    Data = 0,
    WindowUpdate = 1,
    Ping = 2,
    GoAway = 3,
}

/// <summary>The yamux header flags (header bytes 2–3, big-endian).</summary>
[Flags]
internal enum YamuxFlags : ushort
{
    None = 0,
    Syn = 1,
    Ack = 2,
    Fin = 4,
    Rst = 8,
}

/// <summary>What <see cref="YamuxFrameCodec"/> made of the bytes it was given.</summary>
internal enum YamuxDecodeStatus
{
    Complete,
    NeedMoreData,
    Invalid,
}

/// <summary>Why a header was invalid.</summary>
internal enum YamuxFrameError
{
    None,
    UnsupportedVersion,
    UnknownFrameType,
    LengthExceedsLimit,
}

/// <summary>
/// The 12-byte yamux header: version (0), type, flags (u16 BE), stream id (u32 BE), length (u32 BE). For a data frame
/// the length is the payload that follows; for a window update it is the window delta; for a ping the opaque value;
/// for a go-away the error code.
/// </summary>
internal readonly record struct YamuxFrameHeader(YamuxFrameType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    public const int Size = 12;

    public const byte Version = 0;

    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        destination[0] = Version;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    public override string ToString() => $"{Type} flags={Flags} stream={StreamId} length={Length}";
}

/// <summary>
/// Encodes and decodes yamux frames over <see cref="ReadOnlySequence{T}"/>. Decoding never throws on peer bytes: it
/// reports <see cref="YamuxDecodeStatus.NeedMoreData"/> for a prefix of a frame and
/// <see cref="YamuxDecodeStatus.Invalid"/> with a <see cref="YamuxFrameError"/> for a header that cannot be valid.
/// </summary>
internal static class YamuxFrameCodec
{
    /// <summary>
    /// Reads the header at the start of <paramref name="buffer"/>. The header is filled in whenever 12 bytes were
    /// present, also for <see cref="YamuxDecodeStatus.Invalid"/>, so the caller can name the stream in its reason.
    /// </summary>
    /// <param name="buffer">Bytes from the connection, starting at a frame boundary.</param>
    /// <param name="maxDataLength">The largest data payload accepted; longer data frames are invalid.</param>
    /// <param name="header">The header read.</param>
    /// <param name="error">Why the header is invalid, or <see cref="YamuxFrameError.None"/>.</param>
    public static YamuxDecodeStatus TryReadHeader(
        in ReadOnlySequence<byte> buffer, uint maxDataLength, out YamuxFrameHeader header, out YamuxFrameError error)
    {
        header = default;
        error = YamuxFrameError.None;
        if (buffer.Length < YamuxFrameHeader.Size)
        {
            return YamuxDecodeStatus.NeedMoreData;
        }

        Span<byte> bytes = stackalloc byte[YamuxFrameHeader.Size];
        buffer.Slice(0, YamuxFrameHeader.Size).CopyTo(bytes);
        var type = (YamuxFrameType)bytes[1];
        header = new YamuxFrameHeader(
            type,
            (YamuxFlags)BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
        if (bytes[0] != YamuxFrameHeader.Version)
        {
            error = YamuxFrameError.UnsupportedVersion;
            return YamuxDecodeStatus.Invalid;
        }

        if (type > YamuxFrameType.GoAway)
        {
            error = YamuxFrameError.UnknownFrameType;
            return YamuxDecodeStatus.Invalid;
        }

        if (type == YamuxFrameType.Data && header.Length > maxDataLength)
        {
            error = YamuxFrameError.LengthExceedsLimit;
            return YamuxDecodeStatus.Invalid;
        }

        return YamuxDecodeStatus.Complete;
    }

    /// <summary>
    /// Reads one whole frame (header and, for a data frame, its payload) from the start of <paramref name="buffer"/>;
    /// bytes after it are left for the next call (<paramref name="consumed"/> says where it ended).
    /// </summary>
    public static YamuxDecodeStatus TryReadFrame(
        in ReadOnlySequence<byte> buffer,
        uint maxDataLength,
        out YamuxFrameHeader header,
        out ReadOnlySequence<byte> payload,
        out long consumed,
        out YamuxFrameError error)
    {
        payload = ReadOnlySequence<byte>.Empty;
        consumed = 0;
        var status = TryReadHeader(buffer, maxDataLength, out header, out error);
        if (status != YamuxDecodeStatus.Complete)
        {
            return status;
        }

        long payloadLength = header.Type == YamuxFrameType.Data ? header.Length : 0;
        if (buffer.Length - YamuxFrameHeader.Size < payloadLength)
        {
            return YamuxDecodeStatus.NeedMoreData;
        }

        payload = buffer.Slice(YamuxFrameHeader.Size, payloadLength);
        consumed = YamuxFrameHeader.Size + payloadLength;
        return YamuxDecodeStatus.Complete;
    }

    /// <summary>Writes a header.</summary>
    public static void WriteHeader(IBufferWriter<byte> destination, in YamuxFrameHeader header)
    {
        header.Write(destination.GetSpan(YamuxFrameHeader.Size));
        destination.Advance(YamuxFrameHeader.Size);
    }

    /// <summary>Writes a frame; a data frame's header length must equal the payload length, other frames carry none.</summary>
    public static void WriteFrame(IBufferWriter<byte> destination, in YamuxFrameHeader header, ReadOnlySpan<byte> payload)
    {
        var expected = header.Type == YamuxFrameType.Data ? header.Length : 0;
        if ((uint)payload.Length != expected)
        {
            throw new ArgumentException(
                $"a {header.Type} frame with length {header.Length} carries {expected} payload bytes, not {payload.Length}",
                nameof(payload));
        }

        WriteHeader(destination, header);
        destination.Write(payload);
    }

    /// <summary>Describes an invalid header for a session-end reason.</summary>
    public static string Describe(YamuxFrameError error, in YamuxFrameHeader header, uint maxDataLength) => error switch
    {
        YamuxFrameError.UnsupportedVersion => "unsupported yamux version",
        YamuxFrameError.UnknownFrameType => $"unknown frame type {(byte)header.Type}",
        YamuxFrameError.LengthExceedsLimit =>
            $"data frame of {header.Length} bytes on stream {header.StreamId} exceeds the limit of {maxDataLength}",
        _ => "invalid frame",
    };
}
