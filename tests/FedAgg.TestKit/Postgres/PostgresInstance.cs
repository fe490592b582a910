using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FedAgg.TestKit.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster on 127.0.0.1 and a free port: <c>initdb</c> into a temporary directory, <c>pg_ctl start</c>,
/// and on dispose <c>pg_ctl stop</c> and the directory removed. PostgreSQL refuses to run as root, so as root the
/// binaries run as the <c>postgres</c> user through <c>runuser</c>. Trust authentication, user <c>postgres</c>.
/// </summary>
public sealed class PostgresInstance : IAsyncDisposable
{
    /// <summary>The command that installs the server binaries on Debian/Ubuntu.</summary>
    public const string InstallCommand = "apt-get install -y postgresql";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _binDirectory;
    private readonly string _root;
    private bool _disposed;

    private PostgresInstance(string binDirectory, string root, int port)
    {
        _binDirectory = binDirectory;
        _root = root;
        Port = port;
    }

    /// <summary>The port the server listens on (127.0.0.1 only).</summary>
    public int Port { get; }

    /// <summary>A connection string for the <c>postgres</c> database as user <c>postgres</c>.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=15;Command Timeout=30";

    /// <summary>
    /// The newest <c>/usr/lib/postgresql/*/bin</c> that holds <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>, or the
    /// directory in <c>FEDAGG_PG_BIN</c>; null if there is none.
    /// </summary>
    public static string? FindBinDirectory()
    {
        var overridden = Environment.GetEnvironmentVariable("FEDAGG_PG_BIN");
        if (!string.IsNullOrEmpty(overridden))
        {
            return HasBinaries(overridden) ? overridden : null;
        }

        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
            .Where(c => HasBinaries(c.Bin))
            .OrderByDescending(c => c.Version)
            .Select(c => c.Bin)
            .FirstOrDefault();
    }

    /// <summary>Creates and starts a cluster (a few seconds).</summary>
    /// <param name="binDirectory">Where initdb/pg_ctl live; null to search with <see cref="FindBinDirectory"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running instance.</returns>
    /// <exception cref="InvalidOperationException">The binaries are missing (the message says how to install them) or the server did not start.</exception>
    public static async Task<PostgresInstance> StartAsync(string? binDirectory = null, CancellationToken cancellationToken = default)
    {
        binDirectory ??= FindBinDirectory();
        if (binDirectory is null || !HasBinaries(binDirectory))
        {
            throw new InvalidOperationException(
                $"PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found under {binDirectory ?? "/usr/lib/postgresql/*/bin"}. " +
                $"Install them with: {InstallCommand} (or point FEDAGG_PG_BIN at a directory that holds them).");
        }

        var root = Path.Combine(Path.GetTempPath(), $"fedagg-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var instance = new PostgresInstance(binDirectory, root, FreeLoopbackPort());
        try
        {
            if (IsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", root], asPostgres: false, cancellationToken).ConfigureAwait(false);
            }

            var data = Path.Combine(root, "data");
            await instance.RunToolAsync(
                "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], cancellationToken).ConfigureAwait(false);

            // fsync off: these clusters are thrown away after the run; durability is PostgreSQL's, not what the tests check.
            await instance.RunToolAsync(
                "pg_ctl",
                ["-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
                 "-o", $"-p {instance.Port} -h 127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off", "start"],
                cancellationToken).ConfigureAwait(false);
            return instance;
        }
        catch (Exception exception)
        {
            var log = instance.ReadServerLog();
            await instance.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"PostgreSQL did not start: {exception.Message}\n{log}", exception);
        }
    }

    /// <summary>Stops the server (fast shutdown) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var data = Path.Combine(_root, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                await RunToolAsync("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"], CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                await RunToolAsync("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], CancellationToken.None).ConfigureAwait(false);
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    private static bool HasBinaries(string directory)
        => File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")) && File.Exists(Path.Combine(directory, "postgres"));

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres && IsRoot ? "runuser" : fileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres && IsRoot)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", fileName })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{fileName} did not finish within {CommandTimeout.TotalSeconds} s.");
        }

        output.Append(await stdout.ConfigureAwait(false)).Append(await stderr.ConfigureAwait(false));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output}");
        }
    }

    private Task RunToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        => RunAsync(Path.Combine(_binDirectory, tool), arguments, asPostgres: true, cancellationToken);

    private string ReadServerLog()
    {
        try
        {
            var path = Path.Combine(_root, "server.log");
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
