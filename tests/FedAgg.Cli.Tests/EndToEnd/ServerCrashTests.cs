using System.Globalization;
using System.Security.Cryptography;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Cli.Tests.Support;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;
using FedAgg.Server.Rounds;

namespace FedAgg.Cli.Tests.EndToEnd;

/// <summary>
/// The server process killed with SIGKILL at several points of a round, then restarted on the same data directory:
/// every receipted update is in the published manifest, the round verifies against the chain, and the anchor is on the
/// ledger exactly once.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ServerCrashTests
{
    private const int Elements = 300;
    private const int Participants = 5;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [Fact]
    public Task Kill_DuringIngest_EveryReceiptedUpdateIsPublished() => RunAsync(crashPoint: null);

    [Fact]
    public Task Kill_AfterAggregationBeforeTheManifest_RoundIsRecomputedIdentically() => RunAsync(RoundFinalizer.CrashAfterAggregation);

    [Fact]
    public Task Kill_AfterTheManifestBeforeAnchoring_RoundIsAnchoredOnce() => RunAsync(RoundFinalizer.CrashBeforeAnchor);

    [Fact]
    public Task Kill_AfterTheAnchorWasMinedBeforeItWasRecorded_TheAnchorIsNotSentAgain() => RunAsync(RoundFinalizer.CrashAfterAnchorSent);

    private static async Task RunAsync(string? crashPoint)
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        var arguments = new[] { "server", "--dev", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0", "--dev-elements", Elements.ToString(CultureInfo.InvariantCulture) };
        var receipts = new List<SubmitOutcome>();
        string? inFlightId = null;
        string rpc, ledger;
        await using (var first = RunningCli.Start(directory.Path, crashPoint is null ? null : new Dictionary<string, string> { [RoundFinalizer.CrashPointVariable] = crashPoint }, arguments))
        {
            var address = Multiaddress.Parse(await first.WaitForListeningAsync(Wait));
            var chainLine = first.OutputLines.Single(l => l.StartsWith("CHAIN ", StringComparison.Ordinal)).Split(' ');
            (rpc, ledger) = (chainLine[1], chainLine[^1]);
            for (var i = 0; i < Participants; i++)
            {
                using var key = Ed25519PrivateKey.Generate();
                await using var client = await FedAggClient.ConnectAsync(address, key);
                var model = await client.FetchModelAsync("demo");
                var delta = Enumerable.Range(0, Elements).Select(j => (float)(0.001 * ((i * 31 + j) % 17))).ToArray();
                var outcome = await client.SubmitUpdateAsync("demo", model.Response, delta, 1);
                Assert.Equal(SubmitStatus.Accepted, outcome.Receipt.Status);
                receipts.Add(outcome);
            }

            if (crashPoint is null)
            {
                // Killed with an upload in flight: the receipted ones must survive, the unfinished one must not appear.
                using var key = Ed25519PrivateKey.Generate();
                var client = await FedAggClient.ConnectAsync(address, key);
                var model = await client.FetchModelAsync("demo");
                var payload = new byte[Elements * 4];
                RandomNumberGenerator.Fill(payload);
                var request = SubmitRequest.Create(EndToEndSupport.Preimage(model.Response, payload), key);
                var stream = await client.Connection.OpenStreamAsync("/fedagg/submit/1.0.0", CancellationToken.None);
                await stream.WriteMessageAsync(request.Encode(), CancellationToken.None);
                await stream.Output.WriteAsync(payload.AsMemory(0, 100));
                await first.KillAsync();
                using var readTimeout = new CancellationTokenSource(Wait);
                var answer = await ReadOrFailAsync(stream, readTimeout.Token);
                Assert.Null(answer); // no receipt: the update was never promised
                inFlightId = Convert.ToHexStringLower(UpdatePreimage.ComputeUpdateId(request.Preimage.Span));
                await client.DisposeAsync();
            }
            else
            {
                var close = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "round", "close", "demo"));
                Assert.True(close.ExitCode == 0, close.Describe());
                var exit = await first.WaitForExitAsync(Wait);
                Assert.True(exit == 137, $"exit {exit}, expected SIGKILL at {crashPoint}\n{first.Describe()}");
                Assert.Contains($"Crash point {crashPoint} reached", first.StandardError, StringComparison.Ordinal);
            }
        }

        // The embedded chain outlives the killed server (as an external node would); give it a second to save its state, then stop it.
        await Task.Delay(TimeSpan.FromSeconds(2));
        KillOrphanedAnvil(data);

        await using var restarted = RunningCli.Start(directory.Path, arguments);
        var again = Multiaddress.Parse(await restarted.WaitForListeningAsync(Wait));
        (rpc, _) = (restarted.OutputLines.Single(l => l.StartsWith("CHAIN ", StringComparison.Ordinal)).Split(' ')[1], 0);
        using var coordinatorKey = KeyFile.Load(Path.Combine(data, "coordinator.key"), out _);
        await using var coordinator = await FedAggClient.ConnectAsync(again, coordinatorKey);
        if (crashPoint is null)
        {
            var close = await coordinator.AdminAsync("round.close", """{"taskId":"demo"}""");
            Assert.True(close.Status == ServiceStatus.Ok, close.Reason + restarted.Describe());
        }

        var manifest = await EndToEndSupport.WaitForPublishedAsync(coordinator, 1, restarted);
        Assert.Equal(Participants, manifest.AcceptedCount);
        Assert.Equal(
            receipts.Select(static r => Convert.ToHexStringLower(r.UpdateId)).Order(StringComparer.Ordinal),
            manifest.Updates.Select(static u => Convert.ToHexStringLower(u.UpdateId.AsSpan())).Order(StringComparer.Ordinal));
        foreach (var receipt in receipts)
        {
            var update = manifest.Updates.Single(u => u.UpdateId.AsSpan().SequenceEqual(receipt.UpdateId));
            Assert.Equal(receipt.Raw, update.Receipt.ToArray()); // the manifest carries the very receipt the participant holds
        }

        Assert.DoesNotContain(manifest.Updates, u => Convert.ToHexStringLower(u.UpdateId.AsSpan()) == inFlightId);
        Assert.NotNull(manifest.AnchorTx);
        var verify = await Task.Run(() => RunningCli.RunToExit(directory.Path, "verify", "--data", data, "--task", "demo", "--round", "1", "--rpc", rpc, "--ledger", ledger));
        Assert.True(verify.ExitCode == 0, verify.Describe() + restarted.Describe());

        using var client2 = new EthereumRpcClient(new Uri(rpc));
        var events = await new FedAggLedger(client2, Chain.EthereumAddress.Parse(ledger)).GetRoundAnchoredEventsAsync(FedAggLedger.TaskKey("demo"), 0, CancellationToken.None, 1);
        var anchored = Assert.Single(events);
        Assert.Equal(manifest.AnchorTx, anchored.TransactionHash);
        if (crashPoint == RoundFinalizer.CrashAfterAnchorSent)
        {
            Assert.Contains("was already anchored", restarted.StandardError, StringComparison.Ordinal);
        }

        // And the task goes on: round 2 is open from round 1's model.
        var next = await coordinator.FetchModelAsync("demo");
        Assert.Equal(2UL, next.Response.OpenRound);
        Assert.Equal(manifest.ModelHash.AsSpan().ToArray(), next.Response.ModelHash.ToArray());
        Assert.Equal(0, await restarted.StopAsync(Wait));
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadOrFailAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadMessageAsync(cancellationToken);
        }
        catch (Libp2pException)
        {
            return null;
        }
    }

    /// <summary>Kills the anvil process a killed server left behind (found by its state file under the data directory).</summary>
    private static void KillOrphanedAnvil(string data)
    {
        var statePath = Path.GetFullPath(Path.Combine(data, "chain"));
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("anvil", StringComparison.Ordinal) && commandLine.Contains(statePath, StringComparison.Ordinal))
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                    process.WaitForExit(10_000);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
    }
}
