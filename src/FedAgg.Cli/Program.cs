using System.CommandLine;
using FedAgg.Cli;

var root = new RootCommand("FedAgg: federated training among participants nobody has to trust.");
root.Subcommands.Add(AggregateCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(KeygenCommand.Create());

var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parse.Errors.Count > 0)
{
    // One line and exit code 2, like every other bad input; --help shows the options.
    var command = parse.CommandResult.Command;
    var name = command == root ? "fedagg" : $"fedagg {command.Name}";
    var message = string.Join("; ", parse.Errors.Select(static e =>
        string.Join(' ', e.Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
    Console.Error.WriteLine($"{name}: error: {message} (see {name} --help)");
    return 2;
}

return await parse.InvokeAsync().ConfigureAwait(false);
