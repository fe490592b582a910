using System.Numerics;
using System.Runtime.InteropServices;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Storage;
using FedAgg.Storage.Models;
using FedAgg.TestKit.Chain;

namespace FedAgg.Verification.Tests.Support;

/// <summary>A participant: an Ed25519 identity and, optionally, the address it bound for its credits.</summary>
internal sealed record Participant(Ed25519PrivateKey Key, byte[]? Address);

/// <summary>A closed and published round, with what the next round needs.</summary>
internal sealed record PublishedRound(
    RoundManifest Manifest,
    RoundAssemblyInput Input,
    float[] Model,
    IReadOnlyList<float[]> State);

/// <summary>
/// A server in miniature, made of the real libraries: an anvil with a deployed FedAggLedger, an update store and two
/// model stores in one data directory, a server identity that signs receipts. It signs, stores, aggregates, anchors
/// and publishes rounds exactly as <see cref="RoundAssembler"/> says, so <see cref="RoundVerifier"/> has real input.
/// </summary>
internal sealed class RoundWorld : IAsyncDisposable
{
    private readonly Secp256k1PrivateKey _adminKey;
    private readonly Secp256k1PrivateKey _anchorKey;
    private long _clock = 1_780_000_000_000;

    private RoundWorld(string dataDirectory, AnvilInstance anvil, EthereumRpcClient rpc, Secp256k1PrivateKey adminKey, Secp256k1PrivateKey anchorKey,
        TransactionSender admin, TransactionSender anchor, FedAggLedger ledger)
    {
        DataDirectory = dataDirectory;
        Anvil = anvil;
        Rpc = rpc;
        _adminKey = adminKey;
        _anchorKey = anchorKey;
        Admin = admin;
        Anchor = anchor;
        Ledger = ledger;
        Updates = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = dataDirectory });
        Models = ModelStore.Open(dataDirectory);
        States = ModelStore.Open(Path.Combine(dataDirectory, RoundDataLayout.OptimizerStateRoot));
    }

    public string DataDirectory { get; }

    public AnvilInstance Anvil { get; }

    public EthereumRpcClient Rpc { get; }

    public TransactionSender Admin { get; }

    public TransactionSender Anchor { get; }

    public FedAggLedger Ledger { get; }

    public UpdateStore Updates { get; }

    public ModelStore Models { get; }

    public ModelStore States { get; }

    public Ed25519PrivateKey Server { get; } = Ed25519PrivateKey.Generate();

    public ulong ChainId => Anvil.ChainId;

    public RoundChain Chain => new(Rpc, Ledger.Address);

    public static async Task<RoundWorld> CreateAsync()
    {
        var directory = Directory.CreateTempSubdirectory("fedagg-verify-").FullName;
        var anvil = await AnvilInstance.StartAsync();
        var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        var adminKey = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var anchorKey = Secp256k1PrivateKey.FromHex(Foundry.DevKey1);
        var options = new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) };
        var admin = new TransactionSender(rpc, adminKey, options);
        var anchor = new TransactionSender(rpc, anchorKey, options);
        var (ledger, _) = await FedAggLedger.DeployAsync(admin, admin.Address, anchor.Address, admin.Address, CancellationToken.None);
        return new RoundWorld(directory, anvil, rpc, adminKey, anchorKey, admin, anchor, ledger);
    }

    public IRoundArtifacts Artifacts(string taskId, ulong round) => new DataDirectoryRoundArtifacts(DataDirectory, taskId, round);

    public static IReadOnlyList<Participant> Participants(int count, int unbound = -1) =>
    [
        .. Enumerable.Range(0, count).Select(i => new Participant(
            Ed25519PrivateKey.Generate(),
            i == unbound ? null : Enumerable.Range(0, 20).Select(b => (byte)((i * 37) + b + 1)).ToArray())),
    ];

    /// <summary>Deterministic small deltas, one per participant.</summary>
    public static float[][] Deltas(int count, long d, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, (int)d).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray())];
    }

    /// <summary>Stores a model as the server does and returns its hash.</summary>
    public async Task<Bytes32> PutModelAsync(TaskSettings settings, float[] model) =>
        new(await Models.PutAsync(new ModelManifest(settings.Model.Tensors.Select(static t => new ModelTensor(t.Name, t.Shape))), model));

    /// <summary>Registers the task on the ledger with its settings hash and initial model.</summary>
    public Task<TransactionReceipt> RegisterAsync(TaskSettings settings, Bytes32 initialModel) =>
        Ledger.RegisterTaskAsync(Admin, FedAggLedger.TaskKey(settings.TaskId), settings.ComputeHash(), initialModel, 0, CancellationToken.None);

    /// <summary>A participant signs an update, the server stores it durably and signs the receipt.</summary>
    public async Task<RoundSubmission> SubmitAsync(Participant participant, TaskSettings settings, ulong round, Bytes32 baseModel, float[] delta)
    {
        var payload = MemoryMarshal.AsBytes(delta.AsSpan()).ToArray();
        var preimage = new UpdatePreimage
        {
            ChainId = ChainId,
            Ledger = Ledger.Address.ToArray(),
            TaskId = settings.TaskId,
            Round = round,
            BaseModelHash = baseModel.ToArray(),
            Codec = PayloadCodec.Float32,
            NumElements = (ulong)delta.Length,
            PayloadSha256 = System.Security.Cryptography.SHA256.HashData(payload),
            NumSamples = 100,
            Nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16),
            ExpiresUnixMs = ulong.MaxValue,
        }.Encode();
        var signature = participant.Key.Sign(preimage);
        var updateId = UpdatePreimage.ComputeUpdateId(preimage);
        await using var pending = Updates.BeginUpdate(settings.TaskId, round);
        await pending.WriteAsync(payload);
        var entry = await Updates.CommitAsync(pending, new UpdateMetadata(updateId, pending.GetPayloadSha256(), participant.Key.PublicKey.ToProtobuf(), preimage, signature)
        {
            ReceivedUnixMs = Interlocked.Increment(ref _clock),
        });
        var receipt = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, updateId, entry.Sequence, (ulong)entry.ReceivedUnixMs, Server);
        return new RoundSubmission
        {
            Preimage = preimage,
            Signature = signature,
            Signer = participant.Key.PublicKey,
            Receipt = receipt.Encode(),
            BoundAddress = participant.Address,
            BindingSignature = participant.Address is null ? ReadOnlyMemory<byte>.Empty : AddressBinding.Sign(participant.Key, ChainId, Ledger.Address.AsSpan(), participant.Address),
        };
    }

    /// <summary>The input that closes a round over <paramref name="submissions"/>.</summary>
    public RoundAssemblyInput Input(TaskSettings settings, ulong round, Bytes32 parentHash, float[] parent, PublishedRound? previous, IReadOnlyList<RoundSubmission> submissions) => new()
    {
        Settings = settings,
        Round = round,
        ChainId = ChainId,
        Ledger = Ledger.Address.ToArray(),
        ServerKey = Server.PublicKey,
        ParentModelHash = parentHash,
        ParentModel = parent,
        PreviousState = previous?.State,
        PreviousCredits = previous?.Manifest.Credits ?? [],
        Submissions = submissions,
        OpenPayload = id => File.OpenRead(RoundDataLayout.PayloadPath(DataDirectory, settings.TaskId, round, id)),
    };

    /// <summary>Closes the round: assembles it, stores the model and the optimizer state, anchors it (unless told not to) and writes the manifest.</summary>
    public async Task<PublishedRound> PublishAsync(RoundAssemblyInput input, bool anchor = true, Func<RoundAnchor, RoundAnchor>? tamperAnchor = null)
    {
        var assembly = RoundAssembler.Assemble(input);
        var manifest = assembly.Manifest;
        var modelHash = await PutModelAsync(input.Settings, assembly.Computation.Model);
        Assert.Equal(manifest.ModelHash, modelHash);
        var state = assembly.Computation.State;
        if (state.Count > 0)
        {
            var d = input.Settings.Model.NumElements;
            var names = input.Settings.ToOuterOptimizer().StateNames;
            var stateHash = await States.PutAsync(
                new ModelManifest(names.Select(n => new ModelTensor(n, [d]))),
                state.SelectMany(static s => s).ToArray());
            Assert.Equal(manifest.OptimizerStateHash, new Bytes32(stateHash));
        }

        if (anchor)
        {
            var values = new RoundAnchor(FedAggLedger.TaskKey(manifest.TaskId), manifest.Round, manifest.ParentModelHash, manifest.ModelHash,
                manifest.UpdatesRoot, manifest.CreditsRoot, manifest.SettingsHash, (uint)manifest.AcceptedCount);
            var receipt = await Ledger.AnchorRoundAsync(Anchor, tamperAnchor is null ? values : tamperAnchor(values), CancellationToken.None);
            Assert.True(receipt.Succeeded);
            manifest = manifest with { AnchorTx = receipt.TransactionHash };
        }

        await RoundManifestJson.WriteFileAsync(RoundDataLayout.ManifestPath(DataDirectory, manifest.TaskId, manifest.Round), manifest, CancellationToken.None);
        return new PublishedRound(manifest, input, assembly.Computation.Model, state);
    }

    public async ValueTask DisposeAsync()
    {
        Models.Dispose();
        States.Dispose();
        await Updates.DisposeAsync();
        Admin.Dispose();
        Anchor.Dispose();
        _adminKey.Dispose();
        _anchorKey.Dispose();
        Rpc.Dispose();
        await Anvil.DisposeAsync();
        Server.Dispose();
        Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>Artefacts of a round seen through a change: a tampered manifest, or a payload with one byte flipped.</summary>
internal sealed class TamperedArtifacts(IRoundArtifacts inner, Func<RoundManifest, RoundManifest>? manifest = null, Bytes32? flipPayloadOf = null) : IRoundArtifacts
{
    public string TaskId => inner.TaskId;

    public ulong Round => inner.Round;

    public async Task<RoundManifest> ReadManifestAsync(CancellationToken cancellationToken)
    {
        var original = await inner.ReadManifestAsync(cancellationToken);
        return manifest is null ? original : manifest(original);
    }

    public Task<RoundManifest?> ReadPreviousManifestAsync(CancellationToken cancellationToken) => inner.ReadPreviousManifestAsync(cancellationToken);

    public Stream? OpenUpdatePayload(Bytes32 updateId)
    {
        var stream = inner.OpenUpdatePayload(updateId);
        if (stream is null || flipPayloadOf != updateId)
        {
            return stream;
        }

        using (stream)
        {
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            bytes[bytes.Length / 2] ^= 0x01;
            return new MemoryStream(bytes, writable: false);
        }
    }

    public Task<TensorData?> ReadModelAsync(Bytes32 modelHash, CancellationToken cancellationToken) => inner.ReadModelAsync(modelHash, cancellationToken);

    public Task<TensorData?> ReadOptimizerStateAsync(Bytes32 stateHash, CancellationToken cancellationToken) => inner.ReadOptimizerStateAsync(stateHash, cancellationToken);
}

internal static class BigIntegers
{
    public static BigInteger Sum(this IEnumerable<BigInteger> values) => values.Aggregate(BigInteger.Zero, static (a, b) => a + b);
}
