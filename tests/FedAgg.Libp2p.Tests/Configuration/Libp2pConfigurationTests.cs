using System.Text;
using System.Text.RegularExpressions;
using FedAgg.Libp2p.Configuration;
using FedAgg.TestKit;

namespace FedAgg.Libp2p.Tests.Configuration;

public sealed partial class Libp2pConfigurationTests
{
    private const string KnownPeer = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5";
    private const string OtherPeer = "12D3KooWCAFrogWoV2W2c91xYYzDx4Ww9o1GS8c5qPFWwj2pk83F";

    private static string ConfigFolder => Path.Combine(RepositoryRoot.Path, "libp2p-config");

    [Fact]
    public void Load_ServerJson_ReadsEveryFieldAndResolvesTheKeyBesideIt()
    {
        var configuration = Libp2pConfiguration.Load(Path.Combine(ConfigFolder, "server.json"));

        Assert.Equal(Path.Combine(ConfigFolder, "keys", "server.key"), configuration.IdentityKeyFile);
        Assert.Equal(["/ip4/0.0.0.0/tcp/4001"], configuration.ListenAddresses.Select(static a => a.ToString()));
        Assert.Equal(1024, configuration.MaxConnections);
        Assert.Equal(64, configuration.MaxConnectionsPerIp);
        Assert.Equal(256, configuration.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(10), configuration.HandshakeTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), configuration.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), configuration.DialTimeout);
        Assert.Equal(4 * 1024 * 1024, configuration.DefaultMaxMessageBytes);
        Assert.Equal(2472, configuration.MaxMessageBytesPerProtocol["/fedagg/submit/1.0.0"]);
        Assert.Equal(3, configuration.MaxMessageBytesPerProtocol.Count);
        Assert.Empty(configuration.AllowedPeers);
        Assert.Empty(configuration.DeniedPeers);
        Assert.Null(configuration.AgentVersion);
    }

    [Fact]
    public void Load_NodeJson_LeavesUnnamedSettingsToTheHost()
    {
        var configuration = Libp2pConfiguration.Load(Path.Combine(ConfigFolder, "node.json"));

        Assert.Equal(Path.Combine(ConfigFolder, "keys", "node.key"), configuration.IdentityKeyFile);
        Assert.Equal(["/ip4/127.0.0.1/tcp/0"], configuration.ListenAddresses.Select(static a => a.ToString()));
        Assert.Equal(64, configuration.MaxConnections);
        Assert.Null(configuration.HandshakeTimeout);
        Assert.Null(configuration.DefaultMaxMessageBytes);
        Assert.Empty(configuration.MaxMessageBytesPerProtocol);
    }

    [Fact]
    public void CreateHostOptions_ServerJson_AppliesEveryValueAndValidates()
    {
        var options = Libp2pConfiguration.Load(Path.Combine(ConfigFolder, "server.json")).CreateHostOptions();

        Assert.Equal(["/ip4/0.0.0.0/tcp/4001"], options.ListenAddresses);
        Assert.Equal(1024, options.MaxConnections);
        Assert.Equal(TimeSpan.FromMinutes(5), options.IdleTimeout);
        Assert.Equal(2472, options.GetMaxMessageBytes("/fedagg/submit/1.0.0"));
        Assert.Equal(4 * 1024 * 1024, options.GetMaxMessageBytes("/fedagg/unlisted/1.0.0"));
        Assert.Equal(Libp2pHostOptions.DefaultAgentVersion, options.AgentVersion);
    }

    [Fact]
    public void CreateHostOptions_OnlyTheKey_KeepsEveryHostDefault()
    {
        var defaults = new Libp2pHostOptions();

        var options = Parse("""{ "identityKeyFile": "k" }""").CreateHostOptions();

        Assert.Empty(options.ListenAddresses);
        Assert.Equal(defaults.MaxConnections, options.MaxConnections);
        Assert.Equal(defaults.MaxConnectionsPerIp, options.MaxConnectionsPerIp);
        Assert.Equal(defaults.MaxStreamsPerConnection, options.MaxStreamsPerConnection);
        Assert.Equal(defaults.MaxInboundStreamBacklog, options.MaxInboundStreamBacklog);
        Assert.Equal(defaults.HandshakeTimeout, options.HandshakeTimeout);
        Assert.Equal(defaults.IdleTimeout, options.IdleTimeout);
        Assert.Equal(defaults.DialTimeout, options.DialTimeout);
        Assert.Equal(defaults.DefaultMaxMessageBytes, options.DefaultMaxMessageBytes);
        Assert.Equal(defaults.EarlyMuxerNegotiation, options.EarlyMuxerNegotiation);
        Assert.Equal(defaults.YamuxInitialWindowBytes, options.YamuxInitialWindowBytes);
        Assert.Equal(defaults.KeepAliveInterval, options.KeepAliveInterval);
        Assert.Equal(defaults.KeepAliveTimeout, options.KeepAliveTimeout);
        Assert.Equal(defaults.AgentVersion, options.AgentVersion);
    }

    [Fact]
    public void Readme_DefaultsColumn_MatchesTheHostDefaults()
    {
        var readme = File.ReadAllText(Path.Combine(ConfigFolder, "README.md"));
        var defaults = new Libp2pHostOptions();
        string Default(string field) => DefaultColumn().Matches(readme).Single(m => m.Groups[1].Value == field).Groups[2].Value.Trim();

        Assert.Equal(defaults.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("maxConnections"));
        Assert.Equal(defaults.MaxConnectionsPerIp.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("maxConnectionsPerIp"));
        Assert.Equal(defaults.MaxStreamsPerConnection.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("maxStreamsPerConnection"));
        Assert.Equal(defaults.MaxInboundStreamBacklog.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("maxInboundStreamBacklog"));
        Assert.Equal(defaults.HandshakeTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("handshakeTimeoutSeconds"));
        Assert.Equal(defaults.IdleTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("idleTimeoutSeconds"));
        Assert.Equal(defaults.DialTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("dialTimeoutSeconds"));
        Assert.StartsWith(defaults.DefaultMaxMessageBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " ", Default("defaultMaxMessageBytes"), StringComparison.Ordinal);
        Assert.StartsWith(defaults.YamuxInitialWindowBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " ", Default("yamuxInitialWindowBytes"), StringComparison.Ordinal);
        Assert.Equal(defaults.KeepAliveInterval!.Value.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("keepAliveIntervalSeconds"));
        Assert.Equal(defaults.KeepAliveTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("keepAliveTimeoutSeconds"));
        Assert.Equal(defaults.EarlyMuxerNegotiation ? "`true`" : "`false`", Default("earlyMuxerNegotiation"));
    }

    [Fact]
    public void CreateHostOptions_MuxerWindowAndKeepAlive_Applied()
    {
        var options = Parse("""
            { "identityKeyFile": "k", "earlyMuxerNegotiation": true, "yamuxInitialWindowBytes": 1048576,
              "keepAliveIntervalSeconds": 0, "keepAliveTimeoutSeconds": 5, "maxInboundStreamBacklog": 8,
              "allowedPeers": ["KNOWN"], "agentVersion": "x/1" }
            """.Replace("KNOWN", KnownPeer, StringComparison.Ordinal)).CreateHostOptions();

        Assert.True(options.EarlyMuxerNegotiation);
        Assert.Equal(1 << 20, options.YamuxInitialWindowBytes);
        Assert.Null(options.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.KeepAliveTimeout);
        Assert.Equal(8, options.MaxInboundStreamBacklog);
        Assert.Equal([KnownPeer], options.AllowedPeers);
        Assert.Equal("x/1", options.AgentVersion);
    }

    [Fact]
    public void Readme_DocumentsExactlyTheKnownFields()
    {
        var readme = File.ReadAllText(Path.Combine(ConfigFolder, "README.md"));

        var documented = FieldRow().Matches(readme).Select(static m => m.Groups[1].Value).ToList();

        Assert.Equal(Libp2pConfiguration.FieldNames, documented);
    }

    [Fact]
    public void Load_RelativeKeyPath_ResolvedAgainstTheConfigFolderNotTheWorkingDirectory()
    {
        var folder = Directory.CreateTempSubdirectory("fedagg-config-");
        try
        {
            var nested = Directory.CreateDirectory(Path.Combine(folder.FullName, "etc"));
            var path = Path.Combine(nested.FullName, "peer.json");
            File.WriteAllText(path, """{ "identityKeyFile": "../keys/a.key" }""");

            var configuration = Libp2pConfiguration.Load(path);

            Assert.Equal(Path.Combine(folder.FullName, "keys", "a.key"), configuration.IdentityKeyFile);
            Assert.Equal(path, configuration.Source);
            Assert.Empty(configuration.ListenAddresses);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_AbsoluteKeyPath_KeptAsIs()
    {
        var configuration = Parse("""{ "identityKeyFile": "/srv/fedagg/id.key" }""");

        Assert.Equal("/srv/fedagg/id.key", configuration.IdentityKeyFile);
    }

    [Fact]
    public void Load_MissingFile_FailsNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fedagg-absent-{Guid.NewGuid():N}.json");

        var error = Assert.Throws<Libp2pConfigurationException>(() => Libp2pConfiguration.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_Accepted()
    {
        var configuration = Parse("""
            {
              // the key
              "identityKeyFile": "k.key", /* listen */
              "listenAddresses": ["/ip6/::1/tcp/4001", "/ip4/127.0.0.1/tcp/0",],
              "agentVersion": "fedagg-test/1.0",
              "allowedPeers": ["KNOWN"],
              "deniedPeers": ["OTHER"],
              "handshakeTimeoutSeconds": 0.25,
            }
            """.Replace("KNOWN", KnownPeer, StringComparison.Ordinal).Replace("OTHER", OtherPeer, StringComparison.Ordinal));

        Assert.Equal(["/ip6/::1/tcp/4001", "/ip4/127.0.0.1/tcp/0"], configuration.ListenAddresses.Select(static a => a.ToString()));
        Assert.Equal("fedagg-test/1.0", configuration.AgentVersion);
        Assert.Equal(KnownPeer, Assert.Single(configuration.AllowedPeers).ToString());
        Assert.Equal(OtherPeer, Assert.Single(configuration.DeniedPeers).ToString());
        Assert.Equal(TimeSpan.FromMilliseconds(250), configuration.HandshakeTimeout);
    }

    [Theory]
    [InlineData("maxConnections", "0", "1 to 1000000")]
    [InlineData("maxConnections", "1.5", "1 to 1000000")]
    [InlineData("maxConnections", "\"10\"", "1 to 1000000")]
    [InlineData("maxConnectionsPerIp", "-1", "1 to 1000000")]
    [InlineData("handshakeTimeoutSeconds", "0", "0.1 to 300")]
    [InlineData("handshakeTimeoutSeconds", "301", "0.1 to 300")]
    [InlineData("idleTimeoutSeconds", "0.5", "1 to 86400")]
    [InlineData("dialTimeoutSeconds", "null", "0.1 to 300")]
    [InlineData("defaultMaxMessageBytes", "1073741825", "1 to 1073741824")]
    [InlineData("defaultMaxMessageBytes", "true", "1 to 1073741824")]
    [InlineData("agentVersion", "\"\"", "1 to 256 characters")]
    [InlineData("agentVersion", "\"caf\\u00e9\"", "printable ASCII")]
    [InlineData("agentVersion", "7", "printable ASCII")]
    [InlineData("listenAddresses", "\"/ip4/0.0.0.0/tcp/1\"", "array")]
    [InlineData("allowedPeers", "{}", "peer ids")]
    [InlineData("maxMessageBytesPerProtocol", "[]", "protocol ids")]
    [InlineData("maxStreamsPerConnection", "65537", "1 to 65536")]
    [InlineData("maxInboundStreamBacklog", "0", "1 to 65536")]
    [InlineData("earlyMuxerNegotiation", "1", "true or false")]
    [InlineData("yamuxInitialWindowBytes", "262143", "262144 to 16777216")]
    [InlineData("keepAliveIntervalSeconds", "0.5", "1 to 86400 (or 0 to turn keep-alive off)")]
    [InlineData("keepAliveTimeoutSeconds", "0", "1 to 86400")]
    public void Parse_ValueOutOfRange_FailsNamingTheFieldAndTheRange(string field, string json, string range)
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse($$"""{ "identityKeyFile": "k", "{{field}}": {{json}} }"""));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(range, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.json: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"/ip4/1.2.3/tcp/1\"", "listenAddresses[0]", "not a multiaddr")]
    [InlineData("\"/ip4/127.0.0.1/tcp/70000\"", "listenAddresses[0]", "not a multiaddr")]
    [InlineData("\"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5\"", "listenAddresses[0]", "cannot be listened on")]
    [InlineData("\"/dns4/example.org/tcp/1\"", "listenAddresses[0]", "cannot be listened on")]
    [InlineData("\"/ip4/127.0.0.1/tcp/1\", \"/ip4/127.0.0.1/tcp/1\"", "listenAddresses[1]", "listed twice")]
    [InlineData("3", "listenAddresses[0]", "must be a string")]
    public void Parse_BadListenAddress_FailsNamingTheEntry(string entries, string field, string reason)
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse($$"""{ "identityKeyFile": "k", "listenAddresses": [{{entries}}] }"""));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooManyListenAddresses_FailsWithTheLimit()
    {
        var entries = string.Join(", ", Enumerable.Range(1, Libp2pConfiguration.MaxListenAddresses + 1).Select(static p => $"\"/ip4/127.0.0.1/tcp/{p}\""));

        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse($$"""{ "identityKeyFile": "k", "listenAddresses": [{{entries}}] }"""));

        Assert.Contains("at most 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownField_FailsNamingItAndTheKnownOnes()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse("""{ "identityKeyFile": "k", "maxConnection": 5 }"""));

        Assert.Contains("unknown field \"maxConnection\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("maxConnectionsPerIp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FieldTwice_Fails()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse("""{ "identityKeyFile": "k", "maxConnections": 5, "maxConnections": 6 }"""));

        Assert.Contains("\"maxConnections\" appears more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoIdentityKeyFile_FailsSayingHowToCreateOne()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse("""{ "maxConnections": 5 }"""));

        Assert.Contains("identityKeyFile", error.Message, StringComparison.Ordinal);
        Assert.Contains("fedagg keygen --out", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("{ \"identityKeyFile\": ")]
    [InlineData("")]
    public void Parse_NotAnObject_Fails(string json)
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse(json));

        Assert.StartsWith("test.json: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadPeerId_FailsNamingTheEntry()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() =>
            Parse($$"""{ "identityKeyFile": "k", "deniedPeers": ["{{KnownPeer}}", "12D3KooWnotapeer"] }"""));

        Assert.Contains("deniedPeers[1]", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a peer id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PeerBothAllowedAndDenied_Fails()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() =>
            Parse($$"""{ "identityKeyFile": "k", "allowedPeers": ["{{KnownPeer}}"], "deniedPeers": ["{{KnownPeer}}"] }"""));

        Assert.Contains("both allowedPeers and deniedPeers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PerIpAboveTotal_Fails()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() =>
            Parse("""{ "identityKeyFile": "k", "maxConnections": 10, "maxConnectionsPerIp": 11 }"""));

        Assert.Contains("maxConnectionsPerIp (11) must not exceed maxConnections (10)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"fedagg/x\": 5 }", "not a protocol id")]
    [InlineData("{ \"/fedagg x\": 5 }", "not a protocol id")]
    [InlineData("{ \"/fedagg/x\": 0 }", "1 to 1073741824")]
    [InlineData("{ \"/fedagg/x\": \"5\" }", "1 to 1073741824")]
    public void Parse_BadProtocolLimit_Fails(string limits, string reason)
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() =>
            Parse($$"""{ "identityKeyFile": "k", "maxMessageBytesPerProtocol": {{limits}} }"""));

        Assert.Contains("maxMessageBytesPerProtocol", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ControlCharactersInValues_EscapedSoTheMessageStaysOneLine()
    {
        var error = Assert.Throws<Libp2pConfigurationException>(() => Parse("""{ "identityKeyFile": "k", "bad\nfield": 1 }"""));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("bad\\u000afield", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OversizedInput_Refused()
    {
        var json = new byte[Libp2pConfiguration.MaxFileBytes + 1];

        var error = Assert.Throws<Libp2pConfigurationException>(() => Libp2pConfiguration.Parse(json, "big.json", "/tmp"));

        Assert.Contains("at most 1048576", error.Message, StringComparison.Ordinal);
    }

    private static Libp2pConfiguration Parse(string json) =>
        Libp2pConfiguration.Parse(Encoding.UTF8.GetBytes(json), "test.json", "/base");

    [GeneratedRegex(@"^\| `([A-Za-z]+)` \|", RegexOptions.Multiline)]
    private static partial Regex FieldRow();

    [GeneratedRegex(@"^\| `([A-Za-z]+)` \| [^|]+ \| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex DefaultColumn();
}
