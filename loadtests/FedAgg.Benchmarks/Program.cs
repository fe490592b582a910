using BenchmarkDotNet.Running;

namespace FedAgg.Benchmarks;

/// <summary>
/// Entry point of ./bench.sh. Default: the custom table harness (<see cref="TableHarness"/>).
/// <c>--bdn</c>: BenchmarkDotNet with <c>[MemoryDiagnoser]</c> over a few representative cases; the remaining
/// arguments go to BenchmarkSwitcher (<c>--filter *</c> when none is given).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "updates")
        {
            return await Updates.SignedUpdateBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "store")
        {
            return await Storage.StoreBenchmark.RunAsync(args[1..]);
        }

        if (args.Contains("--bdn"))
        {
            var rest = args.Where(static a => a != "--bdn").ToList();
            if (!rest.Contains("--filter"))
            {
                rest.AddRange(["--filter", "*"]);
            }

            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], BdnConfig.Create());
            return 0;
        }

        TableOptions options;
        try
        {
            options = TableOptions.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"bench: {e.Message}");
            Console.Error.WriteLine(TableOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(TableOptions.Usage);
            return 0;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        return await new TableHarness(options, TimeProvider.System).RunAsync(cancel.Token).ConfigureAwait(false);
    }
}
