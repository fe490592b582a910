using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;
using FedAgg.Storage.Models;
using FedAgg.TestKit.Libp2p;
using FedAgg.TestKit.Processes;

namespace FedAgg.Server.Tests.Interop;

/// <summary>
/// The js-libp2p participant (participant.mjs, written from docs/PROTOCOL.md alone) against the in-process server: the
/// model and submit protocols, the signed preimage and the signed receipt, each checked on both sides.
/// </summary>
[Trait("Category", "Interop")]
public sealed class JsParticipantTests
{
    private const int Elements = 1000;

    // Generous for a loaded 2-core machine: node start-up alone takes about a second.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_ValidUpdate_AcceptedReceiptVerifiedInJsAndCSharpAndRecordedInRound()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        var seed = RandomNumberGenerator.GetBytes(32);
        using var expectedKey = Ed25519PrivateKey.FromSeed(seed);

        var result = await JsParticipant.RunAsync(Options(server) with { KeySeedHex = Convert.ToHexStringLower(seed) }, CancellationToken.None);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(expectedKey.PeerId.ToString(), result.PeerId);

        // The model js fetched: the hash the server reports, which js recomputed over the payload, and which C#
        // computes independently over the initial weights.
        var model = Assert.Single(result.Models);
        Assert.True(model.HashMatches);
        Assert.Equal(task.CurrentModelHash, model.ModelHash);
        Assert.Equal(task.CurrentModelHash, model.PayloadSha256);
        Assert.Equal(Hex.Encode(SHA256.HashData(MemoryMarshal.AsBytes(TestServer.InitialWeights(Elements).AsSpan()))), model.ModelHash);
        Assert.Equal(Elements * 4L, model.PayloadBytes);
        Assert.Equal(((ulong)Elements, 0UL, 1UL, 0UL, 0), (model.NumElements, model.Round, model.OpenRound, model.ChainId, model.Codec));
        Assert.Equal(Hex.Encode(new byte[20]), model.Ledger);

        // The receipt: js verified it; C# decodes the exact bytes js received and verifies them too.
        var js = Assert.Single(result.Receipts);
        Assert.True(js.Status == SubmitStatus.Accepted, js.Reason);
        Assert.True(js.SignatureValid);
        Assert.True(js.UpdateIdMatches);
        Assert.Equal(server.Server.PeerId.ToString(), js.ServerPeerId);
        Assert.True(SubmitReceipt.TryDecode(js.Receipt, out var receipt, out var error), error);
        Assert.True(receipt.VerifyServerSignature(server.Server.PeerId));
        Assert.Equal(SubmitStatus.Accepted, receipt.Status);
        Assert.Equal((1UL, js.Sequence, js.ReceivedUnixMs), (receipt.Sequence, receipt.Sequence, receipt.ReceivedUnixMs));
        Assert.Equal(js.UpdateId, Hex.Encode(receipt.UpdateId.Span));

        // The preimage js built and signed: C# parses it, finds the model's fields in it, and verifies the signature.
        Assert.Equal(js.Preimage.Length, UpdatePreimage.FixedLength + TestServer.TaskId.Length);
        Assert.True(UpdatePreimage.TryParse(js.Preimage, out var preimage, out var preimageError), preimageError);
        Assert.Equal(Hex.Encode(UpdatePreimage.ComputeUpdateId(js.Preimage)), js.UpdateId);
        Assert.Equal(js.ExpectedUpdateId, js.UpdateId);
        Assert.Equal(TestServer.TaskId, preimage.TaskId);
        Assert.Equal((0UL, 1UL, PayloadCodec.Float32, (ulong)Elements), (preimage.ChainId, preimage.Round, preimage.Codec, preimage.NumElements));
        Assert.Equal(new byte[20], preimage.Ledger.ToArray());
        Assert.Equal(task.CurrentModelHash, Hex.Encode(preimage.BaseModelHash.Span));
        Assert.Equal(js.PayloadSha256, Hex.Encode(preimage.PayloadSha256.Span));
        Assert.InRange((long)preimage.ExpiresUnixMs, DateTimeOffset.UtcNow.AddMinutes(50).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(61).ToUnixTimeMilliseconds());
        Assert.Equal(16, preimage.Nonce.Length);
        Assert.Equal(expectedKey.PublicKey.ToProtobuf(), js.PublicKey);
        Assert.True(expectedKey.PublicKey.Verify(js.Preimage, js.Signature));

