using System.Security.Cryptography;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Core.Identity;
using FedAgg.Node;
using FedAgg.Training;
using FedAgg.Training.Data;

namespace FedAgg.Cli.Demo;

/// <summary>One demo participant: a <see cref="ParticipantNode"/>, its shard and trainer, and the Ethereum account its credits go to.</summary>
internal sealed class DemoParticipant : IAsyncDisposable
{
    private ParticipantNode? _node;

    private DemoParticipant(int index, bool byzantine, Ed25519PrivateKey key, Secp256k1PrivateKey account, MlpTrainer trainer, ulong seed)
    {
        Index = index;
        IsByzantine = byzantine;
        Key = key;
        Account = account;
        Trainer = trainer;
        Seed = seed;
    }

    public int Index { get; }

    public bool IsByzantine { get; }

    public Ed25519PrivateKey Key { get; }

    /// <summary>The account credits go to: anvil's development keys 2 … 9 (funded, so they can pay for a claim), then derived keys.</summary>
    public Secp256k1PrivateKey Account { get; }

    public MlpTrainer Trainer { get; }

    /// <summary>The participant's node for the current task.</summary>
    public ParticipantNode Node => _node ?? throw new InvalidOperationException("not connected");

    public ulong Seed { get; }

    public string PeerId => Key.PeerId.ToString();

    /// <summary>The updates this participant submitted in the current run (for replay).</summary>
    public List<ReadOnlyMemory<float>> History { get; } = [];

    public static DemoParticipant Create(int index, bool byzantine, ulong runSeed, int[] layers, Dataset shard)
    {
        var key = Ed25519PrivateKey.FromSeed(Derive(runSeed, index, "fedagg-demo-identity"));
        var account = index + 2 < LocalChain.DevelopmentKeys.Count
            ? Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[index + 2])
            : Secp256k1PrivateKey.FromBytes(Derive(runSeed, index, "fedagg-demo-account"));
        return new DemoParticipant(index, byzantine, key, account, new MlpTrainer(layers, shard), Attacks.AttackContext.DeriveSeed(runSeed, index, 0));
    }

    /// <summary>Connects (again) to the server as a participant of <paramref name="taskId"/>.</summary>
    public async Task ConnectAsync(DemoSystem system, string taskId, CancellationToken cancellationToken)
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
            _node = null;
        }

        _node = await ParticipantNode.ConnectAsync(
            system.Address,
            Key,
            new ParticipantNodeOptions { TaskId = taskId, DataDirectory = Path.Combine(system.DataDirectory, "nodes", $"node-{Index}") },
            null,
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }

        Key.Dispose();
        Account.Dispose();
    }

    private static byte[] Derive(ulong seed, int index, string purpose)
    {
        var text = System.Text.Encoding.UTF8.GetBytes($"{purpose}/{seed}/{index}");
        return SHA256.HashData(text);
    }
}
