using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Identity;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Libp2p;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg peer id|listen|ping</c>, run as real child processes, against each other and against js-libp2p.</summary>
public sealed class PeerCommandTests
{
    private const string SeedOnesPeerId = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void PeerId_ConfigWithKeyFile_PrintsPeerIdThenEachListenAddress()
    {
        using var directory = new TempDirectory();
        var config = WriteConfig(directory, withKey: true, """["/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/0"]""");

        var result = Run(directory.Path, "peer", "id", "--config", config);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Empty(result.StandardError);
        Assert.Equal(
            [SeedOnesPeerId, $"/ip4/127.0.0.1/tcp/4001/p2p/{SeedOnesPeerId}", $"/ip6/::1/tcp/0/p2p/{SeedOnesPeerId}"],
            result.OutputLines);
    }

    [Fact]
    public void PeerId_NoConfigOption_UsesLibp2pConfigServerJsonAboveTheWorkingDirectory()
    {
        using var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("libp2p-config"));
        using (var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray()))
        {
            KeyFile.Write(directory.File("libp2p-config/keys/server.key"), key);
        }

        File.WriteAllText(directory.File("libp2p-config/server.json"), """{ "identityKeyFile": "keys/server.key", "listenAddresses": ["/ip4/0.0.0.0/tcp/4001"] }""");
        var below = directory.Directory("some/where/deep");

        var result = Run(below, "peer", "id");

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal([SeedOnesPeerId, $"/ip4/0.0.0.0/tcp/4001/p2p/{SeedOnesPeerId}"], result.OutputLines);
    }

    [Fact]
    public void PeerId_MissingKeyFile_OneLineSayingHowToCreateIt()
    {
        using var directory = new TempDirectory();
        var config = WriteConfig(directory, withKey: false, "[]");

        var result = Run(directory.Path, "peer", "id", "--config", config);

        Assert.True(result.ExitCode == 2, result.Describe());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("fedagg peer id: error: ", line, StringComparison.Ordinal);
        Assert.Contains($"fedagg keygen --out {directory.File("id.key")}", line, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);
    }

    [Fact]
    public void PeerId_NoConfigAnywhere_OneLineError()
    {
        using var directory = new TempDirectory();

        var result = Run(directory.Path, "peer", "id");

        Assert.True(result.ExitCode == 2, result.Describe());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("no --config given and no libp2p-config/server.json", line, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerId_BadConfigValue_NamesTheFieldAndRange()
    {
        using var directory = new TempDirectory();
        var config = directory.File("bad.json");
        File.WriteAllText(config, """{ "identityKeyFile": "id.key", "maxConnections": 0 }""");

        var result = Run(directory.Path, "peer", "id", "--config", config);

        Assert.True(result.ExitCode == 2, result.Describe());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("maxConnections must be an integer from 1 to 1000000, not 0", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeerListenAndPing_TwoCliProcesses_PingPrintsAgentProtocolsAndRtts()
    {
        using var directory = new TempDirectory();
        var pingerConfig = WriteConfig(directory, withKey: true, "[]");
        await using var listener = RunningCli.Start(directory.Path, "peer", "listen", "--ephemeral", "--port", "0");
        await listener.WaitForListeningAsync(Wait);
        var address = Assert.Single(listener.ListeningAddresses);
        Assert.StartsWith("/ip4/127.0.0.1/tcp/", address, StringComparison.Ordinal);
        var listenerPeer = address[(address.LastIndexOf('/') + 1)..];

        var ping = await Task.Run(() => Run(directory.Path, "peer", "ping", address, "--count", "2", "--config", pingerConfig));

        Assert.True(ping.ExitCode == 0, ping.Describe() + listener.Describe());
        Assert.Empty(ping.StandardError);
        var lines = ping.OutputLines;
        Assert.Equal(5, lines.Count);
        Assert.StartsWith($"CONNECTED {listenerPeer} /ip4/127.0.0.1/tcp/", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("AGENT fedagg/", lines[1], StringComparison.Ordinal);
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], lines[2].Split(' ')[1..]);
        Assert.Matches(@"^PING 1 \d+(\.\d+)? ms$", lines[3]);
        Assert.Matches(@"^PING 2 \d+(\.\d+)? ms$", lines[4]);
        // The listener logged the pinger, whose identity came from the key in its --config.
        await listener.WaitForLineAsync(line => line.StartsWith($"CONNECTED {SeedOnesPeerId} ", StringComparison.Ordinal), "the pinger's connection", Wait);

        var exit = await listener.StopAsync(Wait);
        Assert.True(exit == 0, $"peer listen exited with {exit} after SIGTERM\n{listener.Describe()}");
        Assert.Contains("STOPPED", listener.OutputLines);
    }

    [Fact]
    public async Task PeerPing_JsLibp2pListener_PrintsItsAgentAndProtocols()
    {
        await using var js = await JsPeer.StartAsync(agentVersion: "js-for-cli/1.0");
        using var directory = new TempDirectory();

        var ping = await Task.Run(() => Run(directory.Path, "peer", "ping", js.Address, "--count", "3"));

        Assert.True(ping.ExitCode == 0, ping.Describe() + "\njs stderr:\n" + js.RecentStderr);
        Assert.Empty(ping.StandardError);
        var lines = ping.OutputLines;
        Assert.StartsWith($"CONNECTED {js.PeerId} ", lines[0], StringComparison.Ordinal);
        Assert.Equal("AGENT js-for-cli/1.0", lines[1]);
        var protocols = lines[2].Split(' ')[1..];
        Assert.Contains("/ipfs/id/1.0.0", protocols);
        Assert.Contains("/ipfs/ping/1.0.0", protocols);
        Assert.Contains(JsPeer.EchoProtocol, protocols);
        Assert.Equal(3, lines.Count(static l => l.StartsWith("PING ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("/ip4/1.2.3/tcp/4001")]
    [InlineData("not-a-multiaddr")]
    [InlineData("/ip4/127.0.0.1/udp/4001")]
    public void PeerPing_BadMultiaddr_ExitTwoWithOneLine(string address)
    {
        using var directory = new TempDirectory();

        var result = Run(directory.Path, "peer", "ping", address);

        Assert.True(result.ExitCode == 2, result.Describe());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("fedagg peer ping: error: ", line, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);
    }

    [Fact]
    public void PeerPing_NothingListening_ExitOneWithOneLine()
    {
        using var directory = new TempDirectory();
        var port = Foundry.FreeLoopbackPort();

        var result = Run(directory.Path, "peer", "ping", $"/ip4/127.0.0.1/tcp/{port}", "--timeout", "5");

        Assert.True(result.ExitCode == 1, result.Describe());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("fedagg peer ping: error: ", line, StringComparison.Ordinal);
        Assert.Contains($"/ip4/127.0.0.1/tcp/{port}", line, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);
    }

    [Fact]
    public async Task PeerPing_WrongPeerIdInAddress_ExitOne()
    {
        await using var js = await JsPeer.StartAsync();
        using var directory = new TempDirectory();
        var wrong = js.Address[..(js.Address.LastIndexOf('/') + 1)] + SeedOnesPeerId;

        var result = await Task.Run(() => Run(directory.Path, "peer", "ping", wrong, "--timeout", "10"));

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Single(result.ErrorLines);
        Assert.DoesNotContain(result.OutputLines, static l => l.StartsWith("PING", StringComparison.Ordinal));
    }

    [Fact]
    public void PeerPing_CountOutOfRange_ExitTwo()
    {
        using var directory = new TempDirectory();

        var result = Run(directory.Path, "peer", "ping", "/ip4/127.0.0.1/tcp/1", "--count", "0");

        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.Contains("--count must be from 1 to 1000", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerListen_ConfiguredKeyMissing_ExitTwoSayingHowToCreateIt()
    {
        using var directory = new TempDirectory();
        var config = WriteConfig(directory, withKey: false, """["/ip4/127.0.0.1/tcp/0"]""");

        var result = Run(directory.Path, "peer", "listen", "--config", config);

        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.Contains("fedagg keygen --out", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public void PeerHelp_ListsIdListenAndPing()
    {
        using var directory = new TempDirectory();

        var result = Run(directory.Path, "peer", "--help");

        Assert.True(result.ExitCode == 0, result.Describe());
        foreach (var command in new[] { "id", "listen", "ping" })
        {
            Assert.Contains(result.OutputLines, line => line.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }

    /// <summary>A config in <paramref name="directory"/> naming <c>id.key</c> beside it (created from the all-ones seed when <paramref name="withKey"/>).</summary>
    private static string WriteConfig(TempDirectory directory, bool withKey, string listenAddresses)
    {
        if (withKey)
        {
            using var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());
            KeyFile.Write(directory.File("id.key"), key);
        }

        var path = directory.File("peer.json");
        File.WriteAllText(path, $$"""{ "identityKeyFile": "id.key", "listenAddresses": {{listenAddresses}} }""");
        return path;
    }

    /// <summary>Runs <c>dotnet fedagg.dll …</c> to completion in <paramref name="workingDirectory"/>.</summary>
    private static CliResult Run(string workingDirectory, params string[] arguments) => RunningCli.RunToExit(workingDirectory, arguments);
}
