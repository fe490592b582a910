using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg chain devnet|keygen|deploy|status|claim</c>: the local chain, account keys, deploying FedAggLedger,
/// reading a task's anchors and credits, and claiming credits with a proof from a round manifest.
/// </summary>
internal static class ChainCommand
{
    private const string DefaultDevnetDirectory = ".fedagg/devnet";

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("chain", "Run the local chain, deploy FedAggLedger, read anchors and claim credits on an EVM chain");
        command.Subcommands.Add(CreateDevnet());
        command.Subcommands.Add(CreateKeygen());
        command.Subcommands.Add(CreateDeploy());
        command.Subcommands.Add(CreateStatus());
        command.Subcommands.Add(CreateClaim());
        return command;
    }

    private static Command CreateDevnet()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = $"Folder for the chain state and deployment record (default {DefaultDevnetDirectory})", DefaultValueFactory = _ => new DirectoryInfo(DefaultDevnetDirectory) };
        var port = new Option<int>("--port") { Description = "Loopback port for JSON-RPC (default 8545; 0 picks a free one)", DefaultValueFactory = _ => 8545 };
        var chainId = new Option<ulong>("--chain-id") { Description = "Chain id (default 31337)", DefaultValueFactory = _ => 31337UL };
        var blockTime = new Option<int?>("--block-time") { Description = "Seconds between blocks (default: mine each transaction at once)" };
        var command = new Command("devnet", "Start a local anvil chain with FedAggLedger deployed; state persists in --data; runs until Ctrl+C") { data, port, chainId, blockTime };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new LocalChainOptions
            {
                DataDirectory = parse.GetValue(data)!.FullName,
                Port = parse.GetValue(port),
                ChainId = parse.GetValue(chainId),
                BlockTimeSeconds = parse.GetValue(blockTime),
            };
            return await RunAsync("chain devnet", async () =>
            {
                options.Validate();
                await using var devnet = await Devnet.StartAsync(options, null, cancellationToken).ConfigureAwait(false);
                var deployment = devnet.Deployment;
                Console.Out.WriteLine($"RPC         {devnet.Chain.RpcUrl} (chain id {devnet.Chain.ChainId})");
                Console.Out.WriteLine($"LEDGER      {deployment.Ledger} (deployed in block {deployment.DeployBlock})");
                Console.Out.WriteLine($"ADMIN       {deployment.Admin} (anvil development key 0; also coordinator)");
                Console.Out.WriteLine($"ANCHOR      {deployment.Anchor} (anvil development key 1: the server's anchoring key)");
                var keys = WriteDevelopmentKeyFiles(options.DataDirectory);
                Console.Out.WriteLine($"KEYS        {keys.Admin} (admin, coordinator), {keys.Anchor} (anchor): funded anvil development keys");
                Console.Out.WriteLine($"STATE       {devnet.Chain.StatePath}");
                Console.Out.WriteLine($"DEPLOYMENT  {Path.Combine(options.DataDirectory, Devnet.DeploymentFileName)}");
                Console.Out.WriteLine("READY (Ctrl+C stops the chain; its state is kept)");
                Console.Out.Flush();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                return 0;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateKeygen()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Create a new Ethereum account key file here (mode 0600; never overwrites)", HelpName = "file" };
        var show = new Option<FileInfo?>("--show") { Description = "Print the address of an existing key file", HelpName = "file" };
        var command = new Command("keygen", "Create a secp256k1 account key file, or show its address") { output, show };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(output) is { Implicit: false }) == (result.GetResult(show) is { Implicit: false }))
            {
                result.AddError("give exactly one of --out FILE or --show FILE");
            }
        });
        command.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(output) is { } target)
                {
                    using var key = Secp256k1PrivateKey.Generate();
                    EthereumKeyFile.Write(target.FullName, key);
                    Console.Out.WriteLine(key.Address.ToString());
                    return 0;
                }

                using var existing = LoadKey(parse.GetValue(show)!.FullName);
                Console.Out.WriteLine(existing.Address.ToString());
                return 0;
            }
            catch (KeyFileException e)
            {
                Console.Error.WriteLine($"fedagg chain keygen: error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static Command CreateDeploy()
    {
        var rpc = RpcOption(required: true);
        var keyFile = new Option<FileInfo>("--key-file", "--key") { Description = "The deploying account's key file (fedagg chain keygen); it becomes admin unless --admin is given", Required = true, HelpName = "file" };
        var admin = new Option<string?>("--admin") { Description = "Admin address (grants roles, pauses); default the deployer", HelpName = "address" };
        var anchor = new Option<string>("--anchor") { Description = "The aggregation server's anchoring address (ANCHOR_ROLE)", Required = true, HelpName = "address" };
        var coordinator = new Option<string?>("--coordinator") { Description = "Coordinator address (registers tasks); default the deployer", HelpName = "address" };
        var output = new Option<FileInfo?>("--out") { Description = "Write the deployment record (JSON) here", HelpName = "file" };
        var command = new Command("deploy", "Deploy FedAggLedger and print its address") { rpc, keyFile, admin, anchor, coordinator, output };
        command.SetAction(async (parse, cancellationToken) => await RunAsync("chain deploy", async () =>
        {
            using var key = LoadKey(parse.GetValue(keyFile)!.FullName);
            var adminAddress = ParseAddress(parse.GetValue(admin), "--admin") ?? key.Address;
            var anchorAddress = ParseAddress(parse.GetValue(anchor), "--anchor")!.Value;
            var coordinatorAddress = ParseAddress(parse.GetValue(coordinator), "--coordinator") ?? key.Address;
            using var client = new EthereumRpcClient(ParseRpcUrl(parse.GetValue(rpc)!));
            using var sender = new TransactionSender(client, key);
            var chainId = await client.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
            var (ledger, receipt) = await FedAggLedger.DeployAsync(sender, adminAddress, anchorAddress, coordinatorAddress, cancellationToken).ConfigureAwait(false);
            var deployment = new LedgerDeployment
            {
                ChainId = chainId,
                RpcUrl = client.Endpoint.ToString(),
                Ledger = ledger.Address.ToString(),
                DeployTransaction = receipt.TransactionHash.ToString(),
                DeployBlock = receipt.BlockNumber,
                Admin = adminAddress.ToString(),
                Anchor = anchorAddress.ToString(),
                Coordinator = coordinatorAddress.ToString(),
            };
            if (parse.GetValue(output) is { } file)
            {
                deployment.Save(file.FullName);
            }

            Console.Out.WriteLine($"LEDGER {ledger.Address}");
            Console.Out.WriteLine($"tx {receipt.TransactionHash} block {receipt.BlockNumber} gas {receipt.GasUsed}");
            return 0;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command CreateStatus()
    {
        var (deployment, rpc, ledger) = LedgerOptions();
        var task = new Option<string?>("--task") { Description = "Show this task's anchors and roots (the task id, not its key)", HelpName = "id" };
        var account = new Option<string?>("--account") { Description = "Show this account's credits (and what it claimed for --task)", HelpName = "address" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("status", "Show the chain, the ledger and optionally a task's anchored rounds and an account's credits") { deployment, rpc, ledger, task, account, json };
        AddLedgerValidator(command, deployment, rpc, ledger);
        command.SetAction(async (parse, cancellationToken) => await RunAsync("chain status", async () =>
        {
            var (client, binding, fromBlock) = Connect(parse, deployment, rpc, ledger);
            using (client)
            {
                var chainId = await client.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
                var block = await client.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
                var hasCode = (await client.GetCodeAsync(binding.Address, cancellationToken).ConfigureAwait(false)).Length > 0;
                if (!hasCode)
                {
                    throw new ChainException($"There is no contract at {binding.Address} on chain {chainId}.");
                }

                var report = new Dictionary<string, object?>
                {
                    ["chainId"] = chainId,
                    ["block"] = block,
                    ["ledger"] = binding.Address.ToString(),
                    ["paused"] = await binding.PausedAsync(cancellationToken).ConfigureAwait(false),
                };
                if (parse.GetValue(task) is { } taskId)
                {
                    var taskKey = FedAggLedger.TaskKey(taskId);
                    var state = await binding.GetTaskAsync(taskKey, cancellationToken, block).ConfigureAwait(false);
                    var anchors = await binding.GetRoundAnchoredEventsAsync(taskKey, fromBlock, cancellationToken).ConfigureAwait(false);
                    report["task"] = new Dictionary<string, object?>
                    {
                        ["taskId"] = taskId,
                        ["taskKey"] = taskKey.ToString(),
                        ["registered"] = state.Registered,
                        ["lastRound"] = state.LastRound,
                        ["settingsHash"] = state.SettingsHash.ToString(),
                        ["latestModelHash"] = state.LatestModelHash.ToString(),
                        ["creditsRoot"] = state.CreditsRoot.ToString(),
                        ["claimableCreditsRoot"] = state.ClaimableCreditsRoot.ToString(),
                        ["claimableAt"] = state.ClaimableAt,
                        ["claimDelaySeconds"] = state.ClaimDelaySeconds,
                        ["rounds"] = anchors.Select(a => new Dictionary<string, object?>
                        {
                            ["round"] = a.Anchor.Round,
                            ["modelHash"] = a.Anchor.ModelHash.ToString(),
                            ["updatesRoot"] = a.Anchor.UpdatesRoot.ToString(),
                            ["creditsRoot"] = a.Anchor.CreditsRoot.ToString(),
                            ["acceptedCount"] = a.Anchor.AcceptedCount,
                            ["block"] = a.BlockNumber,
                            ["transaction"] = a.TransactionHash.ToString(),
                        }).ToList(),
                    };
                }

                if (ParseAddress(parse.GetValue(account), "--account") is { } address)
                {
                    var credits = new Dictionary<string, object?>
                    {
                        ["account"] = address.ToString(),
                        ["credits"] = (await binding.CreditsAsync(address, cancellationToken).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture),
                    };
                    if (parse.GetValue(task) is { } taskId2)
                    {
                        credits["claimed"] = (await binding.ClaimedAsync(FedAggLedger.TaskKey(taskId2), address, cancellationToken).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture);
                    }

                    report["account"] = credits;
                }

                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(report, IndentedJson));
                }
                else
                {
                    PrintStatus(report);
                }

                return 0;
            }
        }).ConfigureAwait(false));
        return command;
    }

    private static Command CreateClaim()
    {
        var (deployment, rpc, ledger) = LedgerOptions();
        var keyFile = new Option<FileInfo?>("--key-file", "--key") { Description = "The key file of the account that sends (and pays gas for) the claim", HelpName = "file" };
        var devKey = new Option<int?>("--dev-key") { Description = "Send with anvil development key N (0–9) instead of --key-file (local chains only)", HelpName = "N" };
        var task = new Option<string>("--task") { Description = "The task id", Required = true, HelpName = "id" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "A round manifest whose credits list holds the account's cumulative amount (the proof is built from it)", HelpName = "file" };
        var proofFile = new Option<FileInfo?>("--proof") { Description = "A proof file: JSON {\"account\", \"cumulativeAmount\", \"proof\": [\"0x…\", …]}", HelpName = "file" };
        var account = new Option<string?>("--account") { Description = "The account to claim for (default the sending account); anyone may send a claim for anyone", HelpName = "address" };
        var command = new Command("claim", "Claim an account's credits with a Merkle proof (from a proof file, or built from a round manifest)") { deployment, rpc, ledger, keyFile, devKey, task, manifest, proofFile, account };
        AddLedgerValidator(command, deployment, rpc, ledger);
        command.Validators.Add(result =>
        {
            if ((result.GetResult(keyFile) is { Implicit: false }) == (result.GetResult(devKey) is { Implicit: false }))
            {
                result.AddError("give exactly one of --key-file FILE or --dev-key N");
            }

            if ((result.GetResult(manifest) is { Implicit: false }) == (result.GetResult(proofFile) is { Implicit: false }))
            {
                result.AddError("give exactly one of --manifest FILE or --proof FILE");
            }
        });
        command.SetAction(async (parse, cancellationToken) => await RunAsync("chain claim", async () =>
        {
            using var key = parse.GetValue(devKey) is { } index
                ? (index is >= 0 and <= 9 ? Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[index]) : throw new ArgumentException("--dev-key must be 0 to 9."))
                : LoadKey(parse.GetValue(keyFile)!.FullName);
            var claimant = ParseAddress(parse.GetValue(account), "--account") ?? key.Address;
            BigInteger amount;
            Bytes32[] proof;
            Bytes32 root;
            if (parse.GetValue(proofFile) is { } proofPath)
            {
                (var proofAccount, amount, proof) = ReadProofFile(proofPath.FullName);
                if (parse.GetValue(account) is not null && proofAccount != claimant)
                {
                    throw new ArgumentException($"--account {claimant} differs from the proof file's account {proofAccount}.");
                }

                claimant = proofAccount;
                root = MerkleProof.ProcessProof(StandardMerkleTree.LeafHash([AbiValue.FromAddress(claimant.AsSpan()), AbiValue.FromUint256(amount)]), proof);
            }
            else
            {
                var credits = ReadManifestCredits(parse.GetValue(manifest)!.FullName);
                if (!credits.Any(c => c.Account == claimant))
                {
                    throw new ArgumentException($"The manifest's credits list has no entry for {claimant}.");
                }

                amount = credits.First(c => c.Account == claimant).Amount;
                var tree = StandardMerkleTree.ForCredits(credits.Select(c => ((ReadOnlyMemory<byte>)c.Account.ToArray(), c.Amount)));
                proof = tree.GetProof([AbiValue.FromAddress(claimant.AsSpan()), AbiValue.FromUint256(amount)]);
                root = tree.Root;
            }

            var (client, binding, _) = Connect(parse, deployment, rpc, ledger);
            using (client)
            {
                var taskKey = FedAggLedger.TaskKey(parse.GetValue(task)!);
                var claimable = await binding.ClaimableCreditsRootAsync(taskKey, cancellationToken).ConfigureAwait(false);
                if (claimable != root)
                {
                    var latest = await binding.CreditsRootAsync(taskKey, cancellationToken).ConfigureAwait(false);
                    throw new ChainException(latest == root
                        ? $"The proof's credits root {root} is anchored but still in the task's claim delay; try again after it (see fedagg chain status --task)."
                        : $"The proof's credits root {root} is not the task's claimable root {claimable}; use the proof or manifest of the latest anchored round.");
                }

                var already = await binding.ClaimedAsync(taskKey, claimant, cancellationToken).ConfigureAwait(false);
                using var sender = new TransactionSender(client, key);
                var receipt = await binding.ClaimAsync(sender, taskKey, claimant, amount, proof, cancellationToken).ConfigureAwait(false);
                var balance = await binding.CreditsAsync(claimant, cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"CLAIMED {amount - already} for {claimant} (cumulative {amount}); credits balance {balance}");
                Console.Out.WriteLine($"tx {receipt.TransactionHash} block {receipt.BlockNumber} gas {receipt.GasUsed}");
                return 0;
            }
        }).ConfigureAwait(false));
        return command;
    }

    private static (string Admin, string Anchor) WriteDevelopmentKeyFiles(string dataDirectory)
    {
        var folder = Path.Combine(dataDirectory, "keys");
        var admin = Path.Combine(folder, "admin.key");
        var anchor = Path.Combine(folder, "anchor.key");
        foreach (var (path, hex) in new[] { (admin, Devnet.AdminKeyHex), (anchor, Devnet.AnchorKeyHex) })
        {
            if (!File.Exists(path))
            {
                using var key = Secp256k1PrivateKey.FromHex(hex);
                EthereumKeyFile.Write(path, key);
            }
        }

        return (admin, anchor);
    }

    private static Option<string> RpcOption(bool required) =>
        new("--rpc") { Description = "The chain's JSON-RPC URL, e.g. http://127.0.0.1:8545", Required = required, HelpName = "url" };

    private static Uri ParseRpcUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new ArgumentException($"--rpc: \"{text}\" is not an http(s) URL such as http://127.0.0.1:8545.");

    private static (Option<FileInfo?> Deployment, Option<string> Rpc, Option<string?> Ledger) LedgerOptions() =>
        (new Option<FileInfo?>("--deployment") { Description = $"A deployment record (default {DefaultDevnetDirectory}/{Devnet.DeploymentFileName} when neither it nor --rpc/--ledger is given)", HelpName = "file" },
         RpcOption(required: false),
         new Option<string?>("--ledger") { Description = "The FedAggLedger address (with --rpc)", HelpName = "address" });

    private static void AddLedgerValidator(Command command, Option<FileInfo?> deployment, Option<string> rpc, Option<string?> ledger) =>
        command.Validators.Add(result =>
        {
            var hasDeployment = result.GetResult(deployment) is { Implicit: false };
            var hasRpc = result.GetResult(rpc) is { Implicit: false };
            var hasLedger = result.GetResult(ledger) is { Implicit: false };
            if (hasDeployment && (hasRpc || hasLedger))
            {
                result.AddError("give --deployment FILE or --rpc URL with --ledger ADDRESS, not both");
            }
            else if (hasRpc != hasLedger)
            {
                result.AddError("--rpc and --ledger go together");
            }
        });

    private static (EthereumRpcClient Client, FedAggLedger Ledger, ulong FromBlock) Connect(
        ParseResult parse, Option<FileInfo?> deploymentOption, Option<string> rpcOption, Option<string?> ledgerOption)
    {
        if (parse.GetValue(rpcOption) is { } url)
        {
            var client = new EthereumRpcClient(ParseRpcUrl(url));
            return (client, new FedAggLedger(client, ParseAddress(parse.GetValue(ledgerOption), "--ledger")!.Value), 0);
        }

        var path = parse.GetValue(deploymentOption)?.FullName ?? Path.GetFullPath(Path.Combine(DefaultDevnetDirectory, Devnet.DeploymentFileName));
        if (!File.Exists(path))
        {
            throw new ChainException($"No deployment record at {path}: start `fedagg chain devnet`, or give --rpc URL --ledger ADDRESS.");
        }

        var deployment = LedgerDeployment.Load(path);
        var rpc = new EthereumRpcClient(new Uri(deployment.RpcUrl));
        var chainId = rpc.GetChainIdAsync(CancellationToken.None).GetAwaiter().GetResult();
        if (chainId != deployment.ChainId)
        {
            rpc.Dispose();
            throw new ChainException($"Chain id mismatch: {path} records chain {deployment.ChainId}, but the node at {deployment.RpcUrl} is chain {chainId}.");
        }

        return (rpc, new FedAggLedger(rpc, deployment.LedgerAddress), deployment.DeployBlock);
    }

    private static List<(EthereumAddress Account, BigInteger Amount)> ReadManifestCredits(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (!document.RootElement.TryGetProperty("credits", out var credits) || credits.ValueKind != JsonValueKind.Array)
        {
            throw new ArgumentException($"{path} has no \"credits\" array; is it a round manifest?");
        }

        var list = new List<(EthereumAddress, BigInteger)>();
        foreach (var entry in credits.EnumerateArray())
        {
            var account = entry.TryGetProperty("account", out var a) && a.ValueKind == JsonValueKind.String && EthereumAddress.TryParse(a.GetString(), out var parsed)
                ? parsed
                : throw new ArgumentException($"{path}: a credits entry has no valid \"account\" address.");
            var amount = entry.TryGetProperty("cumulativeAmount", out var amountElement) ? ParseAmount(amountElement) : null;
            list.Add((account, amount ?? throw new ArgumentException($"{path}: the credits entry of {account} has no valid \"cumulativeAmount\" (a decimal or 0x-hex string, or an integer).")));
        }

        return list;
    }

    private static (EthereumAddress Account, BigInteger Amount, Bytes32[] Proof) ReadProofFile(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var account = root.TryGetProperty("account", out var a) && a.ValueKind == JsonValueKind.String && EthereumAddress.TryParse(a.GetString(), out var parsed)
            ? parsed
            : throw new ArgumentException($"{path}: no valid \"account\" address.");
        var amount = (root.TryGetProperty("cumulativeAmount", out var amountElement) ? ParseAmount(amountElement) : null)
            ?? throw new ArgumentException($"{path}: no valid \"cumulativeAmount\" (a decimal or 0x-hex string, or an integer).");
        if (!root.TryGetProperty("proof", out var proofElement) || proofElement.ValueKind != JsonValueKind.Array || proofElement.GetArrayLength() > 256)
        {
            throw new ArgumentException($"{path}: \"proof\" must be an array of at most 256 0x-prefixed 32-byte hashes.");
        }

        var proof = proofElement.EnumerateArray()
            .Select(node => node.ValueKind == JsonValueKind.String && Bytes32.TryParse(node.GetString(), out var hash)
                ? hash
                : throw new ArgumentException($"{path}: every proof element must be a 0x-prefixed 32-byte hash."))
            .ToArray();
        return (account, amount, proof);
    }

    private static BigInteger? ParseAmount(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out var number))
        {
            return number;
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 } text)
        {
            return null;
        }

        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return BigInteger.TryParse("0" + text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? hex : null;
        }

        return BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private static EthereumAddress? ParseAddress(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        return EthereumAddress.TryParse(text, out var address)
            ? address
            : throw new ArgumentException($"{option}: \"{text}\" is not an address (0x and 40 hex digits; mixed case must be a valid EIP-55 checksum).");
    }

    private static Secp256k1PrivateKey LoadKey(string path)
    {
        var key = EthereumKeyFile.Load(path, out var warning);
        if (warning is not null)
        {
            Console.Error.WriteLine($"fedagg chain: {warning}");
        }

        return key;
    }

    private static void PrintStatus(Dictionary<string, object?> report)
    {
        Console.Out.WriteLine($"chain {report["chainId"]} at block {report["block"]}; ledger {report["ledger"]}{((bool)report["paused"]! ? " (PAUSED)" : string.Empty)}");
        if (report.TryGetValue("task", out var taskObject) && taskObject is Dictionary<string, object?> task)
        {
            Console.Out.WriteLine($"task {task["taskId"]} (key {task["taskKey"]}): {((bool)task["registered"]! ? $"{task["lastRound"]} rounds anchored" : "not registered")}");
            Console.Out.WriteLine($"  latest model   {task["latestModelHash"]}");
            Console.Out.WriteLine($"  credits root   {task["creditsRoot"]} (claimable: {task["claimableCreditsRoot"]})");
            foreach (var round in (List<Dictionary<string, object?>>)task["rounds"]!)
            {
                Console.Out.WriteLine($"  round {round["round"],4}  model {round["modelHash"]}  accepted {round["acceptedCount"],5}  block {round["block"]}  tx {round["transaction"]}");
            }
        }

        if (report.TryGetValue("account", out var accountObject) && accountObject is Dictionary<string, object?> account)
        {
            Console.Out.WriteLine($"account {account["account"]}: credits {account["credits"]}{(account.TryGetValue("claimed", out var claimed) ? $", claimed for the task {claimed}" : string.Empty)}");
        }
    }

    private static async Task<int> RunAsync(string name, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ChainException e)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is KeyFileException or ArgumentException or FormatException or JsonException or IOException)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {e.Message}");
            return 2;
        }
    }
}
