using System.Diagnostics;
using System.Globalization;
using System.Text;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;

namespace FedAgg.LoadTests.Hosting;

/// <summary>Options of a <see cref="DevServer"/>.</summary>
public sealed class DevServerOptions
{
    /// <summary>The demo model's float32 elements (<c>--dev-elements</c>; default 1000).</summary>
    public int Elements { get; init; } = 1000;

    /// <summary>The demo task's rule (<c>--dev-rule</c>; default mean, the cheapest).</summary>
    public string Rule { get; init; } = "mean";

    /// <summary>Whether to start the embedded chain and anchor rounds (<c>--chain auto</c>; default false: <c>--chain none</c>).</summary>
    public bool Chain { get; init; }

    /// <summary>The data directory; default a new folder under the temp directory, deleted on dispose.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The server's per-IP connection limit (all load comes from 127.0.0.1; default 8192).</summary>
    public int MaxConnectionsPerIp { get; init; } = 8192;

    /// <summary>How long the server has to print LISTENING (default 3 min: a cold start on a busy machine).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>fedagg.dll; default the one copied next to this assembly.</summary>
    public string? FedaggDll { get; init; }

    /// <summary>Extra environment variables of the server process.</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>
/// <c>fedagg server --dev</c> as a child process on a loopback port: a coordinator key written first (so the runner knows
/// the coordinator's peer id and passes it as <c>FedAgg__Server__Coordinators__0</c>), a libp2p config raising the per-IP
/// connection limit, and the rate limit lifted (<c>FedAgg__Server__MaxSubmissionsPerWindow</c>). Stopped with SIGTERM, then
/// killed with its children (anvil) if it does not exit.
/// </summary>
public sealed class DevServer : IAsyncDisposable
{
    private const string ListeningPrefix = "LISTENING ";
    private const int MaxErrorLines = 200;
    private readonly Process _process;
    private readonly bool _ownsDirectory;
    private readonly Queue<string> _errors = new();
    private readonly List<string> _output = [];
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _listeningLines;
    private long _errorLineCount;

    private DevServer(Process process, string dataDirectory, bool ownsDirectory, PeerId coordinator)
    {
        _process = process;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Coordinator = coordinator;
    }

    /// <summary>The server's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>The data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The coordinator key file (allowed on <c>/fedagg/admin</c>).</summary>
    public string CoordinatorKeyFile => Path.Combine(DataDirectory, "coordinator.key");

    /// <summary>The coordinator's peer id.</summary>
    public PeerId Coordinator { get; }

    /// <summary>The listening address with <c>/p2p/&lt;id&gt;</c> (after <see cref="StartAsync"/>).</summary>
    public Multiaddress Address { get; private set; } = null!;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>How many LISTENING lines the server printed (more than one would mean it restarted its listener).</summary>
    public int ListeningLines => Volatile.Read(ref _listeningLines);

    /// <summary>How many lines the server wrote on stderr (its log).</summary>
    public long ErrorLineCount => Interlocked.Read(ref _errorLineCount);

    /// <summary>The last lines of the server's stderr.</summary>
    /// <returns>At most 200 lines.</returns>
    public IReadOnlyList<string> ErrorTail()
    {
        lock (_errors)
        {
            return [.. _errors];
        }
    }

    /// <summary>The server's stdout lines so far.</summary>
    /// <returns>A copy.</returns>
    public IReadOnlyList<string> OutputLines()
    {
        lock (_output)
        {
            return [.. _output];
        }
    }

    /// <summary>Starts the server and waits for its LISTENING line.</summary>
    /// <param name="options">Options.</param>
    /// <param name="cancellationToken">Cancels the start (the process is killed).</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">The server exited or did not listen in time.</exception>
    public static async Task<DevServer> StartAsync(DevServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var owns = options.DataDirectory is null;
        var data = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "fedagg-load-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(data);
        var coordinatorFile = Path.Combine(data, "coordinator.key");
        if (!File.Exists(coordinatorFile))
        {
            using var created = Ed25519PrivateKey.Generate();
            KeyFile.Write(coordinatorFile, created);
        }

        PeerId coordinator;
        using (var key = KeyFile.Load(coordinatorFile, out _))
        {
            coordinator = key.PeerId;
        }

        var config = Path.Combine(data, "libp2p.json");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture,
            $$"""{ "identityKeyFile": "server.key", "maxConnections": {{Math.Max(1024, options.MaxConnectionsPerIp)}}, "maxConnectionsPerIp": {{options.MaxConnectionsPerIp}} }"""),
            cancellationToken).ConfigureAwait(false);

        var dll = options.FedaggDll ?? Path.Combine(AppContext.BaseDirectory, "fedagg.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build loadtests/FedAgg.LoadTests (its reference to FedAgg.Cli copies it)");
        }

        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Environment.CurrentDirectory,
        };
        foreach (var argument in new[]
        {
            dll, "server", "--dev", "--data", data, "--libp2p-config", config, "--listen", "/ip4/127.0.0.1/tcp/0",
            "--chain", options.Chain ? "auto" : "none", "--dev-elements", options.Elements.ToString(CultureInfo.InvariantCulture), "--dev-rule", options.Rule,
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FedAgg__Server__Coordinators__0"] = coordinator.ToString();
        start.Environment["FedAgg__Server__MaxSubmissionsPerWindow"] = "1000000";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in options.Environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new DevServer(process, data, owns, coordinator);
        process.OutputDataReceived += (_, e) => server.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnError(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync(CancellationToken.None).ContinueWith(
            _ => server._listening.TrySetException(new InvalidOperationException(
                $"fedagg server exited with {process.ExitCode} before listening:\n{string.Join('\n', server.ErrorTail().TakeLast(30))}")),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var line = await server._listening.Task.WaitAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            server.Address = Multiaddress.Parse(line);
            return server;
        }
        catch (Exception e)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            if (e is TimeoutException)
            {
                throw new InvalidOperationException($"fedagg server did not print LISTENING within {options.StartTimeout.TotalSeconds} s", e);
            }

            throw;
        }
    }

    /// <summary>Sends SIGTERM and waits up to <paramref name="grace"/> for the exit; then kills the process tree.</summary>
    /// <param name="grace">How long to wait.</param>
    /// <returns>The exit code (137 when killed).</returns>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            try
            {
                using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // No kill command: fall through to the hard kill below.
            }

            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        return _process.ExitCode;
    }

    /// <summary>Stops the server (10 s grace) and deletes a temporary data directory.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            if (_ownsDirectory)
            {
                try
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: a temp folder.
                }
                catch (UnauthorizedAccessException)
                {
                    // Best effort: a temp folder.
                }
            }
        }
    }

    private static string DotnetPath()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        foreach (var variable in new[] { "DOTNET_HOST_PATH", "DOTNET_ROOT" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                var candidate = variable == "DOTNET_ROOT" ? Path.Combine(value, "dotnet") : value;
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return "dotnet";
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Count < 1000)
            {
                _output.Add(line);
            }
        }

        if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _listeningLines);
            _listening.TrySetResult(line[ListeningPrefix.Length..].Trim());
        }
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Increment(ref _errorLineCount);
        lock (_errors)
        {
            _errors.Enqueue(line);
            while (_errors.Count > MaxErrorLines)
            {
                _errors.Dequeue();
            }
        }
    }
}
