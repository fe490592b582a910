using System.Net;
using FedAgg.Core.Identity;
using Microsoft.Extensions.Logging;

namespace FedAgg.Libp2p;

/// <summary>Host, transport, connection-limit, negotiation, Noise, identify and ping messages (event ids 4001–4199).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "libp2p host {PeerId} listening on {Address}")]
    public static partial void Listening(ILogger logger, PeerId peerId, Multiaddress address);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "libp2p host {PeerId} stopped")]
    public static partial void HostStopped(ILogger logger, PeerId peerId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Inbound connection from {RemoteEndPoint} refused: {Reason}")]
    public static partial void InboundRefused(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Connection {Direction} with {PeerId} at {Address} established")]
    public static partial void ConnectionOpened(ILogger logger, string direction, PeerId peerId, string address);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Debug, Message = "Connection with {PeerId} at {Address} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, PeerId peerId, Multiaddress address, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "{Direction} connection with {Address} failed during the upgrade: {Reason}")]
    public static partial void UpgradeFailed(ILogger logger, string direction, string address, string reason);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Peer {PeerId} at {Address} is not allowed; disconnected after the handshake")]
    public static partial void PeerNotAllowed(ILogger logger, PeerId peerId, string address);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Error, Message = "The accept loop on {Address} failed")]
    public static partial void AcceptLoopFailed(ILogger logger, Multiaddress address, Exception exception);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Error, Message = "A {Event} event handler threw")]
    public static partial void EventHandlerFailed(ILogger logger, string @event, Exception exception);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Connection with {PeerId} idle for {IdleSeconds} s; closing")]
    public static partial void IdleTimeout(ILogger logger, PeerId peerId, double idleSeconds);

    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "Inbound stream from {PeerId} not negotiated: {Reason}")]
    public static partial void InboundStreamRefused(ILogger logger, PeerId peerId, string reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "The {Protocol} handler failed on a stream from {PeerId}; the stream is reset")]
    public static partial void HandlerFailed(ILogger logger, string protocol, PeerId peerId, Exception exception);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Noise handshake with {PeerId} done ({Direction}); muxer {Muxer} {How}")]
    public static partial void NoiseDone(ILogger logger, PeerId peerId, string direction, string muxer, string how);

    [LoggerMessage(EventId = 4150, Level = LogLevel.Debug, Message = "Identify of {PeerId}: agent {AgentVersion}, {ProtocolCount} protocols")]
    public static partial void Identified(ILogger logger, PeerId peerId, string agentVersion, int protocolCount);

    [LoggerMessage(EventId = 4151, Level = LogLevel.Debug, Message = "Identify of {PeerId} failed: {Reason}")]
    public static partial void IdentifyFailed(ILogger logger, PeerId peerId, string reason);
}
