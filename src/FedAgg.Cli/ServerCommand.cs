using System.CommandLine;
using FedAgg.Chain;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Sending;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
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

    public static Command Create()
    {
        var dev = new Option<bool>("--dev") { Description = "Development mode: embedded chain, a task 'demo' with round 1 open, admission open" };
        var data = new Option<DirectoryInfo>("--data") { Description = "The data directory (updates, models, grain state, keys; default ./fedagg-data)", DefaultValueFactory = _ => new DirectoryInfo("fedagg-data") };
        var config = new Option<FileInfo?>("--config") { Description = "A libp2p configuration file (libp2p-config/server.json format)", HelpName = "file" };
        var chain = new Option<string>("--chain") { Description = "auto: start the embedded local chain under DIR/chain; none: no chain (chain id 0)", DefaultValueFactory = _ => "auto" };
        chain.AcceptOnlyFromAmong("auto", "none");
        var listen = new Option<string[]>("--listen") { Description = "Listen address (repeatable); default the config's, else /ip4/127.0.0.1/tcp/4001 with --dev and /ip4/0.0.0.0/tcp/4001 without", HelpName = "multiaddr" };
        var elements = new Option<int>("--dev-elements") { Description = "Elements of the demo model (float32; default 1000)", DefaultValueFactory = _ => 1000 };
        var rule = new Option<string>("--dev-rule") { Description = "The demo task's rule (default trimmed-mean, beta 0.2)", DefaultValueFactory = _ => "trimmed-mean" };
        rule.AcceptOnlyFromAmong(DevRules.Keys.ToArray());
        var verbose = new Option<bool>("--verbose") { Description = "Debug logs on stderr" };
        var command = new Command("server", "Run the FedAgg server until Ctrl+C; --dev for a ready-to-use local setup")
        {
            dev, data, config, chain, listen, elements, rule, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ServerRun(
                parse.GetValue(dev), parse.GetValue(data)!.FullName, parse.GetValue(config)?.FullName, parse.GetValue(chain) == "auto",
                parse.GetValue(listen) ?? [], parse.GetValue(elements), parse.GetValue(rule)!, parse.GetValue(verbose));
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
    public static TaskSettings DemoSettings(int elements, string rule) => new()
    {
        TaskId = DemoTaskId,
        Model = new ModelSpec([new TensorSpec("weights", [elements])]),
        Codec = PayloadCodec.Float32,
        Rule = DevRules[rule],
        Optimizer = new OptimizerSpec("fedavg") { Eta = 1.0 },
        CreditsPerRound = 1_000_000,
        MinParticipants = 1,
        MaxParticipants = 1000,
        RoundDurationSeconds = 3600,
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

        Directory.CreateDirectory(run.DataDirectory);
        var logLevel = run.Verbose ? LogLevel.Debug : LogLevel.Information;
        using var chainLogs = LoggerFactory.Create(b => AddStderrLogging(b, logLevel));
        Devnet? devnet = null;
        try
        {
            if (run.UseChain)
            {
                devnet = await Devnet.StartAsync(
                    new LocalChainOptions { DataDirectory = Path.Combine(run.DataDirectory, "chain"), Port = 0 },
                    chainLogs.CreateLogger("FedAgg.Chain.Devnet"),
                    cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"CHAIN {devnet.Chain.RpcUrl} chain-id {devnet.Chain.ChainId} ledger {devnet.Deployment.Ledger}");
            }

            if (run.Dev)
            {
                var coordinatorPath = Path.Combine(run.DataDirectory, CoordinatorKeyFileName);
                if (!File.Exists(coordinatorPath))
                {
                    using var created = Ed25519PrivateKey.Generate();
                    KeyFile.Write(coordinatorPath, created);
                }

                using var coordinator = KeyFile.Load(coordinatorPath, out _);
                Console.Out.WriteLine($"COORDINATOR {coordinator.PeerId} {coordinatorPath}");
            }

            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Environment.CurrentDirectory });
            builder.Configuration.AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables();
            AddStderrLogging(builder.Logging, logLevel);
            builder.AddFedAggServer(o =>
            {
                o.DataDirectory = run.DataDirectory;
                o.Libp2pConfigFile = run.ConfigFile ?? o.Libp2pConfigFile;
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

                if (devnet is not null)
                {
                    o.ChainId = devnet.Chain.ChainId;
                    o.Ledger = devnet.Deployment.Ledger;
                }
            });
            using var host = builder.Build();
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var server = host.Services.GetRequiredService<FedAggServer>();
                if (run.Dev)
                {
                    await SetUpDemoAsync(server, devnet, run, cancellationToken).ConfigureAwait(false);
                }

                foreach (var address in server.ListenAddresses)
                {
                    Console.Out.WriteLine($"LISTENING {address}");
                }

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

    private static async Task SetUpDemoAsync(FedAggServer server, Devnet? devnet, ServerRun run, CancellationToken cancellationToken)
    {
        var settings = DemoSettings(run.Elements, run.Rule);
        var task = await server.Grains.GetGrain<ITaskGrain>(DemoTaskId).GetInfoAsync().ConfigureAwait(false)
            ?? await server.CreateTaskAsync(settings, DemoWeights(run.Elements), cancellationToken).ConfigureAwait(false);
        if (task.SettingsHash != settings.ComputeHash().ToString())
        {
            throw new InvalidOperationException(
                $"{run.DataDirectory} already holds task '{DemoTaskId}' with other settings ({task.Settings.Model.NumElements} elements, rule {task.Settings.Rule.Name}); use another --data or the same --dev-elements/--dev-rule");
        }

        if (devnet is not null)
        {
            var taskKey = FedAggLedger.TaskKey(DemoTaskId);
            var onChain = await devnet.Ledger.GetTaskAsync(taskKey, cancellationToken).ConfigureAwait(false);
            if (!onChain.Registered)
            {
                using var coordinator = Secp256k1PrivateKey.FromHex(Devnet.AdminKeyHex);
                using var sender = new TransactionSender(devnet.Rpc, coordinator, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
                var receipt = await devnet.Ledger.RegisterTaskAsync(
                    sender, taskKey, Bytes32.Parse(task.SettingsHash), Bytes32.Parse(task.InitialModelHash), 0, cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"REGISTERED {DemoTaskId} tx {receipt.TransactionHash}");
            }
        }

        var round = await server.OpenNextRoundAsync(DemoTaskId, cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"TASK {DemoTaskId} settings {task.SettingsHash} model {task.CurrentModelHash} elements {task.Settings.Model.NumElements} rule {task.Settings.Rule.Name}");
        Console.Out.WriteLine($"ROUND {round.Round} open until {DateTimeOffset.FromUnixTimeMilliseconds(round.DeadlineUnixMs):O}");
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

    private sealed record ServerRun(bool Dev, string DataDirectory, string? ConfigFile, bool UseChain, string[] Listen, int Elements, string Rule, bool Verbose);
}
