using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Identity;

namespace FedAgg.Cli.Tests;

public sealed class KeygenCommandTests
{
    [Fact]
    public void Keygen_Out_WritesOwnerOnlyKeyAndPrintsItsPeerId()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "node.key");

        var result = FedaggProcess.Run("keygen", "--out", path);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Empty(result.StandardError);
        var printed = Assert.Single(result.OutputLines);
        using var key = KeyFile.Load(path, out var warning);
        Assert.Null(warning);
        Assert.Equal(key.PeerId.ToString(), printed);
        Assert.StartsWith("12D3KooW", printed, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Keygen_Show_PrintsPeerIdOfExistingKeyAndCid()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "seed-ones.key");
        using (var key = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray()))
        {
            KeyFile.Write(path, key);
        }

        var result = FedaggProcess.Run("keygen", "--show", path, "--cid");

        Assert.True(result.ExitCode == 0, result.Describe());
        // The libp2p peer-id spec's vector for the all-ones seed.
        Assert.Equal(["12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5", PeerId.Parse("12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5").ToCidString()], result.OutputLines);
    }

    [Fact]
    public void Keygen_OutExisting_RefusesAndKeepsTheOldKey()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "node.key");
        var first = FedaggProcess.Run("keygen", "--out", path);
        var before = File.ReadAllBytes(path);

        var second = FedaggProcess.Run("keygen", "--out", path);

        Assert.Equal(2, second.ExitCode);
        Assert.Contains("already exists", second.StandardError, StringComparison.Ordinal);
        Assert.Empty(second.StandardOutput);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(0, first.ExitCode);
    }

    [Fact]
    public void Keygen_ShowMissing_ErrorAndNoKeyCreated()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "absent.key");

        var result = FedaggProcess.Run("keygen", "--show", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("does not exist", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Keygen_ShowCorrupt_ErrorExit2()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "corrupt.key");
        File.WriteAllBytes(path, [0x08, 0x01, 0x12, 0x40, 1, 2, 3]);

        var result = FedaggProcess.Run("keygen", "--show", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a usable identity key", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Keygen_ShowGroupReadable_WarnsOnStderrAndStillPrints()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "lax.key");
        Assert.Equal(0, FedaggProcess.Run("keygen", "--out", path).ExitCode);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var result = FedaggProcess.Run("keygen", "--show", path);

        Assert.Equal(0, result.ExitCode);
        Assert.Single(result.OutputLines);
        Assert.Contains("chmod 600", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keygen")]
    [InlineData("keygen --out a.key --show b.key")]
    public void Keygen_NeitherOrBothModes_UsageErrorExit2(string commandLine)
    {
        var result = FedaggProcess.Run(commandLine.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("exactly one of --out FILE or --show FILE", result.StandardError, StringComparison.Ordinal);
    }
}