        // The round recorded it under js's peer id, and the store holds the payload js hashed.
        var recorded = Assert.Single((await server.Round().GetStatusAsync()).Updates);
        Assert.Equal(js.UpdateId, recorded.UpdateId);
        Assert.Equal(result.PeerId, recorded.PeerId);
        Assert.Equal(js.Sequence, recorded.Sequence);
        Assert.Equal((long)js.ReceivedUnixMs, recorded.ReceivedUnixMs);
        Assert.Equal(js.PayloadSha256, recorded.PayloadSha256);
        var stored = await File.ReadAllBytesAsync(server.Server.Stores.Updates.GetPayloadPath(TestServer.TaskId, 1, receipt.UpdateId.ToArray()));
        Assert.Equal(js.PayloadSha256, Hex.Encode(SHA256.HashData(stored)));
        Assert.All(MemoryMarshal.Cast<byte, float>(stored).ToArray(), static v => Assert.InRange(v, -0.01f, 0.01f));
    }

    [Theory]
    [InlineData(JsParticipantTamper.Signature, SubmitStatus.BadSignature)]
    [InlineData(JsParticipantTamper.WrongRound, SubmitStatus.RoundNotOpen)]
    [InlineData(JsParticipantTamper.StaleBase, SubmitStatus.StaleBaseModel)]
    [InlineData(JsParticipantTamper.PayloadHash, SubmitStatus.PayloadHashMismatch)]
    public async Task Run_Tampered_RefusedWithItsStatusAndNothingRecorded(JsParticipantTamper tamper, SubmitStatus expected)
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));

        var result = await JsParticipant.RunAsync(Options(server) with { Tamper = tamper }, CancellationToken.None);

        Assert.True(result.ExitCode == 0, result.Describe());
        var js = Assert.Single(result.Receipts);
        Assert.True(js.Status == expected, $"{js.Status}: {js.Reason}");
        Assert.NotEmpty(js.Reason);
        Assert.False(js.SignatureValid);
        Assert.True(js.UpdateIdMatches);
        Assert.True(SubmitReceipt.TryDecode(js.Receipt, out var receipt, out var error), error);
        Assert.Equal(expected, receipt.Status);
        Assert.True(receipt.ServerSignature.IsEmpty);
        Assert.Equal(0UL, receipt.Sequence);
        Assert.Empty((await server.Round().GetStatusAsync()).Updates);
        Assert.Empty(server.Server.Stores.Updates.ReadRound(TestServer.TaskId, 1));
    }

    [Fact]
    public async Task Run_TwoJsAndOneCSharpParticipantConcurrently_AllAcceptedInOneRound()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var csharp = await Participant.ConnectAsync(server.Address);

        var first = JsParticipant.RunAsync(Options(server), CancellationToken.None);
        var second = JsParticipant.RunAsync(Options(server), CancellationToken.None);
        var (own, _, _) = await csharp.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
        var results = await Task.WhenAll(first, second);

        Assert.True(own.Receipt.Status == SubmitStatus.Accepted, own.Receipt.Reason);
        Assert.True(own.Receipt.VerifyServerSignature(server.Server.PeerId));
        foreach (var result in results)
        {
            Assert.True(result.ExitCode == 0, result.Describe());
            var js = Assert.Single(result.Receipts);
            Assert.Equal(SubmitStatus.Accepted, js.Status);
            Assert.True(js.SignatureValid);
            Assert.True(SubmitReceipt.TryDecode(js.Receipt, out var receipt, out var error), error);
            Assert.True(receipt.VerifyServerSignature(server.Server.PeerId));
        }

        var status = await server.Round().GetStatusAsync();
        Assert.Equal([1UL, 2UL, 3UL], status.Updates.Select(static u => u.Sequence).Order());
        Assert.Equal(
            new[] { csharp.PeerId.ToString(), results[0].PeerId, results[1].PeerId }.Order(StringComparer.Ordinal),
            status.Updates.Select(static u => u.PeerId).Order(StringComparer.Ordinal));
        Assert.Equal(
            new[] { Hex.Encode(own.Receipt.UpdateId.Span), results[0].Receipts[0].UpdateId, results[1].Receipts[0].UpdateId }.Order(StringComparer.Ordinal),
            status.Updates.Select(static u => u.UpdateId).Order(StringComparer.Ordinal));
        var sequences = new[] { own.Receipt.Sequence, results[0].Receipts[0].Sequence, results[1].Receipts[0].Sequence };
        Assert.Equal([1UL, 2UL, 3UL], sequences.Order());
    }

    [Fact]
    public async Task Run_TwoRounds_WaitsForTheNextModelAndSubmitsToTheNextRound()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = JsParticipant.Start(Options(server) with { Rounds = 2, Seed = 7 });

        var firstReceipt = await participant.WaitForReceiptAsync(1, Timeout, CancellationToken.None);
        Assert.True(firstReceipt.Status == SubmitStatus.Accepted, firstReceipt.Reason);
        var nextModel = await AdvanceRoundAsync(server, task);
        var result = await participant.WaitForExitAsync(CancellationToken.None);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal([task.CurrentModelHash, nextModel], result.Models.Select(static m => m.ModelHash));
        Assert.All(result.Models, static m => Assert.True(m.HashMatches));
        Assert.Equal([1UL, 2UL], result.Models.Select(static m => m.OpenRound));
        Assert.Equal([0UL, 1UL], result.Models.Select(static m => m.Round));
        Assert.Equal([1UL, 2UL], result.Receipts.Select(static r => r.Round));
        Assert.All(result.Receipts, static r => Assert.Equal(SubmitStatus.Accepted, r.Status));
        Assert.All(result.Receipts, static r => Assert.True(r.SignatureValid));
        Assert.True(UpdatePreimage.TryParse(result.Receipts[1].Preimage, out var preimage, out var error), error);
        Assert.Equal(nextModel, Hex.Encode(preimage.BaseModelHash.Span));
        Assert.Equal(2UL, preimage.Round);
        // A new delta each round (the same payload again would be refused as a copy).
        Assert.NotEqual(result.Receipts[0].PayloadSha256, result.Receipts[1].PayloadSha256);
        var recorded = Assert.Single((await server.Round(2).GetStatusAsync()).Updates);
        Assert.Equal((result.Receipts[1].UpdateId, result.PeerId), (recorded.UpdateId, recorded.PeerId));
    }

    [Fact]
    public async Task Run_BindAddress_BindingVerifiesInCSharpAndTheParticipantGrainStoresIt()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var address = Hex.Encode(RandomNumberGenerator.GetBytes(20));

        var result = await JsParticipant.RunAsync(Options(server) with { BindAddress = address }, CancellationToken.None);

        Assert.True(result.ExitCode == 0, result.Describe());
        var binding = result.Binding;
        Assert.NotNull(binding);
        Assert.Equal((address, 0UL, Hex.Encode(new byte[20])), (binding.Address, binding.ChainId, binding.Ledger));
        Assert.True(PeerId.TryParse(result.PeerId, out var peer));
        Assert.True(peer.TryGetPublicKey(out var key));
        Assert.Equal(key.Bytes.ToArray(), binding.PublicKey);
        Assert.True(AddressBinding.Verify(key, 0, new byte[20], Hex.TryDecode(address, 20), binding.Signature));
        Assert.False(AddressBinding.Verify(key, 1, new byte[20], Hex.TryDecode(address, 20), binding.Signature));
        Assert.Equal(server.Server.Host.Protocols.Contains("/fedagg/bind/1.0.0"), binding.Sent);
        if (binding.Sent)
        {
            // The server speaks /fedagg/bind/1.0.0: js bound the address itself.
            Assert.True(binding.Status == 0, binding.Reason);
        }
        else
        {
            var record = new AddressBindingRecord(binding.ChainId, binding.Ledger, binding.Address, Hex.Encode(binding.Signature));
            Assert.True(await server.Participant(result.PeerId).BindAddressAsync(record));
        }

        var stored = (await server.Participant(result.PeerId).GetStatusAsync()).Binding;
        Assert.Equal((address, Hex.Encode(binding.Signature)), (stored?.Address, stored?.Signature));
    }

    [Fact]
    public async Task CheckReceipt_ForgedForeignOrMismatchedReceipt_JsRefusesWhatCSharpSigned()
    {
        using var serverKey = Ed25519PrivateKey.Generate();
        using var otherKey = Ed25519PrivateKey.Generate();
        var updateId = SHA256.HashData("a preimage"u8);
        var genuine = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, updateId, 3, 1_700_000_000_123, serverKey);
        var flipped = genuine.ServerSignature.ToArray();
        flipped[17] ^= 0x20;
        var foreign = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, updateId, 3, 1_700_000_000_123, otherKey);
        SubmitReceipt[] cases = [genuine, genuine with { ServerSignature = flipped }, genuine with { Sequence = 4 }, foreign, genuine];
        byte[][] expectedIds = [updateId, updateId, updateId, updateId, SHA256.HashData("another preimage"u8)];
        var input = new JsonObject
        {
            ["peer"] = serverKey.PeerId.ToString(),
            ["receipts"] = new JsonArray([.. cases.Select(static r => (JsonNode)Hex.Encode(r.Encode()))]),
            ["updateIds"] = new JsonArray([.. expectedIds.Select(static id => (JsonNode)Hex.Encode(id))]),
        };
        var participant = new Uri(JsParticipant.ScriptPath).AbsoluteUri;
        var wire = new Uri(Path.Combine(Path.GetDirectoryName(JsParticipant.ScriptPath)!, "wire.mjs")).AbsoluteUri;
        var script = $$"""
            import fs from 'node:fs'
            import { peerIdFromString } from '@libp2p/peer-id'
            import { checkReceipt } from '{{participant}}'
            import { decodeReceipt } from '{{wire}}'
            const input = JSON.parse(fs.readFileSync(0, 'utf8'))
            const hex = (text) => Buffer.from(text.slice(2), 'hex')
            const out = []
            for (let i = 0; i < input.receipts.length; i++) {
              out.push(await checkReceipt(decodeReceipt(hex(input.receipts[i])), hex(input.updateIds[i]), peerIdFromString(input.peer)))
            }
            process.stdout.write(JSON.stringify(out))
            """;

        var output = JsonNode.Parse(await NodeRunner.RunModuleAsync(script, input.ToJsonString()))!.AsArray();

        Assert.Equal([true, false, false, false, true], output.Select(static o => o!["signatureValid"]!.GetValue<bool>()));
        Assert.Equal([true, true, true, true, false], output.Select(static o => o!["updateIdMatches"]!.GetValue<bool>()));
        Assert.Equal(serverKey.PeerId.ToString(), output[0]!["serverPeerId"]!.GetValue<string>());
        Assert.Equal(otherKey.PeerId.ToString(), output[3]!["serverPeerId"]!.GetValue<string>());
        Assert.Contains("not the dialled", output[3]!["problem"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static JsParticipantOptions Options(TestServer server) => new()
    {
        Server = server.Address.ToString(),
        TaskId = TestServer.TaskId,
        Timeout = Timeout,
    };

    /// <summary>Closes round 1, stores a new model as round 1's result (unless the server did so itself) and opens round 2.</summary>
    private static async Task<string> AdvanceRoundAsync(TestServer server, TaskInfo task)
    {
        await server.Round(1).CloseAsync("test: next round");
        var current = await server.TaskAsync();
        if (current.CurrentModelRound == 0)
        {
            var weights = TestServer.InitialWeights(Elements);
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] += 0.001f;
            }

            var manifest = new ModelManifest(task.Settings.Model.Tensors.Select(static t => new ModelTensor(t.Name, t.Shape)));
            var hash = await server.Server.Stores.Models.PutAsync(manifest, weights);
            current = await server.Server.Grains.GetGrain<ITaskGrain>(TestServer.TaskId).RecordModelAsync(new TaskModel(Hex.Encode(hash), 1));
        }

        await server.Server.OpenNextRoundAsync(TestServer.TaskId, CancellationToken.None);
        return current.CurrentModelHash;
    }
}
