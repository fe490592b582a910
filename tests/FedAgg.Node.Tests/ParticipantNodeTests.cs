using System.Security.Cryptography;
using FedAgg.Chain;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Node.Tests;

/// <summary><see cref="ParticipantNode"/> against a real in-process server: submit, receipts on disk, retries, inclusion proofs, credits proofs.</summary>
public sealed class ParticipantNodeTests
{
    private const int Elements = 257;

    [Fact]
    public async Task SubmitAsync_TwoNodesOneRound_ReceiptKeptRetryGetsOriginalAndInclusionProven()
    {
        using var directory = new TempDirectory();
        await using var server = await TestServer.StartAsync(Path.Combine(directory.Path, "server"), TestServer.Settings(Elements, maxParticipants: 2) with { Rule = new RuleSpec("mean") }, publish: true);
        using var keyA = Core.Identity.Ed25519PrivateKey.Generate();
        using var keyB = Core.Identity.Ed25519PrivateKey.Generate();
        await using var a = await ParticipantNode.ConnectAsync(server.Address, keyA, Options(directory, "a"));
        await using var b = await ParticipantNode.ConnectAsync(server.Address, keyB, Options(directory, "b"));
        var accountA = EthereumAddress.FromBytes(RandomNumberGenerator.GetBytes(20));
        var accountB = EthereumAddress.FromBytes(RandomNumberGenerator.GetBytes(20));

        var model = await a.FetchModelAsync();
        Assert.Equal(1UL, model.Response.OpenRound);
        await a.BindAddressAsync(model.Response.ChainId, model.Response.Ledger, accountA);
        await b.BindAddressAsync(model.Response.ChainId, model.Response.Ledger, accountB);
        var updateA = a.Prepare(model.Response, Update(1), 100);
        var first = await a.SubmitAsync(updateA);

        Assert.Equal(SubmitStatus.Accepted, first.Outcome.Receipt.Status);
        Assert.Equal(1, first.Attempts);
        Assert.Equal(a.Receipts.PathOf(TestServer.TaskId, 1), first.ReceiptPath);
        var kept = await a.Receipts.ReadAsync(TestServer.TaskId, 1, CancellationToken.None);
        Assert.NotNull(kept);
        Assert.Equal(SubmitStatus.Accepted, kept.Status);
        Assert.Equal(updateA.UpdateId, kept.UpdateId);
        Assert.Equal(new Bytes32(SHA256.HashData(kept.Preimage.Span)), kept.UpdateId);
        Assert.Equal(first.Outcome.Raw, kept.Receipt.ToArray());
        Assert.Equal(first.Outcome.Receipt.Sequence, kept.Sequence);
        Assert.Equal(updateA.Request.Signature.ToArray(), kept.Signature.ToArray());
        var fileBefore = await File.ReadAllBytesAsync(first.ReceiptPath!);

        // The same signed request again (what a retry sends): the original receipt, and the kept file is unchanged.
        var retry = await a.SubmitAsync(updateA);
        Assert.Equal(SubmitStatus.Duplicate, retry.Outcome.Receipt.Status);
        Assert.Equal(first.Outcome.Receipt.Sequence, retry.Outcome.Receipt.Sequence);
        Assert.Equal(first.Outcome.Receipt.ReceivedUnixMs, retry.Outcome.Receipt.ReceivedUnixMs);
        Assert.Equal(first.Outcome.Receipt.ServerSignature.ToArray(), retry.Outcome.Receipt.ServerSignature.ToArray());
        Assert.Equal(fileBefore, await File.ReadAllBytesAsync(first.ReceiptPath!));

        var second = await b.SubmitAsync(b.Prepare((await b.FetchModelAsync()).Response, Update(2), 50));
        Assert.Equal(SubmitStatus.Accepted, second.Outcome.Receipt.Status);
        await server.WaitPublishedAsync(1);

        var manifest = await a.FetchManifestAsync(1);
        Assert.NotNull(manifest);
        var report = await a.CheckInclusionAsync(1, manifest, ledger: null);
        Assert.True(report.Included, report.Detail);
        Assert.True(report.ProofValid);
        Assert.Null(report.Anchored);
        Assert.Equal(manifest.UpdatesRoot, MerkleProof.ProcessProof(
            StandardMerkleTree.LeafHash([AbiValue.FromBytes32(updateA.UpdateId), AbiValue.FromBytes32(a.SignerPublicKey)]), [.. report.Proof]));
        Assert.True((await b.CheckInclusionAsync(1, manifest, null)).Included);

        // Tampered manifests fail the check.
        var otherRoot = InclusionCheck.Check(manifest with { UpdatesRoot = new Bytes32(RandomNumberGenerator.GetBytes(32)) }, updateA.UpdateId, a.SignerPublicKey);
        Assert.False(otherRoot.Included);
        Assert.False(otherRoot.ProofValid);
        Assert.Contains("is not the root", otherRoot.Detail, StringComparison.Ordinal);

        var without = InclusionCheck.Check(manifest with { Updates = [.. manifest.Updates.Where(u => u.UpdateId != updateA.UpdateId)] }, updateA.UpdateId, a.SignerPublicKey);
        Assert.False(without.Listed);
        Assert.False(without.Included);

        var swapped = InclusionCheck.Check(
            manifest with { Updates = [.. manifest.Updates.Select(u => u.UpdateId == updateA.UpdateId ? u : u with { UpdateId = new Bytes32(RandomNumberGenerator.GetBytes(32)) })] },
            updateA.UpdateId, a.SignerPublicKey);
        Assert.False(swapped.Included);

        var leftOut = InclusionCheck.Check(
            manifest with { Updates = [.. manifest.Updates.Select(u => u.UpdateId == updateA.UpdateId ? u with { Accepted = false, Status = SubmitStatus.CopiedPayload, Reason = "copy" } : u)] },
            updateA.UpdateId, a.SignerPublicKey);
        Assert.True(leftOut.Listed);
        Assert.False(leftOut.Included);

        var otherSigner = InclusionCheck.Check(manifest, updateA.UpdateId, b.SignerPublicKey);
        Assert.False(otherSigner.Included);

        // Credits: both bound accounts are in the cumulative credits tree; the proofs verify against its root.
        Assert.Equal(2, manifest.Credits.Count);
        var proofA = CreditClaims.BuildProof(manifest, accountA);
        Assert.Equal(manifest.CreditsRoot, proofA.Root);
        Assert.True(StandardMerkleTree.Verify(manifest.CreditsRoot, [AbiValue.FromAddress(accountA.AsSpan()), AbiValue.FromUint256(proofA.CumulativeAmount)], [.. proofA.Proof]));
        Assert.Equal(manifest.Updates.Single(u => u.UpdateId == updateA.UpdateId).Credit, proofA.CumulativeAmount);
        Assert.Throws<ParticipantNodeException>(() => CreditClaims.BuildProof(manifest, EthereumAddress.FromBytes(new byte[20])));
        Assert.Throws<ParticipantNodeException>(() => CreditClaims.BuildProof(manifest with { CreditsRoot = new Bytes32(RandomNumberGenerator.GetBytes(32)) }, accountA));
    }

