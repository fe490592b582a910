using Microsoft.Extensions.Logging;

namespace FedAgg.Libp2p;

/// <summary>
/// Every log message of FedAgg.Libp2p, one partial file per area (event ids 4000–4299: 4000–4099 host, transport and
/// connection limits, 4100–4149 multistream-select and Noise, 4150–4199 identify and ping, 4200–4299 Yamux).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "libp2p logging initialised for {Component}")]
    public static partial void ComponentStarted(ILogger logger, string component);
}
