namespace FedAgg.Libp2p;

/// <summary>A connection of a <see cref="Libp2pHost"/> opened (after Noise and the muxer) or closed.</summary>
public class ConnectionEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public ConnectionEventArgs(Libp2pConnection connection) => Connection = connection;

    /// <summary>The connection.</summary>
    public Libp2pConnection Connection { get; }
}

/// <summary>A connection closed, with the reason.</summary>
public sealed class ConnectionClosedEventArgs : ConnectionEventArgs
{
    /// <summary>Creates the arguments.</summary>
    public ConnectionClosedEventArgs(Libp2pConnection connection, string reason)
        : base(connection) => Reason = reason;

    /// <summary>Why it closed (also <see cref="Libp2pConnection.Closed"/>'s result).</summary>
    public string Reason { get; }
}
