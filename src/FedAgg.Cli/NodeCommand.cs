using System.CommandLine;
using System.Globalization;
using FedAgg.Attacks;
using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using FedAgg.Node;
using FedAgg.Training;
using FedAgg.Training.Data;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg node run|claim</c>: a participant node against a running server. <c>run</c> trains on its shard of
/// Fashion-MNIST each round, submits a signed update (retrying the same bytes), keeps the receipt, and checks its
/// inclusion proof and the round's anchor; <c>claim</c> claims the node's credits on chain.
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var command = new Command("node", "Run a participant node (train, submit, check inclusion) or claim its credits");
        command.Subcommands.Add(CreateRun());
        command.Subcommands.Add(CreateClaim());
        return command;
    }

    private static (Option<string> Server, Option<FileInfo> Key, Option<string> Task, Option<DirectoryInfo> Data) Common()
    {
        var server = new Option<string>("--server") { Description = "The server's multiaddr with /p2p/<peer id> (as `fedagg server` prints it)", Required = true, HelpName = "multiaddr" };
        var key = new Option<FileInfo>("--key") { Description = "The node's identity key file (created when missing)", Required = true, HelpName = "file" };
        var task = new Option<string>("--task") { Description = "The task (default demo)", DefaultValueFactory = _ => "demo" };
        var data = new Option<DirectoryInfo>("--data") { Description = "The node's data directory: receipts (default ./fedagg-node)", DefaultValueFactory = _ => new DirectoryInfo("fedagg-node"), HelpName = "dir" };
        return (server, key, task, data);
    }

    private static Command CreateRun()
    {
        var (server, key, task, data) = Common();
        var index = new Option<int>("--index") { Description = "This node's shard, 0 … --of − 1", Required = true };
        var of = new Option<int>("--of") { Description = "How many shards the training set is split into", Required = true };
        var rounds = new Option<int>("--rounds") { Description = "Rounds to take part in (default 1)", DefaultValueFactory = _ => 1 };
        var localSteps = new Option<int>("--local-steps") { Description = "H, AdamW steps per round (default 100)", DefaultValueFactory = _ => 100 };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes (default 256,128); must match the task's model", DefaultValueFactory = _ => "256,128" };
        var alpha = new Option<double?>("--alpha") { Description = "Non-IID split: Dirichlet α (default IID)" };
        var seedOption = new Option<ulong>("--seed") { Description = "Seed of the split and the training order (default 7)", DefaultValueFactory = _ => 7 };
        var attack = new Option<string>("--attack") { Description = "Behave as a Byzantine participant (non-omniscient attacks only)", DefaultValueFactory = _ => "none" };
        attack.AcceptOnlyFromAmong("none", "sign-flip", "gaussian", "label-flip", "free-rider", "replay");
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = $"Fashion-MNIST idx files (default {FashionMnist.DefaultDirectory})", HelpName = "dir" };
        var rpc = new Option<string?>("--rpc") { Description = "A JSON-RPC URL of the server's chain: check each round's anchor there", HelpName = "url" };
        var bind = new Option<string?>("--bind") { Description = "Bind this Ethereum address for the node's credits before the first round", HelpName = "address" };
        var timeout = new Option<int>("--round-timeout") { Description = "Seconds to wait for a round to open or be published (default 3600)", DefaultValueFactory = _ => 3600 };
        var command = new Command("run", "Take part in rounds: train on this node's shard, submit, keep receipts, check inclusion and anchors")
        {
            server, key, task, data, index, of, rounds, localSteps, hidden, alpha, seedOption, attack, dataDir, rpc, bind, timeout,
        };
        command.SetAction(async (parse, cancellationToken) => await GuardAsync("node run", async () =>
        {
            var shards = parse.GetValue(of);
            var shard = parse.GetValue(index);
            if (shards < 1 || shard < 0 || shard >= shards)
            {
                throw new ArgumentException($"--index must be 0 … --of − 1 and --of ≥ 1; got {shard} of {shards}");
            }

            var directory = parse.GetValue(dataDir)?.FullName ?? FashionMnist.DefaultDirectory;
            var train = await FashionMnist.LoadSetAsync(
                Path.Combine(directory, FashionMnist.TrainImagesFile), Path.Combine(directory, FashionMnist.TrainLabelsFile), cancellationToken).ConfigureAwait(false);
            var seed = parse.GetValue(seedOption);
            var split = parse.GetValue(alpha) is { } a ? Partitioner.Dirichlet(train.Labels, shards, a, seed) : Partitioner.Iid(train.Count, shards, seed);
            var layers = (int[])[train.FeatureCount, .. parse.GetValue(hidden)!.Split(',').Select(static s => int.Parse(s, CultureInfo.InvariantCulture)), FashionMnist.ClassCount];
            var trainer = new MlpTrainer(layers, train.Subset(split[shard]));
            var kind = AttackKinds.Parse(parse.GetValue(attack));
            var updateAttack = UpdateAttacks.Create(kind);
            using var identity = LoadOrCreateKey(parse.GetValue(key)!.FullName);
            await using var node = await ParticipantNode.ConnectAsync(
                Multiaddress.Parse(parse.GetValue(server)!), identity,
                new ParticipantNodeOptions { TaskId = parse.GetValue(task)!, DataDirectory = parse.GetValue(data)!.FullName }, null, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"NODE {node.PeerId} shard {shard} of {shards} ({trainer.ParameterCount} parameters)");
            using var rpcClient = parse.GetValue(rpc) is { } url ? new EthereumRpcClient(new Uri(url)) : null;
            var wait = TimeSpan.FromSeconds(parse.GetValue(timeout));
            var history = new List<ReadOnlyMemory<float>>();
            ulong last = 0;
            for (var r = 0; r < parse.GetValue(rounds); r++)
            {
                var model = await WaitForRoundAsync(node, last + 1, wait, cancellationToken).ConfigureAwait(false);
                var round = model.Response.OpenRound;
                if (r == 0 && parse.GetValue(bind) is { } address)
                {
                    await node.BindAddressAsync(model.Response.ChainId, model.Response.Ledger, EthereumAddress.Parse(address), cancellationToken).ConfigureAwait(false);
                    Console.Out.WriteLine($"BOUND {address}");
                }

                var baseModel = model.ToFloats();
                var trained = ParticipantNode.Train(trainer, baseModel, new LocalTrainingOptions
                {
                    LocalSteps = parse.GetValue(localSteps),
                    Seed = AttackContext.DeriveSeed(seed, shard, 0) ^ round,
                    LabelMap = updateAttack.TrainsOnFlippedLabels ? LabelFlip.Map : null,
                }, cancellationToken);
                var context = new AttackContext
                {
                    ParticipantId = node.PeerId.ToString(), Round = round, Seed = AttackContext.DeriveSeed(seed, shard, round),
                    HonestUpdate = trained.Update, BaseModel = baseModel, OwnEarlierUpdates = history,
                };
                var payload = kind == AttackKind.None || !updateAttack.CanProduce(context, out _) ? trained.Update : updateAttack.Produce(context);
                var submission = await node.SubmitAsync(node.Prepare(model.Response, payload, (ulong)trained.Training.SamplesSeen), cancellationToken).ConfigureAwait(false);
                var receipt = submission.Outcome.Receipt;
                Console.Out.WriteLine($"SUBMITTED round {round} {submission.Update.UpdateId} status {receipt.Status} {receipt.Reason} (train loss {trained.Training.MeanLoss:0.000}, {trained.Training.Seconds:0.00} s; receipt {submission.ReceiptPath ?? "none"})".Replace("  ", " ", StringComparison.Ordinal));
                last = round;
                if (!submission.Stored)
                {
                    continue;
                }

                history.Add(payload);
                var manifest = await WaitForManifestAsync(node, round, wait, cancellationToken).ConfigureAwait(false);
                var ledger = rpcClient is null ? null : new FedAggLedger(rpcClient, EthereumAddress.FromBytes(manifest.Ledger.Span));
                var report = await node.CheckInclusionAsync(round, manifest, ledger, cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"{(report.Included ? "INCLUDED" : "NOT INCLUDED")} round {round}: {report.Detail}; credit {report.Credit}");
            }

            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command CreateClaim()
    {
        var (server, key, task, _) = Common();
        var rpc = new Option<string>("--rpc") { Description = "The chain's JSON-RPC URL", Required = true, HelpName = "url" };
        var accountKey = new Option<FileInfo?>("--account-key") { Description = "The Ethereum key file of the bound account (it sends and pays for the claim)", HelpName = "file" };
        var devKey = new Option<int?>("--dev-key") { Description = "Use anvil development key N (0–9) instead (local chains only)", HelpName = "N" };
        var command = new Command("claim", "Claim the node's credits on chain with a Merkle proof from the latest published round") { server, key, task, rpc, accountKey, devKey };
        command.SetAction(async (parse, cancellationToken) => await GuardAsync("node claim", async () =>
        {
            using var account = parse.GetValue(devKey) is { } n
                ? (n is >= 0 and <= 9 ? Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[n]) : throw new ArgumentException("--dev-key must be 0 … 9"))
                : parse.GetValue(accountKey) is { } file ? EthereumKeyFile.Load(file.FullName, out _) : throw new ArgumentException("give --account-key FILE or --dev-key N");
            using var identity = LoadOrCreateKey(parse.GetValue(key)!.FullName);
            await using var node = await ParticipantNode.ConnectAsync(
                Multiaddress.Parse(parse.GetValue(server)!), identity,
                new ParticipantNodeOptions { TaskId = parse.GetValue(task)!, DataDirectory = Path.GetTempPath() }, null, cancellationToken).ConfigureAwait(false);
            var latest = await node.Client.FetchRoundAsync(node.TaskId, 0, cancellationToken).ConfigureAwait(false);
            var manifest = latest.Manifest ?? throw new ParticipantNodeException($"The server has no published round of '{node.TaskId}': {latest.Response.Status}");
            using var client = new EthereumRpcClient(new Uri(parse.GetValue(rpc)!));
            var ledger = new FedAggLedger(client, EthereumAddress.FromBytes(manifest.Ledger.Span));
            using var sender = new TransactionSender(client, account);
            var claim = await CreditClaims.ClaimAsync(ledger, sender, manifest, account.Address, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"CLAIMED {claim.Paid} for {claim.Account} (cumulative {claim.CumulativeAmount}, round {manifest.Round}); credits balance {claim.Balance}");
            Console.Out.WriteLine($"tx {claim.TransactionHash} block {claim.BlockNumber}");
            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static async Task<Client.ModelDownload> WaitForRoundAsync(ParticipantNode node, ulong minimum, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var model = await node.FetchModelAsync(deadline.Token).ConfigureAwait(false);
            if (model.Response.OpenRound >= minimum)
            {
                return model;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token).ConfigureAwait(false);
        }
    }

    private static async Task<Core.Rounds.RoundManifest> WaitForManifestAsync(ParticipantNode node, ulong round, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            if (await node.FetchManifestAsync(round, deadline.Token).ConfigureAwait(false) is { } manifest)
            {
                return manifest;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token).ConfigureAwait(false);
        }
    }

    private static Ed25519PrivateKey LoadOrCreateKey(string path)
    {
        if (!File.Exists(path))
        {
            using var created = Ed25519PrivateKey.Generate();
            KeyFile.Write(path, created);
        }

        return KeyFile.Load(path, out _);
    }

    private static async Task<int> GuardAsync(string name, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyFileException or DatasetException)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {PeerCommand.OneLine(e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is ParticipantNodeException or ChainException or Libp2pException or Client.FedAggProtocolException or IOException or OperationCanceledException)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {PeerCommand.OneLine(e.Message)}");
            return 1;
        }
    }
}
