using System.CommandLine;
using System.Globalization;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using FedAgg.Libp2p.Configuration;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg peer id|listen|ping</c>: the libp2p node from a <c>libp2p-config/</c> file. <c>id</c> prints the peer ID
/// and listen addresses, <c>listen</c> serves identify and ping until Ctrl+C or SIGTERM, <c>ping</c> dials a multiaddr
/// and pings it. Exit codes: 0 success, 1 the network operation failed, 2 bad input (arguments, configuration, key).
/// </summary>
internal static class PeerCommand
{
    private const string DefaultConfig = "libp2p-config/server.json";

    public static Command Create()
    {
        var command = new Command("peer", "Run or inspect this machine's libp2p node (TCP, Noise, Yamux, identify, ping)");
        command.Subcommands.Add(CreateId());
        command.Subcommands.Add(CreateListen());
        command.Subcommands.Add(CreatePing());
        return command;
    }

    private static Option<FileInfo?> ConfigOption(string whenMissing) => new("--config")
    {
        Description = $"The libp2p configuration (JSON, see libp2p-config/README.md); default: {DefaultConfig} in the current directory or the nearest folder above it{whenMissing}",
        HelpName = "file",
    };

    private static Command CreateId()
    {
        var config = ConfigOption(string.Empty);
        var command = new Command("id", "Print this node's peer ID and its listen addresses from the configuration") { config };
        command.SetAction(parse => Guard("peer id", () =>
        {
            var configuration = PeerSetup.LoadConfiguration(parse.GetValue(config))!;
            using var key = PeerSetup.LoadKey(configuration, "peer id");
            Console.Out.WriteLine(key.PeerId.ToString());
            foreach (var address in configuration.ListenAddresses)
            {
                Console.Out.WriteLine(address.WithPeerId(key.PeerId).ToString());
            }

            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command CreateListen()
    {
        var config = ConfigOption("; with --ephemeral and no configuration, 127.0.0.1 on --port");
        var port = new Option<int?>("--port") { Description = "Listen on this TCP port (0-65535, 0 = any free port) instead of the configured ones", HelpName = "port" };
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0 or > 65535)
            {
                result.AddError("--port must be from 0 to 65535");
            }
        });
        var ephemeral = new Option<bool>("--ephemeral") { Description = "Use a new throwaway identity instead of the configured key file" };
        var verbose = VerboseOption();
        var command = new Command("listen", "Listen, print LISTENING <multiaddr>/p2p/<peer id> per address, and serve identify and ping until Ctrl+C or SIGTERM")
        {
            config, port, ephemeral, verbose,
        };
        command.SetAction((parse, cancellationToken) => GuardAsync("peer listen", () =>
            PeerListen.RunAsync(parse.GetValue(config), parse.GetValue(port), parse.GetValue(ephemeral), parse.GetValue(verbose), cancellationToken)));
        return command;
    }

    private static Command CreatePing()
    {
        var address = new Argument<string>("MULTIADDR") { Description = "Whom to ping, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…" };
        var count = new Option<int>("--count") { Description = "How many pings (1-1000)", DefaultValueFactory = _ => 3, HelpName = "n" };
        count.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                result.AddError("--count must be from 1 to 1000");
            }
        });
        var timeout = new Option<double>("--timeout") { Description = "Seconds allowed for the dial and for each ping (0.1-600)", DefaultValueFactory = _ => 10, HelpName = "seconds" };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (>= 0.1 and <= 600))
            {
                result.AddError("--timeout must be from 0.1 to 600 seconds");
            }
        });
        var config = new Option<FileInfo?>("--config")
        {
            Description = "Dial with the identity and limits of this libp2p configuration (default: a throwaway identity and default limits)",
            HelpName = "file",
        };
        var verbose = VerboseOption();
        var command = new Command("ping", "Dial a peer, print its agent version and protocols, and ping it") { address, count, timeout, config, verbose };
        command.SetAction((parse, cancellationToken) => GuardAsync("peer ping", () =>
            PeerPing.RunAsync(parse.GetValue(address)!, parse.GetValue(count), TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(config), parse.GetValue(verbose), cancellationToken)));
        return command;
    }

    private static Option<bool> VerboseOption() => new("--verbose") { Description = "Log the libp2p host's debug messages to stderr" };

    private static int Guard(string name, Func<Task<int>> action) => GuardAsync(name, action).GetAwaiter().GetResult();

    /// <summary>Turns the expected failures into one line on stderr and an exit code: 2 for bad input, 1 for the network.</summary>
    private static async Task<int> GuardAsync(string name, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (PeerUsageException e)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {OneLine(e.Message)}");
            return 2;
        }
        catch (Libp2pConfigurationException e)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {OneLine(e.Message)}");
            return 2;
        }
        catch (KeyFileException e)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {OneLine(e.Message)}");
            return 2;
        }
        catch (Libp2pException e)
        {
            Console.Error.WriteLine($"fedagg {name}: error: {OneLine(e.Message)}");
            return 1;
        }
    }

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    internal static string Milliseconds(TimeSpan value) => value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>Bad input to a <c>fedagg peer</c> command (exit code 2); the message is shown as is.</summary>
internal sealed class PeerUsageException(string message) : Exception(message);
