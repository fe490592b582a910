using System.CommandLine;
using FedAgg.Cli;

var root = new RootCommand("FedAgg: federated training among participants nobody has to trust.");
root.Subcommands.Add(AdminCommand.Create());
root.Subcommands.Add(AggregateCommand.Create());
root.Subcommands.Add(ChainCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(KeygenCommand.Create());
root.Subcommands.Add(NodeCommand.Create());
root.Subcommands.Add(PeerCommand.Create());
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());

var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parse.Errors.Count > 0)
{
    // One line and exit code 2, like every other bad input; --help shows the options.
    var names = new List<string>();
    for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        names.Insert(0, result.Command == root ? "fedagg" : result.Command.Name);
    }

    var name = string.Join(' ', names);
    var message = string.Join("; ", parse.Errors.Select(static e =>
        string.Join(' ', e.Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
    Console.Error.WriteLine($"{name}: error: {message} (see {name} --help)");
    return 2;
}

// Ctrl+C and SIGTERM (a service manager stopping us) cancel the action's token; long-running commands stop cleanly and
// exit 0 instead of being terminated with 130/143.
using var shutdown = new CancellationTokenSource();
void Stop(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}

using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, shutdown.Token).ConfigureAwait(false);
