using System.CommandLine;
using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Rpc;
using FedAgg.Core.Identity;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Libp2p.Configuration;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg server</c>: runs the FedAgg server on a data directory until Ctrl+C or SIGTERM. With <c>--dev</c> it also
/// starts the embedded chain (state under DIR/chain), creates and registers the task <c>demo</c>, opens its round, writes a
/// coordinator key into DIR, and prints <c>LISTENING &lt;multiaddr&gt;/p2p/&lt;peerId&gt;</c> once ready.
/// </summary>
internal static class ServerCommand
{
    public const string DemoTaskId = "demo";
    public const string CoordinatorKeyFileName = "coordinator.key";
    public const string ServerAddressFileName = "server.addr";

    public static Command Create()
    {
        var dev = new Option<bool>("--dev") { Description = "Development mode: embedded chain, a task 'demo' with round 1 open, admission open" };
        var data = new Option<DirectoryInfo>("--data") { Description = "The data directory (updates, models, grain state, keys; default ./fedagg-data)", DefaultValueFactory = _ => new DirectoryInfo("fedagg-data") };
        var config = new Option<FileInfo?>("--config") { Description = "A JSON configuration file (appsettings format: section FedAgg:Server), read after ./appsettings.json and before FEDAGG__ environment variables", HelpName = "file" };
        var libp2pConfig = new Option<FileInfo?>("--libp2p-config") { Description = "A libp2p configuration file (libp2p-config/server.json format)", HelpName = "file" };
        var chain = new Option<string>("--chain") { Description = "auto: start the embedded local chain under DIR/chain; none: no chain (chain id 0); or a node's JSON-RPC URL (with --ledger and --anchor-key)", DefaultValueFactory = _ => "auto", HelpName = "auto|none|URL" };
        chain.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not ("auto" or "none") && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            {
                result.AddError($"--chain must be auto, none or an http(s) JSON-RPC URL; it is '{value}'");
            }
        });
        var ledger = new Option<string?>("--ledger") { Description = "The FedAggLedger address (with --chain URL)", HelpName = "address" };
        var anchorKey = new Option<FileInfo?>("--anchor-key") { Description = "Ethereum key file of the ANCHOR_ROLE account (with --chain URL); it also registers tasks unless the configuration names a registrar key", HelpName = "file" };
        var coordinators = new Option<string[]>("--coordinator") { Description = "A peer id allowed on /fedagg/admin/1.0.0 (repeatable; --dev adds DIR/coordinator.key's)", HelpName = "peer-id" };
        var roundSeconds = new Option<long>("--dev-round-seconds") { Description = "Round duration of the demo task (default 3600)", DefaultValueFactory = _ => 3600 };
        var minParticipants = new Option<int>("--dev-min-participants") { Description = "Minimum updates per round of the demo task (default 1)", DefaultValueFactory = _ => 1 };
        var maxParticipants = new Option<int>("--dev-max-participants") { Description = "Updates after which a demo round closes by itself (default 1000)", DefaultValueFactory = _ => 1000 };
        var listen = new Option<string[]>("--listen") { Description = "Listen address (repeatable); default the config's, else /ip4/127.0.0.1/tcp/4001 with --dev and /ip4/0.0.0.0/tcp/4001 without", HelpName = "multiaddr" };
        var elements = new Option<int>("--dev-elements") { Description = "Elements of the demo model (float32; default 1000)", DefaultValueFactory = _ => 1000 };
        var rule = new Option<string>("--dev-rule") { Description = "The demo task's rule (default trimmed-mean, beta 0.2)", DefaultValueFactory = _ => "trimmed-mean" };
        rule.AcceptOnlyFromAmong(DevRules.Keys.ToArray());
        var verbose = new Option<bool>("--verbose") { Description = "Debug logs on stderr" };
        var command = new Command("server", "Run the FedAgg server until Ctrl+C; --dev for a ready-to-use local setup")
        {
            dev, data, config, libp2pConfig, chain, ledger, anchorKey, coordinators, listen, elements, rule, roundSeconds, minParticipants, maxParticipants, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ServerRun(
                parse.GetValue(dev), parse.GetValue(data)!.FullName, parse.GetValue(config)?.FullName, parse.GetValue(libp2pConfig)?.FullName, parse.GetValue(chain)!,
                parse.GetValue(ledger), parse.GetValue(anchorKey)?.FullName, parse.GetValue(coordinators) ?? [],
                parse.GetValue(listen) ?? [], parse.GetValue(elements), parse.GetValue(rule)!,
                new DevRound(parse.GetValue(roundSeconds), parse.GetValue(minParticipants), parse.GetValue(maxParticipants)), parse.GetValue(verbose));
            try
            {
                return await RunAsync(settings, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Out.WriteLine("STOPPED");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or KeyFileException or Libp2pConfigurationException
                or OptionsValidationException or FormatException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fedagg server: error: {PeerCommand.OneLine(e.Message)}");
                return 2;
            }
            catch (Exception e) when (e is ChainException or Libp2p.Libp2pException or Storage.StorageException)
            {
                Console.Error.WriteLine($"fedagg server: error: {PeerCommand.OneLine(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    private static readonly Dictionary<string, RuleSpec> DevRules = new(StringComparer.Ordinal)
    {
        ["trimmed-mean"] = new RuleSpec("trimmed-mean") { Beta = 0.2 },
        ["mean"] = new RuleSpec("mean"),
        ["median"] = new RuleSpec("median"),
        ["krum"] = new RuleSpec("krum") { F = 1 },
        ["multi-krum"] = new RuleSpec("multi-krum") { F = 1 },
        ["bulyan"] = new RuleSpec("bulyan") { F = 1 },
        ["centered-clipping"] = new RuleSpec("centered-clipping") { Tau = 1.0, Iterations = 3 },
        ["geometric-median"] = new RuleSpec("geometric-median") { Nu = 1e-6, Iterations = 100 },
    };

    /// <summary>The demo task's settings.</summary>
    public static TaskSettings DemoSettings(int elements, string rule, DevRound? round = null) => new()
    {
        TaskId = DemoTaskId,
        Model = new ModelSpec([new TensorSpec("weights", [elements])]),
        Codec = PayloadCodec.Float32,
        Rule = DevRules[rule],
        Optimizer = new OptimizerSpec("fedavg") { Eta = 1.0 },
        CreditsPerRound = 1_000_000,
        MinParticipants = round?.MinParticipants ?? 1,
        MaxParticipants = round?.MaxParticipants ?? 1000,
        RoundDurationSeconds = round?.Seconds ?? 3600,
        Admission = AdmissionPolicy.Open,
    };

    /// <summary>The demo model's initial weights: a fixed, reproducible vector.</summary>
    public static float[] DemoWeights(int elements)
    {
        var weights = new float[elements];
        var state = 0x5EED_F00DUL;
        for (var i = 0; i < elements; i++)
        {
            state = unchecked(state * 6364136223846793005UL + 1442695040888963407UL);
            weights[i] = ((int)(state >> 40) % 2000 - 1000) / 10_000f;
        }

        return weights;
    }

    private static async Task<int> RunAsync(ServerRun run, CancellationToken cancellationToken)
    {
        if (run.Elements is < 1 or > 100_000_000)
        {
            throw new ArgumentException($"--dev-elements must be between 1 and 100000000; it is {run.Elements}");
        }

        var external = run.Chain is not ("auto" or "none");
        if (external && (run.Ledger is null || run.AnchorKeyFile is null))
        {
            throw new ArgumentException("--chain URL needs --ledger ADDRESS and --anchor-key FILE (or FedAgg:Server:Ledger and FedAgg:Server:Chain:AnchorKeyFile in --config)");
        }

        Directory.CreateDirectory(run.DataDirectory);
        var logLevel = run.Verbose ? LogLevel.Debug : LogLevel.Information;
        using var chainLogs = LoggerFactory.Create(b => AddStderrLogging(b, logLevel));
        Devnet? devnet = null;
        try
        {
            ulong externalChainId = 0;
            if (run.Chain == "auto")
            {
                devnet = await Devnet.StartAsync(
                    new LocalChainOptions { DataDirectory = Path.Combine(run.DataDirectory, "chain"), Port = 0 },
                    chainLogs.CreateLogger("FedAgg.Chain.Devnet"),
                    cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"CHAIN {devnet.Chain.RpcUrl} chain-id {devnet.Chain.ChainId} ledger {devnet.Deployment.Ledger}");
            }
            else if (external)
            {
                using var rpc = new EthereumRpcClient(new Uri(run.Chain));
                externalChainId = await rpc.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
            }

            string? coordinatorPeer = null;
            if (run.Dev)
            {
                var coordinatorPath = Path.Combine(run.DataDirectory, CoordinatorKeyFileName);
                if (!File.Exists(coordinatorPath))
                {
                    using var created = Ed25519PrivateKey.Generate();
                    KeyFile.Write(coordinatorPath, created);
                }

                using var coordinator = KeyFile.Load(coordinatorPath, out _);
                coordinatorPeer = coordinator.PeerId.ToString();
                Console.Out.WriteLine($"COORDINATOR {coordinator.PeerId} {coordinatorPath}");
            }

            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Environment.CurrentDirectory });
            builder.Configuration.AddJsonFile(Path.Combine(Environment.CurrentDirectory, "appsettings.json"), optional: true);
            if (run.ConfigFile is not null)
            {
                builder.Configuration.AddJsonFile(run.ConfigFile, optional: false);
            }

            builder.Configuration.AddEnvironmentVariables("FEDAGG__").AddEnvironmentVariables();
            AddStderrLogging(builder.Logging, logLevel);
            builder.AddFedAggServer(o =>
            {
                o.DataDirectory = run.DataDirectory;
                o.Libp2pConfigFile = run.Libp2pConfigFile ?? o.Libp2pConfigFile;
                if (run.Listen.Length > 0)
                {
                    o.ListenAddresses.Clear();
                    foreach (var address in run.Listen)
                    {
                        o.ListenAddresses.Add(address);
                    }
                }
                else if (run.Dev && o.Libp2pConfigFile is null && o.ListenAddresses.Count == 0)
                {
                    o.ListenAddresses.Add("/ip4/127.0.0.1/tcp/4001");
                }

                foreach (var peer in run.Coordinators.Append(coordinatorPeer).OfType<string>())
                {
                    if (!o.Coordinators.Contains(peer))
                    {
                        o.Coordinators.Add(peer);
                    }
                }

                if (devnet is not null)
                {
                    o.ChainId = devnet.Chain.ChainId;
                    o.Ledger = devnet.Deployment.Ledger.ToString();
                    o.Chain.RpcUrl = devnet.Chain.RpcUrl.ToString();
                    o.Chain.AnchorKeyFile = WriteDevKey(run.DataDirectory, "anchor.key", Devnet.AnchorKeyHex);
                    o.Chain.RegistrarKeyFile = WriteDevKey(run.DataDirectory, "admin.key", Devnet.AdminKeyHex);
                    o.Chain.PollInterval = TimeSpan.FromMilliseconds(50);
                }
                else if (external)
                {
                    o.ChainId = externalChainId;
                    o.Ledger = run.Ledger ?? o.Ledger;
                    o.Chain.RpcUrl = run.Chain;
                    o.Chain.AnchorKeyFile = run.AnchorKeyFile ?? o.Chain.AnchorKeyFile;
                }
            });
            using var host = builder.Build();
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var server = host.Services.GetRequiredService<FedAggServer>();
                if (run.Dev)
                {
                    await SetUpDemoAsync(server, devnet is not null, run, cancellationToken).ConfigureAwait(false);
                }

                foreach (var address in server.ListenAddresses)
                {
                    Console.Out.WriteLine($"LISTENING {address}");
                }

                // `fedagg admin --data DIR` and `fedagg verify --data DIR --server` find the server here.
                var addressFile = Path.Combine(run.DataDirectory, ServerAddressFileName);
                File.WriteAllText(addressFile + ".tmp", string.Join('\n', server.ListenAddresses.Select(static a => a.ToString())) + "\n");
                File.Move(addressFile + ".tmp", addressFile, overwrite: true);
                await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);

                // Program.cs turns SIGTERM and SIGINT (Ctrl+C) into this token's cancellation.
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Stop below.
                }
            }
            finally
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            Console.Out.WriteLine("STOPPED");
            return 0;
        }
        finally
        {
            if (devnet is not null)
            {
                await devnet.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string WriteDevKey(string dataDirectory, string name, string hex)
    {
        var path = Path.Combine(dataDirectory, "chain", "keys", name);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var key = Secp256k1PrivateKey.FromHex(hex);
            EthereumKeyFile.Write(path, key);
        }

        return path;
    }

    private static async Task SetUpDemoAsync(FedAggServer server, bool chain, ServerRun run, CancellationToken cancellationToken)
    {
        var settings = DemoSettings(run.Elements, run.Rule, run.Round);
        var task = await server.Grains.GetGrain<ITaskGrain>(DemoTaskId).GetInfoAsync().ConfigureAwait(false);
        if (task is null)
        {
            task = await server.CreateTaskAsync(settings, DemoWeights(run.Elements), cancellationToken).ConfigureAwait(false);
            if (chain)
            {
                Console.Out.WriteLine($"REGISTERED {DemoTaskId} settings {task.SettingsHash}");
            }
        }

        if (task.SettingsHash != settings.ComputeHash().ToString())
        {
            throw new InvalidOperationException(
                $"{run.DataDirectory} already holds task '{DemoTaskId}' with other settings ({task.Settings.Model.NumElements} elements, rule {task.Settings.Rule.Name}); use another --data or the same --dev-* options");
        }

        if (task.LatestRound == 0)
        {
            await server.OpenNextRoundAsync(DemoTaskId, cancellationToken).ConfigureAwait(false);
        }

        var round = await server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(DemoTaskId, Math.Max(1, task.LatestRound))).GetStatusAsync().ConfigureAwait(false);
        Console.Out.WriteLine($"TASK {DemoTaskId} settings {task.SettingsHash} model {task.CurrentModelHash} elements {task.Settings.Model.NumElements} rule {task.Settings.Rule.Name}");
        Console.Out.WriteLine($"ROUND {round.Round} {round.Phase.ToString().ToLowerInvariant()} until {DateTimeOffset.FromUnixTimeMilliseconds(round.DeadlineUnixMs):O}");
    }

    private static void AddStderrLogging(ILoggingBuilder logging, LogLevel minimum)
    {
        logging.SetMinimumLevel(minimum);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private sealed record ServerRun(
        bool Dev, string DataDirectory, string? ConfigFile, string? Libp2pConfigFile, string Chain, string? Ledger, string? AnchorKeyFile, string[] Coordinators,
        string[] Listen, int Elements, string Rule, DevRound Round, bool Verbose);

    /// <summary>The demo task's round bounds.</summary>
    /// <param name="Seconds">Round duration.</param>
    /// <param name="MinParticipants">Minimum updates to close.</param>
    /// <param name="MaxParticipants">Updates at which a round closes by itself.</param>
    public sealed record DevRound(long Seconds, int MinParticipants, int MaxParticipants);
}
