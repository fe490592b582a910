using System.Numerics;
using System.Security.Cryptography;
using FedAgg.Cli.Tests.Support;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Libp2p;
using FedAgg.TestKit.Libp2p;

namespace FedAgg.Cli.Tests.EndToEnd;

/// <summary>
/// The end-to-end check: `fedagg server --dev` (a real process, with the embedded anvil chain), eight C#
/// participants, two js-libp2p participants and two Byzantine ones, three rounds each closed by `fedagg admin`, anchored,
/// and passed by `fedagg verify` against the chain; the rejection codes and the coordinator-only admin protocol on the way.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ServerEndToEndTests
{
    private const int Elements = 512;
    private const int Rounds = 3;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task ThreeRounds_TwelveParticipantsWithByzantineAndJs_EachRoundAnchoredAndVerified()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        await using var server = RunningCli.Start(directory.Path, "server", "--dev", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0",
            "--dev-elements", Elements.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var address = await server.WaitForListeningAsync(Wait);
        var chainLine = server.OutputLines.Single(l => l.StartsWith("CHAIN ", StringComparison.Ordinal)).Split(' ');
        var (rpc, ledger) = (chainLine[1], chainLine[^1]);
        var multiaddress = Multiaddress.Parse(address);

        var honestKeys = Enumerable.Range(0, 8).Select(_ => Ed25519PrivateKey.Generate()).ToArray();
        var byzantineKeys = Enumerable.Range(0, 2).Select(_ => Ed25519PrivateKey.Generate()).ToArray();
        var honest = await Task.WhenAll(honestKeys.Select(k => FedAggClient.ConnectAsync(multiaddress, k)));
        var byzantine = await Task.WhenAll(byzantineKeys.Select(k => FedAggClient.ConnectAsync(multiaddress, k)));
        using var strangerKey = Ed25519PrivateKey.Generate();
        await using var stranger = await FedAggClient.ConnectAsync(multiaddress, strangerKey);
        var js = Enumerable.Range(0, 2).Select(i => JsParticipant.Start(new JsParticipantOptions
        {
            Server = address, TaskId = "demo", Rounds = Rounds, Seed = (ulong)(100 + i), Timeout = Wait,
        })).ToArray();
        try
        {
            // Every honest participant binds an address, so credits reach the chain's credits tree.
            var model = await honest[0].FetchModelAsync("demo");
            var addresses = honest.Select(_ => RandomNumberGenerator.GetBytes(20)).ToArray();
            for (var i = 0; i < honest.Length; i++)
            {
                Assert.Equal(ServiceStatus.Ok, (await honest[i].BindAddressAsync(model.Response.ChainId, model.Response.Ledger, addresses[i])).Status);
            }

            var refused = await stranger.AdminAsync("round.close", """{"taskId":"demo"}""");
            Assert.Equal(ServiceStatus.NotAdmitted, refused.Status);

            for (ulong round = 1; round <= Rounds; round++)
            {
                model = await WaitForOpenRoundAsync(honest[0], round);
                var direction = Direction(round);
                var submissions = new List<(FedAggClient Client, SubmitRequest Request, byte[] Payload, SubmitOutcome Outcome)>();
                for (var i = 0; i < honest.Length; i++)
                {
                    var delta = Honest(direction, seed: (int)(round * 100) + i);
                    submissions.Add(await SubmitAsync(honest[i], model.Response, delta));
                }

                for (var b = 0; b < byzantine.Length; b++)
                {
                    // Sign-flip, scaled (each its own scale: the same bytes twice would be refused as a copy).
                    var scale = -50f - (10 * b);
                    var attack = await SubmitAsync(byzantine[b], model.Response, direction.Select(v => scale * v).ToArray());
                    Assert.Equal(SubmitStatus.Accepted, attack.Item4.Receipt.Status);
                }

                Assert.All(submissions, s => Assert.Equal(SubmitStatus.Accepted, s.Outcome.Receipt.Status));
                if (round == 1)
                {
                    await CheckRejectionsAsync(multiaddress, model.Response, submissions);
                }

                await WaitForAcceptedAsync(honest[0], data, directory.Path, round, expected: honest.Length + byzantine.Length + js.Length);
                var close = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "round", "close", "demo", "--reason", "e2e"));
                Assert.True(close.ExitCode == 0, close.Describe() + server.Describe());

                var manifest = await EndToEndSupport.WaitForPublishedAsync(honest[0], round, server);
                Assert.NotNull(manifest.AnchorTx);
                Assert.Equal(12, manifest.AcceptedCount);
                var verify = await Task.Run(() => RunningCli.RunToExit(
                    directory.Path, "verify", "--data", data, "--task", "demo", "--round", round.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rpc", rpc, "--ledger", ledger));
                Assert.True(verify.ExitCode == 0, verify.Describe());
                Assert.Contains($"VERIFIED task 'demo' round {round}", verify.StandardOutput, StringComparison.Ordinal);

                // The same from the network alone: manifests, models, payloads and optimizer state fetched from the server.
                var remote = await Task.Run(() => RunningCli.RunToExit(
                    directory.Path, "verify", "--server", address, "--task", "demo", "--round", round.ToString(System.Globalization.CultureInfo.InvariantCulture), "--rpc", rpc, "--ledger", ledger));
                Assert.True(remote.ExitCode == 0, remote.Describe());
                Assert.Equal(verify.StandardOutput, remote.StandardOutput);

                // The Byzantine updates are trimmed away on (almost) every coordinate, so they earn (almost) nothing.
                var byzantineIds = byzantineKeys.Select(static k => k.PeerId.ToString()).ToHashSet();
                var total = manifest.Updates.Aggregate(BigInteger.Zero, static (sum, u) => sum + u.Credit);
                var byzantineCredit = manifest.Updates.Where(u => byzantineIds.Contains(u.PeerId)).Aggregate(BigInteger.Zero, static (sum, u) => sum + u.Credit);
                Assert.True(byzantineCredit * 20 < total, $"Byzantine credit {byzantineCredit} of {total}");
                Assert.Equal(addresses.Length, manifest.Credits.Count);
            }

            foreach (var participant in js)
            {
                var result = await participant.WaitForExitAsync(CancellationToken.None).WaitAsync(Wait);
                Assert.True(result.ExitCode == 0, result.Describe());
                Assert.Equal(Rounds, result.Receipts.Count);
                Assert.All(result.Receipts, r => Assert.True(r.Status == SubmitStatus.Accepted && r.SignatureValid, result.Describe()));
            }

            var status = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "--json", "round", "status", "demo", "--round", "3"));
            Assert.True(status.ExitCode == 0, status.Describe());
            Assert.Contains("\"anchorTx\": \"0x", status.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(0, await server.StopAsync(Wait));
        }
        finally
        {
            foreach (var participant in js)
            {
                await participant.DisposeAsync();
            }

            foreach (var client in honest.Concat(byzantine))
            {
                await client.DisposeAsync();
            }

            foreach (var key in honestKeys.Concat(byzantineKeys))
            {
                key.Dispose();
            }
        }
    }

    private static async Task CheckRejectionsAsync(
        Multiaddress server, ModelResponse model, List<(FedAggClient Client, SubmitRequest Request, byte[] Payload, SubmitOutcome Outcome)> submissions)
    {
        using var key = Ed25519PrivateKey.Generate();
        await using var client = await FedAggClient.ConnectAsync(server, key);
        var payload = new byte[Elements * 4];
        RandomNumberGenerator.Fill(payload.AsSpan(0, 16));
        var preimage = EndToEndSupport.Preimage(model, payload);

        var signed = SubmitRequest.Create(preimage, key);
        var flipped = signed.Signature.ToArray();
        flipped[7] ^= 0x01;
        Assert.Equal(SubmitStatus.BadSignature, (await client.SubmitAsync(signed with { Signature = flipped }, payload)).Receipt.Status);
        Assert.Equal(SubmitStatus.RoundNotOpen, (await client.SubmitAsync(SubmitRequest.Create(preimage with { Round = model.OpenRound + 1 }, key), payload)).Receipt.Status);
        Assert.Equal(SubmitStatus.StaleBaseModel, (await client.SubmitAsync(SubmitRequest.Create(preimage with { BaseModelHash = new byte[32] }, key), payload)).Receipt.Status);

        // The same signed update again: the original receipt, byte for byte.
        var (original, request, bytes, outcome) = submissions[0];
        var duplicate = await original.SubmitAsync(request, bytes);
        Assert.Equal(SubmitStatus.Duplicate, duplicate.Receipt.Status);
        Assert.Equal(outcome.Receipt.Sequence, duplicate.Receipt.Sequence);
        Assert.Equal(outcome.Receipt.ServerSignature.ToArray(), duplicate.Receipt.ServerSignature.ToArray());

        // Another participant's payload under a new signature: refused as a copy.
        var copied = submissions[1].Payload;
        Assert.Equal(SubmitStatus.CopiedPayload, (await client.SubmitAsync(SubmitRequest.Create(EndToEndSupport.Preimage(model, copied), key), copied)).Receipt.Status);
    }

    private static async Task<(FedAggClient, SubmitRequest, byte[], SubmitOutcome)> SubmitAsync(FedAggClient client, ModelResponse model, float[] delta)
    {
        var payload = new byte[delta.Length * 4];
        Buffer.BlockCopy(delta, 0, payload, 0, payload.Length);
        var request = SubmitRequest.Create(EndToEndSupport.Preimage(model, payload), client.Key);
        return (client, request, payload, await client.SubmitAsync(request, payload));
    }

    private static float[] Direction(ulong round) => Enumerable.Range(0, Elements).Select(i => (float)(0.01 * Math.Sin(i * 0.37 + round))).ToArray();

    private static float[] Honest(float[] direction, int seed)
    {
        var random = new Random(seed);
        return direction.Select(v => v + (float)((random.NextDouble() - 0.5) * 0.002)).ToArray();
    }

    private static async Task<ModelDownload> WaitForOpenRoundAsync(FedAggClient client, ulong round)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var model = await client.FetchModelAsync("demo", cancellationToken: timeout.Token);
            if (model.Response.OpenRound == round)
            {
                return model;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private static async Task WaitForAcceptedAsync(FedAggClient any, string data, string workingDirectory, ulong round, int expected)
    {
        using var timeout = new CancellationTokenSource(Wait);
        using var coordinatorKey = KeyFile.Load(Path.Combine(data, "coordinator.key"), out _);
        await using var coordinator = await FedAggClient.ConnectAsync(Multiaddress.Parse(File.ReadLines(Path.Combine(data, "server.addr")).First()), coordinatorKey);
        while (true)
        {
            var status = await coordinator.AdminAsync("round.status", $$"""{"taskId":"demo","round":{{round}}}""", CancellationToken.None);
            Assert.Equal(ServiceStatus.Ok, status.Status);
            using var json = System.Text.Json.JsonDocument.Parse(status.ResultJson);
            if (json.RootElement.GetProperty("round").GetProperty("accepted").GetInt32() >= expected)
            {
                return;
            }

            Assert.False(timeout.IsCancellationRequested, $"round {round} never reached {expected} accepted updates: {status.ResultJson}");
            await Task.Delay(100, CancellationToken.None);
        }
    }
}

/// <summary>End-to-end tests start whole servers and many peers: they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end to end";
}
