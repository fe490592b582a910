using FedAgg.Libp2p.Yamux;
using Microsoft.Extensions.Logging;

namespace FedAgg.Libp2p;

internal static partial class Log
{
    [LoggerMessage(EventId = 4200, Level = LogLevel.Debug, Message = "yamux session started as {Role}")]
    public static partial void YamuxSessionStarted(ILogger logger, string role);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Debug, Message = "yamux session ended: {Reason}: {Detail}")]
    public static partial void YamuxSessionEnded(ILogger logger, YamuxSessionEndReason reason, string detail);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "yamux protocol violation {Violation}: {Detail}")]
    public static partial void YamuxProtocolViolation(ILogger logger, YamuxProtocolViolation violation, string detail);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Trace, Message = "yamux stream {StreamId} opened")]
    public static partial void YamuxStreamOpened(ILogger logger, uint streamId);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Trace, Message = "yamux inbound stream {StreamId} queued for accept")]
    public static partial void YamuxInboundStream(ILogger logger, uint streamId);

    [LoggerMessage(EventId = 4205, Level = LogLevel.Debug, Message = "yamux inbound stream {StreamId} reset: {Detail}")]
    public static partial void YamuxInboundStreamRejected(ILogger logger, uint streamId, string detail);

    [LoggerMessage(EventId = 4206, Level = LogLevel.Trace, Message = "yamux {FrameType} frame for closed stream {StreamId} ignored")]
    public static partial void YamuxFrameForClosedStream(ILogger logger, YamuxFrameType frameType, uint streamId);

    [LoggerMessage(EventId = 4207, Level = LogLevel.Warning, Message = "yamux keep-alive ping not answered within {Timeout}")]
    public static partial void YamuxKeepAliveTimeout(ILogger logger, TimeSpan timeout);

    [LoggerMessage(EventId = 4208, Level = LogLevel.Debug, Message = "yamux ping response {Opaque} matches no ping we sent")]
    public static partial void YamuxUnsolicitedPong(ILogger logger, uint opaque);

    [LoggerMessage(EventId = 4209, Level = LogLevel.Debug, Message = "yamux peer sent go-away {Code}")]
    public static partial void YamuxRemoteGoAway(ILogger logger, uint code);

    [LoggerMessage(EventId = 4210, Level = LogLevel.Error, Message = "yamux {Loop} loop failed")]
    public static partial void YamuxLoopFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(EventId = 4211, Level = LogLevel.Trace, Message = "yamux stream {StreamId} reset by the {Side}")]
    public static partial void YamuxStreamReset(ILogger logger, uint streamId, string side);
}
