using System.Reflection;
using FedAgg.Core.Identity;
using FedAgg.Libp2p.Yamux;

namespace FedAgg.Libp2p;

/// <summary>
/// Settings of a <see cref="Libp2pHost"/>, with documented defaults. <see cref="Validate"/> (called by the host's
/// constructor) fails naming the option and its allowed range.
/// </summary>
public sealed class Libp2pHostOptions
{
    /// <summary>The default agent version: <c>fedagg/&lt;informational version of FedAgg.Libp2p&gt;</c>.</summary>
    public static readonly string DefaultAgentVersion = "fedagg/" + GetVersion();

    /// <summary>Addresses to listen on, e.g. <c>/ip4/127.0.0.1/tcp/0</c> (port 0 picks a free port). Default: none (dial only).</summary>
    public IList<string> ListenAddresses { get; } = [];

    /// <summary>Most connections at once, inbound and outbound. Default 1024; allowed 1 to 1,000,000.</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>Most inbound connections from one IP address. Default 64; allowed 1 to 1,000,000.</summary>
    public int MaxConnectionsPerIp { get; set; } = 64;

    /// <summary>Most concurrent streams per connection, both directions (Yamux <c>MaxStreams</c>). Default 256; allowed 1 to 65,536.</summary>
    public int MaxStreamsPerConnection { get; set; } = 256;

    /// <summary>Inbound streams opened by a peer and not yet negotiated (Yamux accept backlog). Default 64; allowed 1 to 65,536.</summary>
    public int MaxInboundStreamBacklog { get; set; } = 64;

    /// <summary>
    /// Time for each connection upgrade (multistream-select, Noise, muxer selection) and for each stream's protocol
    /// negotiation. Default 10 s; allowed 100 ms to 5 min.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection with no open streams and no traffic for this long is closed. Default 5 min; allowed 1 s to 1 day.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time to establish the TCP connection of a dial. Default 10 s; allowed 100 ms to 5 min.</summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest message <see cref="Libp2pStream.ReadMessageAsync"/> accepts on protocols not in
    /// <see cref="MaxMessageBytesPerProtocol"/>. Default 4 MiB; allowed 1 byte to 1 GiB.
    /// </summary>
    public int DefaultMaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Per-protocol message limits (protocol id → bytes, each 1 byte to 1 GiB). Default: empty.</summary>
    public IDictionary<string, int> MaxMessageBytesPerProtocol { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>If not empty, only these peers (peer-ID text) may stay connected. Default: empty (everyone not denied).</summary>
    public ISet<string> AllowedPeers { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Peers (peer-ID text) disconnected right after the Noise handshake. Default: empty.</summary>
    public ISet<string> DeniedPeers { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The agent version identify reports. Default <see cref="DefaultAgentVersion"/>; 1 to 256 characters.</summary>
    public string AgentVersion { get; set; } = DefaultAgentVersion;

    /// <summary>
    /// Whether to offer <c>/yamux/1.0.0</c> inside the Noise handshake (libp2p "early muxer negotiation"). When both sides
    /// offer muxers, the first muxer of the peer's list that we support is used (js-libp2p's rule); when the peer offers
    /// none, the muxer is negotiated with multistream-select afterwards. Default <c>false</c>: offer none and always
    /// negotiate afterwards (which every libp2p implementation supports).
    /// </summary>
    public bool EarlyMuxerNegotiation { get; set; }

    /// <summary>
    /// Whether every connection asks the remote's identify as soon as it is up (default <c>true</c>, as libp2p peers
    /// do). A server that never reads its clients' identify sets it <c>false</c>: the request is then sent the first
    /// time <see cref="Libp2pConnection.Identify"/> is read, which saves a stream and an exchange per connection.
    /// </summary>
    public bool IdentifyRemoteEagerly { get; set; } = true;

    /// <summary>
    /// How many remote Noise identity bindings (identity key, static key, signature) that verified are remembered, so a
    /// peer connecting again with the same static key skips one Ed25519 verification (about a tenth of a handshake's
    /// CPU). Default 0: every handshake verifies. Worth setting on clients that reconnect to the same servers; exact
    /// bytes only, so nothing a full check refuses is accepted.
    /// </summary>
    public int VerifiedBindingCacheSize { get; set; }

    /// <summary>The per-stream receive window (Yamux). Default 256 KiB; allowed 256 KiB to 16 MiB.</summary>
    public int YamuxInitialWindowBytes { get; set; } = YamuxOptions.SpecInitialWindowBytes;

    /// <summary>How often Yamux pings the peer to keep the connection alive; <c>null</c> turns it off. Default 30 s; allowed 1 s to 1 day.</summary>
    public TimeSpan? KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keep-alive ping may wait for its answer. Default 30 s; allowed 1 s to 1 day.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it and the range.</exception>
    /// <exception cref="ArgumentException">An address or peer ID does not parse; the message names the option.</exception>
    public void Validate()
    {
        foreach (var address in ListenAddresses)
        {
            if (!Multiaddress.TryParse(address, out var parsed, out var error))
            {
                throw new ArgumentException($"Libp2pHostOptions.ListenAddresses: '{address}' is not a multiaddr ({error}).", nameof(ListenAddresses));
            }

            if (!parsed.WithoutPeerId().TryGetIPEndPoint(out _))
            {
                throw new ArgumentException($"Libp2pHostOptions.ListenAddresses: '{address}' is not an /ip4|ip6/…/tcp/… address.", nameof(ListenAddresses));
            }
        }

        Check(MaxConnections, 1, 1_000_000, nameof(MaxConnections));
        Check(MaxConnectionsPerIp, 1, 1_000_000, nameof(MaxConnectionsPerIp));
        Check(MaxStreamsPerConnection, 1, 65_536, nameof(MaxStreamsPerConnection));
        Check(MaxInboundStreamBacklog, 1, 65_536, nameof(MaxInboundStreamBacklog));
        Check(HandshakeTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), nameof(HandshakeTimeout));
        Check(IdleTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), nameof(IdleTimeout));
        Check(DialTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), nameof(DialTimeout));
        Check(DefaultMaxMessageBytes, 1, 1 << 30, nameof(DefaultMaxMessageBytes));
        Check(VerifiedBindingCacheSize, 0, 1_000_000, nameof(VerifiedBindingCacheSize));
        foreach (var (protocol, limit) in MaxMessageBytesPerProtocol)
        {
            Check(limit, 1, 1 << 30, $"{nameof(MaxMessageBytesPerProtocol)}[{protocol}]");
        }

        CheckPeers(AllowedPeers, nameof(AllowedPeers));
        CheckPeers(DeniedPeers, nameof(DeniedPeers));
        if (string.IsNullOrEmpty(AgentVersion) || AgentVersion.Length > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(AgentVersion), AgentVersion, "Libp2pHostOptions.AgentVersion must be 1 to 256 characters.");
        }

