using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using FedAgg.Aggregation;
using FedAgg.Cli.Tests.Support;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Storage;
using FedAgg.Storage.Models;
using FedAgg.Verification;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg verify</c> as a child process over a round written with the real stores and the round assembler.</summary>
public sealed class VerifyCommandTests : IDisposable
{
    private const string TaskId = "cli/verify";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Verify_HonestRound_PrintsPassLinesAndExitsZero()
    {
        await WriteRoundAsync();

        var run = FedaggProcess.Run("verify", "--data", _directory.Path, "--task", TaskId, "--round", "1");

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.True(run.StandardError.Length == 0, run.Describe());
        var lines = run.OutputLines;
        Assert.All(lines.Take(lines.Count - 1), line => Assert.StartsWith("PASS ", line, StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.StartsWith("PASS modelHash: ", StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.StartsWith("PASS update[2].payload: ", StringComparison.Ordinal));
        Assert.StartsWith($"VERIFIED task '{TaskId}' round 1: all {lines.Count - 1} checks passed", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_FlippedPayloadByteWithJson_ReportsTheFailureAndExitsOne()
    {
        var manifest = await WriteRoundAsync();
        var path = RoundDataLayout.PayloadPath(_directory.Path, TaskId, 1, manifest.Updates[1].UpdateId);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[5] ^= 0x80;
        await File.WriteAllBytesAsync(path, bytes);

        var run = FedaggProcess.Run("verify", "--data", _directory.Path, "--task", TaskId, "--round", "1", "--json");

        Assert.True(run.ExitCode == 1, run.Describe());
        var line = Assert.Single(run.OutputLines);
        using var report = JsonDocument.Parse(line);
        Assert.False(report.RootElement.GetProperty("verified").GetBoolean());
        var failed = report.RootElement.GetProperty("checks").EnumerateArray()
            .Where(static c => c.GetProperty("outcome").GetString() == "fail").Select(static c => c.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(new[] { "update[1].payload" }, failed);
    }

    [Fact]
    public async Task Verify_TamperedManifestText_PrintsFailAndVerdict()
    {
        var manifest = await WriteRoundAsync();
        var bits = manifest.ModelHash.ToArray();
        bits[0] ^= 1;
        await RoundManifestJson.WriteFileAsync(RoundDataLayout.ManifestPath(_directory.Path, TaskId, 1), manifest with { ModelHash = new Bytes32(bits) }, CancellationToken.None);

        var run = FedaggProcess.Run("verify", "--data", _directory.Path, "--task", TaskId, "--round", "1");

        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains(run.OutputLines, static l => l.StartsWith("FAIL modelHash: ", StringComparison.Ordinal));
        Assert.StartsWith($"NOT VERIFIED task '{TaskId}' round 1: 1 of ", run.OutputLines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--round", "0", "--round must be at least 1")]
    [InlineData("--round", "2", "holds no manifest for task 'cli/verify' round 2")]
    [InlineData("--rpc", "http://127.0.0.1:1", "--rpc and --ledger go together")]
    public async Task Verify_BadInput_ExitsTwoWithOneLine(string option, string value, string message)
    {
        await WriteRoundAsync();
        string[] arguments = ["verify", "--data", _directory.Path, "--task", TaskId, "--round", "1"];
        var index = Array.IndexOf(arguments, option);
        arguments = index >= 0 ? [.. arguments[..(index + 1)], value, .. arguments[(index + 2)..]] : [.. arguments, option, value];

        var run = FedaggProcess.Run(arguments);

        Assert.True(run.ExitCode == 2, run.Describe());
        var error = Assert.Single(run.ErrorLines);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(run.OutputLines);
    }

    /// <summary>Four participants sign float32 updates, the update store keeps them, the server receipts them, the round is assembled (trimmed mean + fedavg) and published.</summary>
    private async Task<RoundManifest> WriteRoundAsync()
    {
        var settings = new TaskSettings
        {
            TaskId = TaskId,
            Model = new ModelSpec([new TensorSpec("w", [2, 3])]),
            Rule = new RuleSpec("trimmed-mean") { Beta = 0.25 },
            Optimizer = new OptimizerSpec("fedavg") { Eta = 1 },
            CreditsPerRound = 999,
            MinParticipants = 2,
            MaxParticipants = 8,
        };
        var d = (int)settings.Model.NumElements;
        var ledger = new byte[20];
        var random = new Random(5);
        var initial = Enumerable.Range(0, d).Select(_ => (float)random.NextDouble()).ToArray();
        using var server = Ed25519PrivateKey.Generate();
        Bytes32 initialHash;
        using (var models = ModelStore.Open(_directory.Path))
        {
            initialHash = new Bytes32(await models.PutAsync(new ModelManifest([new ModelTensor("w", [2, 3])]), initial));
        }

        var submissions = new List<RoundSubmission>();
        await using (var store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = _directory.Path }))
        {
            for (var i = 0; i < 4; i++)
            {
                using var participant = Ed25519PrivateKey.Generate();
                var payload = MemoryMarshal.AsBytes(Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray().AsSpan()).ToArray();
                var preimage = new UpdatePreimage
                {
                    ChainId = 0,
                    Ledger = ledger,
                    TaskId = TaskId,
                    Round = 1,
                    BaseModelHash = initialHash.ToArray(),
                    Codec = PayloadCodec.Float32,
                    NumElements = (ulong)d,
                    PayloadSha256 = SHA256.HashData(payload),
                    Nonce = RandomNumberGenerator.GetBytes(16),
                    ExpiresUnixMs = ulong.MaxValue,
                }.Encode();
                var signature = participant.Sign(preimage);
                var updateId = UpdatePreimage.ComputeUpdateId(preimage);
                await using var pending = store.BeginUpdate(TaskId, 1);
                await pending.WriteAsync(payload);
                var entry = await store.CommitAsync(pending, new UpdateMetadata(updateId, pending.GetPayloadSha256(), participant.PublicKey.ToProtobuf(), preimage, signature));
                var address = Enumerable.Repeat((byte)(0x10 + i), 20).ToArray();
                submissions.Add(new RoundSubmission
                {
                    Preimage = preimage,
                    Signature = signature,
                    Signer = participant.PublicKey,
                    Receipt = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, updateId, entry.Sequence, (ulong)entry.ReceivedUnixMs, server).Encode(),
                    BoundAddress = address,
                    BindingSignature = AddressBinding.Sign(participant, 0, ledger, address),
                });
            }
        }

        var assembly = RoundAssembler.Assemble(new RoundAssemblyInput
        {
            Settings = settings,
            Round = 1,
            ChainId = 0,
            Ledger = ledger,
            ServerKey = server.PublicKey,
            ParentModelHash = initialHash,
            ParentModel = initial,
            Submissions = submissions,
            OpenPayload = id => File.OpenRead(RoundDataLayout.PayloadPath(_directory.Path, TaskId, 1, id)),
        }, new AggregationOptions { MaxDegreeOfParallelism = 1 });
        await RoundManifestJson.WriteFileAsync(RoundDataLayout.ManifestPath(_directory.Path, TaskId, 1), assembly.Manifest, CancellationToken.None);
        return assembly.Manifest;
    }
}
