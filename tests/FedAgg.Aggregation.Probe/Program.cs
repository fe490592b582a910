using System.Globalization;
using FedAgg.Aggregation;
using FedAgg.Aggregation.Probe;

// Usage: FedAgg.Aggregation.Probe <seed> [--dop k] [--block b] [--isa-only]
// Prints the ISA line, then one line per scenario (see ProbeScenarios).
if (args.Length < 1 || !ulong.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
{
    Console.Error.WriteLine("usage: FedAgg.Aggregation.Probe <seed> [--dop k] [--block b] [--isa-only]");
    return 2;
}

var dop = 1;
var block = 4096;
var isaOnly = false;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--dop":
            dop = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--block":
            block = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--isa-only":
            isaOnly = true;
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

Console.WriteLine(ProbeScenarios.Isa());
if (isaOnly)
{
    return 0;
}

var engine = ProbeScenarios.Engine(new AggregationOptions { MaxDegreeOfParallelism = dop, BlockCoordinates = block });
foreach (var line in ProbeScenarios.Run(seed, engine))
{
    Console.WriteLine(line);
}

return 0;