    [Fact]
    public async Task SubmitAsync_ServerGone_RetriesThenThrowsTransient()
    {
        using var directory = new TempDirectory();
        var server = await TestServer.StartAsync(Path.Combine(directory.Path, "server"), TestServer.Settings(Elements, maxParticipants: 2) with { Rule = new RuleSpec("mean") }, publish: true);
        using var key = Core.Identity.Ed25519PrivateKey.Generate();
        var options = Options(directory, "a");
        options.SubmitAttempts = 3;
        options.RetryDelay = TimeSpan.FromMilliseconds(1);
        options.Client = new Client.FedAggClientOptions { RequestTimeout = TimeSpan.FromSeconds(5) };
        await using var node = await ParticipantNode.ConnectAsync(server.Address, key, options);
        var update = node.Prepare((await node.FetchModelAsync()).Response, Update(3), 1);
        await server.DisposeAsync();

        var error = await Assert.ThrowsAsync<ParticipantNodeException>(() => node.SubmitAsync(update));

        Assert.True(error.IsTransient);
        Assert.Contains("after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Null(await node.Receipts.ReadAsync(TestServer.TaskId, 1, CancellationToken.None));
    }

    [Fact]
    public async Task CheckInclusionAsync_NoReceiptKept_Throws()
    {
        using var directory = new TempDirectory();
        await using var server = await TestServer.StartAsync(Path.Combine(directory.Path, "server"), TestServer.Settings(Elements, maxParticipants: 1) with { Rule = new RuleSpec("mean") }, publish: true);
        using var key = Core.Identity.Ed25519PrivateKey.Generate();
        await using var node = await ParticipantNode.ConnectAsync(server.Address, key, Options(directory, "a"));
        var manifest = new RoundManifest
        {
            TaskId = TestServer.TaskId, Round = 1, ChainId = 0, Ledger = new byte[20], ServerPeerId = "x", ServerPublicKey = new byte[36],
            ParentModelHash = default, ModelHash = default, SettingsHash = default, Settings = null!, UpdatesRoot = default, CreditsRoot = default,
            Aggregation = new RoundAggregation([], []), Updates = [], Credits = [],
        };

        await Assert.ThrowsAsync<ParticipantNodeException>(() => node.CheckInclusionAsync(1, manifest, null));
    }

    private static ParticipantNodeOptions Options(TempDirectory directory, string name) =>
        new() { TaskId = TestServer.TaskId, DataDirectory = Path.Combine(directory.Path, name) };

    private static float[] Update(int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, Elements).Select(_ => (float)(random.NextDouble() - 0.5) * 0.01f)];
    }
}
