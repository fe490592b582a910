using FedAgg.LoadTests.Runner;

namespace FedAgg.LoadTests.Tests.Runner;

public class LoadCommandLineTests
{
    [Fact]
    public void Parse_SubmitDefaults_MatchTheIssueTargets()
    {
        var line = LoadCommandLine.Parse(["submit", "--dev"]);
        Assert.Equal(100, line.Peers);
        Assert.Equal(1L << 20, line.SizeBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), line.Duration);
        Assert.Equal(TimeSpan.FromSeconds(5), line.WarmUp);
        var inject = Assert.IsType<InjectSimulation>(line.Load);
        Assert.Equal(50, inject.FromRatePerSecond);
        Assert.False(line.Chain);
    }

    [Fact]
    public void Parse_RoundsDefaults_AnchorOnTheChainWithKeepPerPeer()
    {
        var line = LoadCommandLine.Parse(["rounds", "--dev", "--peers", "6"]);
        Assert.True(line.Chain);
        Assert.Equal(200, line.Rounds);
        Assert.Equal(6, Assert.IsType<KeepConstantSimulation>(line.Load).Copies);
        Assert.Equal(10, line.HeapEvery);
        Assert.Equal(50, line.HeapWarmupRounds);
        Assert.Equal(TimeSpan.FromSeconds(5), line.HeapInterval);
    }

    [Fact]
    public void Parse_HeapOptions_AreRead()
    {
        var line = LoadCommandLine.Parse(["rounds", "--dev", "--heap-every", "0", "--heap-warmup", "7", "--heap-interval", "250ms"]);
        Assert.Equal(0, line.HeapEvery);
        Assert.Equal(7, line.HeapWarmupRounds);
        Assert.Equal(TimeSpan.FromMilliseconds(250), line.HeapInterval);
        Assert.Throws<FormatException>(() => LoadCommandLine.Parse(["rounds", "--dev", "--heap-every", "-1"]));
    }

    [Fact]
    public void Parse_AllOptions_AreRead()
    {
        var line = LoadCommandLine.Parse(["hostile-mix", "--target", "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWEShbrmsp9w9YzH9W592NLRZDykB5PSFEbaeXoC3ZyGc8",
            "--coordinator-key", "c.key", "--duration", "1500ms", "--warmup", "0", "--load", "ramp:0-10/s", "--peers", "7", "--size", "4KiB",
            "--hostile", "3", "--max-in-flight", "9", "--grace", "2m", "--report-dir", "out", "--quiet"]);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), line.Duration);
        Assert.Equal(TimeSpan.Zero, line.WarmUp);
        Assert.Equal(4096, line.SizeBytes);
        Assert.Equal(3, line.Hostile);
        Assert.Equal(9, line.MaxInFlight);
        Assert.Equal(TimeSpan.FromMinutes(2), line.Grace);
        Assert.Equal("out", line.ReportDirectory);
        Assert.Equal("c.key", line.CoordinatorKey);
        Assert.True(line.Quiet);
        Assert.NotNull(line.Target?.PeerId);
    }

    [Fact]
    public void Parse_HostileRate_DefaultsToTenPerSecondAndZeroMeansClosedLoops()
    {
        var address = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWEShbrmsp9w9YzH9W592NLRZDykB5PSFEbaeXoC3ZyGc8";

        Assert.Equal(10, LoadCommandLine.Parse(["hostile-mix", "--target", address]).HostileRate);
        Assert.Equal(25, LoadCommandLine.Parse(["hostile-mix", "--target", address, "--hostile-rate", "25"]).HostileRate);
        var closed = LoadCommandLine.Parse(["hostile-mix", "--target", address, "--hostile-rate", "0", "--hostile", "4"]);
        Assert.Equal((0, 4), (closed.HostileRate, closed.Hostile));
        Assert.Throws<FormatException>(() => LoadCommandLine.Parse(["hostile-mix", "--target", address, "--hostile-rate", "-1"]));
    }

    [Theory]
    [InlineData("nothing")]
    [InlineData("submit")]
    [InlineData("submit --dev --target /ip4/127.0.0.1/tcp/1")]
    [InlineData("submit --target /ip4/127.0.0.1/tcp/1")]
    [InlineData("submit --dev --peers 0")]
    [InlineData("submit --dev --size 3")]
    [InlineData("submit --dev --duration 0s")]
    [InlineData("submit --dev --duration soon")]
    [InlineData("submit --dev --load keep:0")]
    [InlineData("submit --dev --chain maybe")]
    [InlineData("submit --dev --bogus 1")]
    [InlineData("submit --dev --peers")]
    public void Parse_Invalid_ThrowsFormatException(string arguments) =>
        Assert.Throws<FormatException>(() => LoadCommandLine.Parse(arguments.Split(' ')));

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("16KiB", 16384L)]
    [InlineData("1MiB", 1048576L)]
    [InlineData("2MB", 2000000L)]
    public void Size_Units_AreBytes(string text, long bytes) => Assert.Equal(bytes, LoadCommandLine.Size(text, 0));
}
