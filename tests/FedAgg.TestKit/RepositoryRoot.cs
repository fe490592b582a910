using System.Reflection;

namespace FedAgg.TestKit;

/// <summary>
/// The repository's root folder (the one holding FedAgg.sln), for tests that read docs or run tools installed there.
/// The build bakes it into this assembly, so it is right even when the binaries live elsewhere (--artifacts-path).
/// </summary>
public static class RepositoryRoot
{
    /// <summary>The absolute path of the repository root.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var baked = typeof(RepositoryRoot).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(static a => a.Key == "FedAgg.RepositoryRoot")?.Value;
        string[] starts = [baked ?? "", AppContext.BaseDirectory, Environment.CurrentDirectory];
        foreach (var start in starts)
        {
            for (var directory = start.Length > 0 ? new DirectoryInfo(start) : null; directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "FedAgg.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException($"No FedAgg.sln above {string.Join(", ", starts)}.");
    }
}
