using System.CommandLine;
using FedAgg.Cli;

var root = new RootCommand("FedAgg: federated training among participants nobody has to trust.");
root.Subcommands.Add(AggregateCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