        Check(YamuxInitialWindowBytes, YamuxOptions.SpecInitialWindowBytes, 16 * 1024 * 1024, nameof(YamuxInitialWindowBytes));
        if (KeepAliveInterval is { } interval)
        {
            Check(interval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), nameof(KeepAliveInterval));
        }

        Check(KeepAliveTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), nameof(KeepAliveTimeout));
    }

    /// <summary>The message limit of <paramref name="protocolId"/>.</summary>
    public int GetMaxMessageBytes(string protocolId) =>
        MaxMessageBytesPerProtocol.TryGetValue(protocolId, out var limit) ? limit : DefaultMaxMessageBytes;

    internal YamuxOptions ToYamuxOptions() => new()
    {
        InitialWindowBytes = YamuxInitialWindowBytes,
        MaxStreams = MaxStreamsPerConnection,
        MaxAcceptBacklog = MaxInboundStreamBacklog,
        KeepAliveInterval = KeepAliveInterval,
        KeepAliveTimeout = KeepAliveTimeout,
    };

    private static void CheckPeers(ISet<string> peers, string name)
    {
        foreach (var peer in peers)
        {
            if (!PeerId.TryParse(peer, out _))
            {
                throw new ArgumentException($"Libp2pHostOptions.{name}: '{peer}' is not a peer ID.", name);
            }
        }
    }

    private static void Check<T>(T value, T min, T max, string name)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"Libp2pHostOptions.{name} must be between {min} and {max}.");
        }
    }

    private static string GetVersion()
    {
        var assembly = typeof(Libp2pHostOptions).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 ? version[..plus] : version;
    }
}
