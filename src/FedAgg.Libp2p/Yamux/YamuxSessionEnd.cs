namespace FedAgg.Libp2p.Yamux;

/// <summary>The go-away error codes of the yamux specification.</summary>
public enum YamuxGoAwayCode : uint
{
    /// <summary>Normal termination: no new streams, existing ones may finish.</summary>
    Normal = 0,

    /// <summary>The peer violated the protocol.</summary>
    ProtocolError = 1,

    /// <summary>The sender failed internally.</summary>
    InternalError = 2,
}

/// <summary>Why a <see cref="YamuxSession"/> ended.</summary>
public enum YamuxSessionEndReason
{
    /// <summary>We closed it: <see cref="YamuxSession.DisposeAsync"/>, or our normal go-away after the last stream finished.</summary>
    LocalClose,

    /// <summary>We sent a go-away with an error code.</summary>
    LocalGoAway,

    /// <summary>The peer sent a go-away (an error code ends the session at once, a normal one once no stream is left).</summary>
    RemoteGoAway,

    /// <summary>The peer violated the protocol; <see cref="YamuxSessionEnd.Violation"/> says how.</summary>
    ProtocolError,

    /// <summary>A keep-alive ping was not answered in time.</summary>
    KeepAliveTimeout,

    /// <summary>The underlying connection ended or failed.</summary>
    TransportClosed,

    /// <summary>A bug or unexpected failure inside the session.</summary>
    InternalError,
}

/// <summary>The protocol violations a session detects.</summary>
public enum YamuxProtocolViolation
{
    /// <summary>Not a violation.</summary>
    None,

    /// <summary>A header with a version other than 0.</summary>
    UnsupportedVersion,

    /// <summary>A header with a frame type other than 0–3.</summary>
    UnknownFrameType,

    /// <summary>More data on a stream than the window we granted.</summary>
    WindowOverrun,

    /// <summary>A frame on a stream that was never opened.</summary>
    UnknownStream,

    /// <summary>A SYN with a stream id of our parity (both sides think they are the client, or garbage).</summary>
    WrongParitySyn,

    /// <summary>A SYN for a stream id already used.</summary>
    DuplicateSyn,

    /// <summary>Data after the peer's FIN on the same stream.</summary>
    DataAfterFin,

    /// <summary>A session frame (ping, go-away) with impossible flags, or a stream frame on stream 0.</summary>
    InvalidFrame,

    /// <summary>A window update that would take the send window past 2^32 − 1.</summary>
    WindowOverflow,

    /// <summary>The connection ended in the middle of a frame.</summary>
    TruncatedFrame,

    /// <summary>The peer kept sending pings (or streams we had to reset) while not reading our answers.</summary>
    ControlFlood,
}

/// <summary>How and why a session ended.</summary>
/// <param name="Reason">The kind of ending.</param>
/// <param name="Message">A human-readable reason, e.g. "window overrun on stream 3: ...".</param>
/// <param name="Violation">The protocol violation for <see cref="YamuxSessionEndReason.ProtocolError"/>.</param>
/// <param name="GoAwayCode">The code of the go-away that ended it (received or sent), if any.</param>
public sealed record YamuxSessionEnd(
    YamuxSessionEndReason Reason,
    string Message,
    YamuxProtocolViolation Violation = YamuxProtocolViolation.None,
    YamuxGoAwayCode? GoAwayCode = null);
