using System.Diagnostics;
using FedAgg.Training.Data;

namespace FedAgg.Cli.Demo;

/// <summary>The demo's data: Fashion-MNIST from Debian's package (installed when missing and possible) or any idx files.</summary>
internal static class DemoDataset
{
    public const string Package = "dataset-fashion-mnist";

    /// <summary>Loads the training and test sets once (the participants' shards are subsets of the training set).</summary>
    public static async Task<FashionMnistData> LoadAsync(DemoSettings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var directory = settings.DatasetDirectory;
        if (!Directory.Exists(directory) && !settings.DatasetDirectoryGiven)
        {
            await InstallAsync(progress, cancellationToken).ConfigureAwait(false);
        }

        if (!Directory.Exists(directory))
        {
            throw new DemoException(settings.DatasetDirectoryGiven
                ? $"--data-dir {directory} does not exist"
                : $"Fashion-MNIST is not installed at {directory}; install it with `sudo apt-get install {Package}` (Debian/Ubuntu), or pass --data-dir DIR with the four idx files");
        }

        try
        {
            var train = await FashionMnist.LoadSetAsync(
                Path.Combine(directory, FashionMnist.TrainImagesFile), Path.Combine(directory, FashionMnist.TrainLabelsFile), cancellationToken).ConfigureAwait(false);
            var test = await FashionMnist.LoadSetAsync(
                Path.Combine(directory, FashionMnist.TestImagesFile), Path.Combine(directory, FashionMnist.TestLabelsFile), cancellationToken).ConfigureAwait(false);
            if (settings.TrainSamples > 0 && settings.TrainSamples < train.Count)
            {
                train = train.Slice(0, settings.TrainSamples);
            }

            if (settings.TestSamples > 0 && settings.TestSamples < test.Count)
            {
                test = test.Slice(0, settings.TestSamples);
            }

            return new FashionMnistData(train, test);
        }
        catch (DatasetException e)
        {
            throw new DemoException($"cannot load the data set from {directory}: {e.Message}", e);
        }
    }

    private static async Task InstallAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        var aptGet = FindOnPath("apt-get");
        if (aptGet is null || !Environment.IsPrivilegedProcess)
        {
            // Not root (or not Debian): the error below says the exact command.
            return;
        }

        await progress.WriteLineAsync($"fedagg demo: installing {Package} with apt-get (Fashion-MNIST, 30 MB)...").ConfigureAwait(false);
        if (await RunAsync(aptGet, ["install", "-y", "-q", Package], cancellationToken).ConfigureAwait(false) == 0)
        {
            return;
        }

        // A fresh machine may have no package lists yet.
        await RunAsync(aptGet, ["update", "-q"], cancellationToken).ConfigureAwait(false);
        await RunAsync(aptGet, ["install", "-y", "-q", Package], cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> RunAsync(string file, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new DemoException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await output.ConfigureAwait(false);
        await error.ConfigureAwait(false);
        return process.ExitCode;
    }

    private static string? FindOnPath(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>The demo cannot go on; the message says why and what to do.</summary>
internal sealed class DemoException : Exception
{
    public DemoException(string message)
        : base(message)
    {
    }

    public DemoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DemoException()
    {
    }
}
