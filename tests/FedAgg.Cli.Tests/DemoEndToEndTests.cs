using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary>
/// `fedagg demo` end to end as a child process: the embedded chain, the server and three participant nodes (one
/// Byzantine) training a small MLP for two rounds on idx files the test writes; every round verified, one credit claim.
/// </summary>
[Collection(EndToEnd.EndToEndCollection.Name)]
public sealed class DemoEndToEndTests
{
    [Fact]
    public void Demo_ThreeNodesTwoRounds_EveryRoundVerifiedAndCreditsClaimed()
    {
        using var directory = new TempDirectory();
        var data = directory.Directory("idx");
        WriteIdx(data, "train", 360, seed: 1);
        WriteIdx(data, "t10k", 120, seed: 2);
        var report = directory.File("report");

        var run = RunningCli.RunToExit(
            directory.Path, "demo", "--nodes", "3", "--byzantine", "1", "--attack", "gaussian", "--rounds", "2", "--hidden", "32",
            "--local-steps", "15", "--data-dir", data, "--out", report, "--threads", "2");

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Contains(run.OutputLines, l => l.Contains("round   1: VERIFIED  (3/3 inclusion proofs, anchored in 0x", StringComparison.Ordinal));
        Assert.Contains(run.OutputLines, l => l.Contains("round   2: VERIFIED  (3/3 inclusion proofs, anchored in 0x", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(report, "index.html")), run.Describe());
        var html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("<svg", html, StringComparison.Ordinal);

        using var results = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(report, "results.json")));
        var main = results.RootElement.GetProperty("runs")[0];
        Assert.Equal(2, main.GetProperty("rounds").GetArrayLength());
        Assert.True(main.GetProperty("allVerified").GetBoolean(), run.Describe());
        foreach (var round in main.GetProperty("rounds").EnumerateArray())
        {
            Assert.Equal(3, round.GetProperty("accepted").GetInt32());
            Assert.True(round.GetProperty("verified").GetBoolean(), round.GetProperty("verifyDetail").GetString());
            Assert.Equal(3, round.GetProperty("inclusionPassed").GetInt32());
            Assert.StartsWith("0x", round.GetProperty("anchorTx").GetString(), StringComparison.Ordinal);
            var accuracy = round.GetProperty("accuracy").GetDouble();
            Assert.InRange(accuracy, 0.0, 1.0);
        }

        // The learnable synthetic classes: two rounds of training beat chance (0.1) by far.
        Assert.True(main.GetProperty("finalAccuracy").GetDouble() > 0.5, run.Describe());

        // Gaussian noise (σ = 1) is trimmed away: the Byzantine participant earns (almost) nothing.
        Assert.True(main.GetProperty("byzantineCreditShare").GetDouble() < 0.1, run.Describe());

        var claim = results.RootElement.GetProperty("claim");
        var balance = System.Numerics.BigInteger.Parse(claim.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(balance > 0, run.Describe());
        Assert.Equal(claim.GetProperty("paid").GetString(), claim.GetProperty("balance").GetString());
        Assert.StartsWith("0x", claim.GetProperty("transaction").GetString(), StringComparison.Ordinal);
        Assert.Contains(run.OutputLines, l => l.StartsWith("claim     participant ", StringComparison.Ordinal));
    }

    [Fact]
    public void Demo_Synthetic_RunsTheAggregationOnlyDemo()
    {
        var run = FedaggProcess.Run("demo", "--synthetic", "--d", "2000");

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Contains("24 honest and 5 Byzantine updates of 2,000 parameters (seed 7)", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_MissingDataDir_ExitsWithOneErrorLine()
    {
        using var directory = new TempDirectory();

        var run = RunningCli.RunToExit(directory.Path, "demo", "--data-dir", directory.File("nothing-here"), "--rounds", "1");

        Assert.True(run.ExitCode == 1, run.Describe());
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("fedagg demo: error: --data-dir ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_ByzantineNotBelowNodes_ExitsWith2()
    {
        var run = FedaggProcess.Run("demo", "--nodes", "3", "--byzantine", "3");

        Assert.True(run.ExitCode == 2, run.Describe());
        Assert.Contains("--byzantine must be 0 … 2", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    /// <summary>Writes gzip idx files of 28×28 images: class c lights rows 2c … 2c+5 (plus noise), so an MLP can learn it.</summary>
    internal static void WriteIdx(string directory, string prefix, int count, int seed)
    {
        var random = new Random(seed);
        var labels = new byte[count];
        var pixels = new byte[count * 784];
        for (var i = 0; i < count; i++)
        {
            var label = (byte)(i % 10);
            labels[i] = label;
            for (var p = 0; p < 784; p++)
            {
                var row = p / 28;
                var lit = row >= 2 * label && row < (2 * label) + 6;
                pixels[(i * 784) + p] = (byte)Math.Clamp((lit ? 200 : 20) + random.Next(-20, 21), 0, 255);
            }
        }

        var images = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        pixels.CopyTo(images, 16);
        var labelFile = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labelFile, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(labelFile.AsSpan(4), count);
        labels.CopyTo(labelFile, 8);
        WriteGzip(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), images);
        WriteGzip(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), labelFile);
    }

    private static void WriteGzip(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }
}
