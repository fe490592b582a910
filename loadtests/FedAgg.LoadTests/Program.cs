using FedAgg.LoadTests;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var outcome = await LoadProgram.RunAsync(args, Console.Out, Console.Error, stop.Token).ConfigureAwait(false);
return outcome.ExitCode;
