using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Configuration;

/// <summary>
/// A libp2p node's configuration as read from a JSON file (see <c>libp2p-config/README.md</c>): where its identity key
/// lives and the <see cref="Libp2pHostOptions"/> values it sets. Settings the file leaves out are <c>null</c> here and
/// keep the host's defaults. Every field is checked when the file is read: an unknown field, a wrong type or a value
/// out of range fails with a <see cref="Libp2pConfigurationException"/> naming the file, the field and the allowed
/// range.
/// </summary>
public sealed class Libp2pConfiguration
{
    /// <summary>The largest configuration file read: 1 MiB.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>The most listen addresses a configuration may name.</summary>
    public const int MaxListenAddresses = 32;

    /// <summary>The most peers an allow or deny list may name.</summary>
    public const int MaxPeerListLength = 10_000;

    /// <summary>The most protocols <see cref="MaxMessageBytesPerProtocol"/> may name.</summary>
    public const int MaxProtocolLimits = 256;

    /// <summary>The largest message size limit accepted: 1 GiB.</summary>
    public const int MaxMessageBytesLimit = 1 << 30;

    /// <summary>The longest protocol id or agent version accepted.</summary>
    public const int MaxNameLength = 256;

    /// <summary>The JSON field names, in the order the README documents them.</summary>
    public static IReadOnlyList<string> FieldNames { get; } =
    [
        "identityKeyFile", "listenAddresses", "agentVersion", "maxConnections", "maxConnectionsPerIp", "maxStreamsPerConnection",
        "maxInboundStreamBacklog", "handshakeTimeoutSeconds", "idleTimeoutSeconds", "dialTimeoutSeconds", "defaultMaxMessageBytes",
        "maxMessageBytesPerProtocol", "allowedPeers", "deniedPeers", "earlyMuxerNegotiation", "yamuxInitialWindowBytes",
        "keepAliveIntervalSeconds", "keepAliveTimeoutSeconds",
    ];

    private Libp2pConfiguration(string source, string identityKeyFile)
    {
        Source = source;
        IdentityKeyFile = identityKeyFile;
    }

    /// <summary>Where the configuration came from: the full path of its file, or the name given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>
    /// The full path of the identity key file (<c>identityKeyFile</c>; required). A relative path in the file is
    /// resolved against the configuration file's folder. The file may not exist yet: <c>fedagg keygen --out</c> creates it.
    /// </summary>
    public string IdentityKeyFile { get; }

    /// <summary>The addresses to listen on (<c>listenAddresses</c>; default none: dial only). TCP over IPv4 or IPv6, no <c>/p2p</c>.</summary>
    public IReadOnlyList<Multiaddress> ListenAddresses { get; private set; } = [];

    /// <summary>The agent version sent in identify (<c>agentVersion</c>), or <c>null</c> for the host's default.</summary>
    public string? AgentVersion { get; private set; }

    /// <summary><c>maxConnections</c>, or <c>null</c> for the host's default.</summary>
    public int? MaxConnections { get; private set; }

    /// <summary><c>maxConnectionsPerIp</c>, or <c>null</c> for the host's default.</summary>
    public int? MaxConnectionsPerIp { get; private set; }

    /// <summary><c>maxStreamsPerConnection</c>, or <c>null</c> for the host's default.</summary>
    public int? MaxStreamsPerConnection { get; private set; }

    /// <summary><c>maxInboundStreamBacklog</c>, or <c>null</c> for the host's default.</summary>
    public int? MaxInboundStreamBacklog { get; private set; }

    /// <summary><c>handshakeTimeoutSeconds</c>, or <c>null</c> for the host's default.</summary>
    public TimeSpan? HandshakeTimeout { get; private set; }

    /// <summary><c>idleTimeoutSeconds</c>, or <c>null</c> for the host's default.</summary>
    public TimeSpan? IdleTimeout { get; private set; }

    /// <summary><c>dialTimeoutSeconds</c>, or <c>null</c> for the host's default.</summary>
    public TimeSpan? DialTimeout { get; private set; }

    /// <summary><c>defaultMaxMessageBytes</c>, or <c>null</c> for the host's default.</summary>
    public int? DefaultMaxMessageBytes { get; private set; }

    /// <summary><c>maxMessageBytesPerProtocol</c>: protocol id → largest message in bytes (default none).</summary>
    public IReadOnlyDictionary<string, int> MaxMessageBytesPerProtocol { get; private set; } = ReadOnlyDictionary<string, int>.Empty;

    /// <summary><c>allowedPeers</c>: when not empty, only these peers may stay connected (default empty: everyone not denied).</summary>
    public IReadOnlyList<PeerId> AllowedPeers { get; private set; } = [];

    /// <summary><c>deniedPeers</c>: peers disconnected right after the handshake (default none).</summary>
    public IReadOnlyList<PeerId> DeniedPeers { get; private set; } = [];

    /// <summary><c>earlyMuxerNegotiation</c>, or <c>null</c> for the host's default.</summary>
    public bool? EarlyMuxerNegotiation { get; private set; }

    /// <summary><c>yamuxInitialWindowBytes</c>, or <c>null</c> for the host's default.</summary>
    public int? YamuxInitialWindowBytes { get; private set; }

    /// <summary>
    /// <c>keepAliveIntervalSeconds</c>: <see cref="TimeSpan.Zero"/> turns keep-alive pings off; <c>null</c> keeps the
    /// host's default.
    /// </summary>
    public TimeSpan? KeepAliveInterval { get; private set; }

    /// <summary><c>keepAliveTimeoutSeconds</c>, or <c>null</c> for the host's default.</summary>
    public TimeSpan? KeepAliveTimeout { get; private set; }

    /// <summary>Reads and checks the configuration file at <paramref name="path"/>.</summary>
    /// <exception cref="Libp2pConfigurationException">The file is missing, unreadable, too large, not JSON, or a field is unknown or out of range.</exception>
    public static Libp2pConfiguration Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new Libp2pConfigurationException($"The libp2p configuration file {fullPath} does not exist.");
        }

        byte[] content;
        try
        {
            var length = new FileInfo(fullPath).Length;
            if (length > MaxFileBytes)
            {
                throw new Libp2pConfigurationException($"{fullPath}: the file is {length} bytes; a libp2p configuration may have at most {MaxFileBytes}.");
            }

            content = File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Libp2pConfigurationException($"Cannot read the libp2p configuration file {fullPath}: {e.Message}", e);
        }

        return Parse(content, fullPath, Path.GetDirectoryName(fullPath)!);
    }

    /// <summary>
    /// Parses and checks a configuration from UTF-8 JSON. A relative <c>identityKeyFile</c> is resolved against
    /// <paramref name="baseDirectory"/>; <paramref name="source"/> names the configuration in error messages.
    /// </summary>
    /// <exception cref="Libp2pConfigurationException">The text is not JSON, or a field is unknown or out of range.</exception>
    public static Libp2pConfiguration Parse(ReadOnlySpan<byte> utf8Json, string source, string baseDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(baseDirectory);
        if (utf8Json.Length > MaxFileBytes)
        {
            throw new Libp2pConfigurationException($"{source}: the configuration is {utf8Json.Length} bytes; at most {MaxFileBytes} are allowed.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
                MaxDepth = 8,
            });
        }
        catch (JsonException e)
        {
            throw new Libp2pConfigurationException($"{source}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            return Read(document.RootElement, source, baseDirectory);
        }
    }

    /// <summary>
    /// Host options with every setting this configuration names applied over the host's defaults, checked with
    /// <see cref="Libp2pHostOptions.Validate"/>.
    /// </summary>
    /// <exception cref="Libp2pConfigurationException">The combination is invalid (for example more connections per IP than in total).</exception>
    public Libp2pHostOptions CreateHostOptions()
    {
        var options = new Libp2pHostOptions();
        foreach (var address in ListenAddresses)
        {
            options.ListenAddresses.Add(address.ToString());
        }

        options.MaxConnections = MaxConnections ?? options.MaxConnections;
        options.MaxConnectionsPerIp = MaxConnectionsPerIp ?? options.MaxConnectionsPerIp;
        options.MaxStreamsPerConnection = MaxStreamsPerConnection ?? options.MaxStreamsPerConnection;
        options.MaxInboundStreamBacklog = MaxInboundStreamBacklog ?? options.MaxInboundStreamBacklog;
        options.HandshakeTimeout = HandshakeTimeout ?? options.HandshakeTimeout;
        options.IdleTimeout = IdleTimeout ?? options.IdleTimeout;
        options.DialTimeout = DialTimeout ?? options.DialTimeout;
        options.DefaultMaxMessageBytes = DefaultMaxMessageBytes ?? options.DefaultMaxMessageBytes;
        options.AgentVersion = AgentVersion ?? options.AgentVersion;
        options.EarlyMuxerNegotiation = EarlyMuxerNegotiation ?? options.EarlyMuxerNegotiation;
        options.YamuxInitialWindowBytes = YamuxInitialWindowBytes ?? options.YamuxInitialWindowBytes;
        if (KeepAliveInterval is { } interval)
        {
            options.KeepAliveInterval = interval == TimeSpan.Zero ? null : interval;
        }

        options.KeepAliveTimeout = KeepAliveTimeout ?? options.KeepAliveTimeout;
        foreach (var (protocol, limit) in MaxMessageBytesPerProtocol)
        {
            options.MaxMessageBytesPerProtocol[protocol] = limit;
        }

        foreach (var peer in AllowedPeers)
        {
            options.AllowedPeers.Add(peer.ToString());
        }

        foreach (var peer in DeniedPeers)
        {
            options.DeniedPeers.Add(peer.ToString());
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            // ArgumentOutOfRangeException appends the parameter and value on extra lines; the first line says it all.
            throw new Libp2pConfigurationException($"{Source}: {e.Message.Split('\n')[0].Trim()}", e);
        }

        return options;
    }

    private static Libp2pConfiguration Read(JsonElement root, string source, string baseDirectory)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new Libp2pConfigurationException($"{source}: the configuration must be a JSON object, not {Describe(root)}.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!FieldNames.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new Libp2pConfigurationException(
                    $"{source}: unknown field \"{Printable(property.Name)}\"; the known fields are {string.Join(", ", FieldNames)} (see libp2p-config/README.md).");
            }

            if (!seen.Add(property.Name))
            {
                throw new Libp2pConfigurationException($"{source}: the field \"{property.Name}\" appears more than once.");
            }
        }

        if (!root.TryGetProperty("identityKeyFile", out var keyElement))
        {
            throw new Libp2pConfigurationException(
                $"{source}: the field \"identityKeyFile\" is required: the path of an Ed25519 key file (create one with: fedagg keygen --out FILE).");
        }

        var keyPath = ReadString(keyElement, source, "identityKeyFile", "a file path", 1, 4096);
        string identityKeyFile;
        try
        {
            identityKeyFile = Path.GetFullPath(keyPath, baseDirectory);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new Libp2pConfigurationException($"{source}: identityKeyFile \"{Printable(keyPath)}\" is not a usable path: {e.Message}", e);
        }

        var configuration = new Libp2pConfiguration(source, identityKeyFile);
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "listenAddresses":
                    configuration.ListenAddresses = ReadListenAddresses(value, source);
                    break;
                case "agentVersion":
                    configuration.AgentVersion = value.ValueKind == JsonValueKind.Null ? null : ReadString(value, source, property.Name, "printable ASCII", 1, MaxNameLength, asciiOnly: true);
                    break;
                case "maxConnections":
                    configuration.MaxConnections = ReadInt(value, source, property.Name, 1, 1_000_000);
                    break;
                case "maxConnectionsPerIp":
                    configuration.MaxConnectionsPerIp = ReadInt(value, source, property.Name, 1, 1_000_000);
                    break;
                case "maxStreamsPerConnection":
                    configuration.MaxStreamsPerConnection = ReadInt(value, source, property.Name, 1, 65_536);
                    break;
                case "maxInboundStreamBacklog":
                    configuration.MaxInboundStreamBacklog = ReadInt(value, source, property.Name, 1, 65_536);
                    break;
                case "earlyMuxerNegotiation":
                    configuration.EarlyMuxerNegotiation = ReadBool(value, source, property.Name);
                    break;
                case "yamuxInitialWindowBytes":
                    configuration.YamuxInitialWindowBytes = ReadInt(value, source, property.Name, 256 * 1024, 16 * 1024 * 1024);
                    break;
                case "keepAliveIntervalSeconds":
                    configuration.KeepAliveInterval = value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var off) && off == 0
                        ? TimeSpan.Zero
                        : ReadSeconds(value, source, property.Name, 1, 86_400, " (or 0 to turn keep-alive off)");
                    break;
                case "keepAliveTimeoutSeconds":
                    configuration.KeepAliveTimeout = ReadSeconds(value, source, property.Name, 1, 86_400);
                    break;
                case "handshakeTimeoutSeconds":
                    configuration.HandshakeTimeout = ReadSeconds(value, source, property.Name, 0.1, 300);
                    break;
                case "idleTimeoutSeconds":
                    configuration.IdleTimeout = ReadSeconds(value, source, property.Name, 1, 86_400);
                    break;
                case "dialTimeoutSeconds":
                    configuration.DialTimeout = ReadSeconds(value, source, property.Name, 0.1, 300);
                    break;
                case "defaultMaxMessageBytes":
                    configuration.DefaultMaxMessageBytes = ReadInt(value, source, property.Name, 1, MaxMessageBytesLimit);
                    break;
                case "maxMessageBytesPerProtocol":
                    configuration.MaxMessageBytesPerProtocol = ReadProtocolLimits(value, source);
                    break;
                case "allowedPeers":
                    configuration.AllowedPeers = ReadPeers(value, source, property.Name);
                    break;
                case "deniedPeers":
                    configuration.DeniedPeers = ReadPeers(value, source, property.Name);
                    break;
                default:
                    break;
            }
        }

        foreach (var denied in configuration.DeniedPeers)
        {
            if (configuration.AllowedPeers.Contains(denied))
            {
                throw new Libp2pConfigurationException($"{source}: the peer {denied} is in both allowedPeers and deniedPeers; name it in one list only.");
            }
        }

        if (configuration.MaxConnectionsPerIp is { } perIp && configuration.MaxConnections is { } total && perIp > total)
        {
            throw new Libp2pConfigurationException($"{source}: maxConnectionsPerIp ({perIp}) must not exceed maxConnections ({total}).");
        }

        return configuration;
    }

    private static List<Multiaddress> ReadListenAddresses(JsonElement value, string source)
    {
        const string Expected = "TCP multiaddrs such as \"/ip4/0.0.0.0/tcp/4001\" (ip4 or ip6, port 0-65535, no /p2p)";
        return ReadDistinctList(value, source, "listenAddresses", MaxListenAddresses, Expected, Expected, Multiaddress.MaxLength, (text, name) =>
        {
            if (!Multiaddress.TryParse(text, out var address, out var error))
            {
                throw new Libp2pConfigurationException($"{source}: {name} \"{Printable(text)}\" is not a multiaddr ({error}); expected {Expected}.");
            }

            return address.PeerId is null && address.TryGetIPEndPoint(out _)
                ? address
                : throw new Libp2pConfigurationException($"{source}: {name} \"{Printable(text)}\" cannot be listened on; expected {Expected}.");
        }, static (text, _) => $"\"{Printable(text)}\"");
    }

    private static ReadOnlyDictionary<string, int> ReadProtocolLimits(JsonElement value, string source)
    {
        const string Field = "maxMessageBytesPerProtocol";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new Libp2pConfigurationException(
                $"{source}: {Field} must be an object mapping protocol ids (\"/name/version\") to sizes in bytes (1 to {MaxMessageBytesLimit}), not {Describe(value)}.");
        }

        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (!IsProtocolId(property.Name))
            {
                throw new Libp2pConfigurationException(
                    $"{source}: {Field} key \"{Printable(property.Name)}\" is not a protocol id: it must start with '/', be at most {MaxNameLength} characters and hold only printable ASCII without spaces.");
            }

            if (!limits.TryAdd(property.Name, ReadInt(property.Value, source, $"{Field}[\"{property.Name}\"]", 1, MaxMessageBytesLimit)))
            {
                throw new Libp2pConfigurationException($"{source}: {Field} names \"{property.Name}\" more than once.");
            }

            if (limits.Count > MaxProtocolLimits)
            {
                throw new Libp2pConfigurationException($"{source}: {Field} names more than {MaxProtocolLimits} protocols.");
            }
        }

        return limits.AsReadOnly();
    }

    private static List<PeerId> ReadPeers(JsonElement value, string source, string field) =>
        ReadDistinctList(value, source, field, MaxPeerListLength, "peer ids (\"12D3KooW…\")", "a peer id (\"12D3KooW…\")", PeerId.MaxTextLength, (text, name) =>
        {
            try
            {
                return PeerId.Parse(text);
            }
            catch (FormatException e)
            {
                throw new Libp2pConfigurationException($"{source}: {name} \"{Printable(text)}\" is not a peer id: {e.Message}", e);
            }
        }, static (_, peer) => peer.ToString());

    // A JSON array of at most maxCount distinct strings, each parsed by parse; every error names the file, the element and what was expected.
    private static List<T> ReadDistinctList<T>(
        JsonElement value,
        string source,
        string field,
        int maxCount,
        string arrayOf,
        string element,
        int maxTextLength,
        Func<string, string, T> parse,
        Func<string, T, string> describeDuplicate)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new Libp2pConfigurationException($"{source}: {field} must be an array of 0 to {maxCount} {arrayOf}, not {Describe(value)}.");
        }

        if (value.GetArrayLength() > maxCount)
        {
            throw new Libp2pConfigurationException($"{source}: {field} has {value.GetArrayLength()} entries; at most {maxCount} are allowed.");
        }

        var items = new List<T>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var name = $"{field}[{index++}]";
            var text = ReadString(item, source, name, element, 1, maxTextLength);
            var parsed = parse(text, name);
            if (items.Contains(parsed))
            {
                throw new Libp2pConfigurationException($"{source}: {name} {describeDuplicate(text, parsed)} is listed twice.");
            }

            items.Add(parsed);
        }

        return items;
    }

    private static int ReadInt(JsonElement value, string source, string field, int min, int max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
        {
            throw new Libp2pConfigurationException($"{source}: {field} must be an integer from {min} to {max}, not {Describe(value)}.");
        }

        return (int)number;
    }

    private static bool ReadBool(JsonElement value, string source, string field) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new Libp2pConfigurationException($"{source}: {field} must be true or false, not {Describe(value)}."),
    };

    private static TimeSpan ReadSeconds(JsonElement value, string source, string field, double min, double max, string alternative = "")
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !double.IsFinite(seconds) || seconds < min || seconds > max)
        {
            throw new Libp2pConfigurationException(
                $"{source}: {field} must be a number of seconds from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}{alternative}, not {Describe(value)}.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static string ReadString(JsonElement value, string source, string field, string expected, int minLength, int maxLength, bool asciiOnly = false)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new Libp2pConfigurationException($"{source}: {field} must be a string ({expected}), not {Describe(value)}.");
        }

        var text = value.GetString()!;
        if (text.Length < minLength || text.Length > maxLength)
        {
            throw new Libp2pConfigurationException($"{source}: {field} must be {minLength} to {maxLength} characters ({expected}); it has {text.Length}.");
        }

        if (asciiOnly && !text.All(static c => c is >= ' ' and <= '~'))
        {
            throw new Libp2pConfigurationException($"{source}: {field} must be {expected}: \"{Printable(text)}\" has other characters.");
        }

        return text;
    }

    private static bool IsProtocolId(string name) =>
        name.Length is >= 2 and <= MaxNameLength && name[0] == '/' && name.All(static c => c is > ' ' and <= '~');

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Printable(Shorten(value.GetString()!))}\"",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString(),
    };

    private static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..80]}…";

    /// <summary>Text from the file as it may appear in a message: control characters escaped, so a message stays one line.</summary>
    private static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
