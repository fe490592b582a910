using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using FedAgg.Chain.Rpc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Chain.Devnet;

/// <summary>
/// A real local Ethereum node for development and demos: anvil (Foundry) on 127.0.0.1, its state saved every second
/// to the data folder so a restart (even after SIGKILL) continues the same chain. Stopping sends SIGTERM (anvil saves
/// its state on exit) and kills it if it does not exit in time.
/// </summary>
public sealed partial class LocalChain : IAsyncDisposable
{
    /// <summary>The private keys of anvil's ten default accounts (mnemonic "test test … junk"): public knowledge, for local chains only.</summary>
    public static readonly IReadOnlyList<string> DevelopmentKeys =
    [
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
        "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    ];

    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly ILogger _logger;

    private LocalChain(Process process, int port, ulong chainId, string statePath, ILogger logger)
    {
        _process = process;
        Port = port;
        ChainId = chainId;
        StatePath = statePath;
        _logger = logger;
    }

    /// <summary>The loopback port the node listens on.</summary>
    public int Port { get; }

    /// <summary>The chain id.</summary>
    public ulong ChainId { get; }

    /// <summary>The HTTP JSON-RPC endpoint.</summary>
    public Uri RpcUrl => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The file anvil saves its state to.</summary>
    public string StatePath { get; }

    /// <summary>Whether the anvil process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines anvil printed (for error messages).</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts anvil and returns once it answers JSON-RPC; throws <see cref="ChainException"/> with anvil's output when it does not.</summary>
    public static async Task<LocalChain> StartAsync(LocalChainOptions options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        logger ??= NullLogger.Instance;
        var anvil = FindAnvil(options.AnvilPath);
        Directory.CreateDirectory(options.DataDirectory);
        var statePath = Path.GetFullPath(Path.Combine(options.DataDirectory, "anvil-state.json"));
        var port = options.Port == 0 ? FreeLoopbackPort() : options.Port;

        var start = new ProcessStartInfo(anvil)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "--host", "127.0.0.1",
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--chain-id", options.ChainId.ToString(CultureInfo.InvariantCulture),
            "--state", statePath,
            "--state-interval", "1",
            .. options.BlockTimeSeconds is { } seconds ? ["--block-time", seconds.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ChainException($"Could not start {anvil}.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new ChainException($"Could not start {anvil}: {exception.Message}", exception);
        }

        var chain = new LocalChain(process, port, options.ChainId, statePath, logger);
        process.OutputDataReceived += (_, e) => chain.Append(e.Data);
        process.ErrorDataReceived += (_, e) => chain.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await chain.WaitUntilReadyAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await chain.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Log.LocalChainStarted(logger, chain.RpcUrl, options.ChainId, statePath, process.Id);
        return chain;
    }

    /// <summary>Stops anvil: SIGTERM (it saves its state), then a kill if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = SendSignal(_process.Id, SigTerm);
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

        Log.LocalChainStopped(_logger, RpcUrl);
    }

    /// <summary>Kills anvil at once (SIGKILL), as a crash would; the state saved in the last second survives.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    /// <summary>Finds the anvil executable: the explicit path, <c>FEDAGG_ANVIL</c>, node_modules above the app or the working directory, then PATH.</summary>
    public static string FindAnvil(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new ChainException($"anvil was not found at {explicitPath}.");
        }

        if (Environment.GetEnvironmentVariable("FEDAGG_ANVIL") is { Length: > 0 } fromEnvironment)
        {
            return File.Exists(fromEnvironment) ? fromEnvironment : throw new ChainException($"FEDAGG_ANVIL names {fromEnvironment}, which does not exist.");
        }

        var relative = Path.Combine("node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "anvil");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new ChainException(
            "anvil (Foundry's local Ethereum node) was not found: run `npm ci` in the repository root (./fedagg and ./test.sh do this), set FEDAGG_ANVIL to the executable, or put anvil on PATH.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length > 16_384)
            {
                _output.Remove(0, _output.Length - 8_192);
            }

            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var rpc = new EthereumRpcClient(RpcUrl, new EthereumRpcOptions { RequestTimeout = TimeSpan.FromSeconds(2), MaxRetries = 0 });
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new ChainException($"anvil exited with code {_process.ExitCode} before answering on {RpcUrl}:\n{RecentOutput}");
            }

            try
            {
                var chainId = await rpc.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
                if (chainId != ChainId)
                {
                    throw new ChainException($"The node on {RpcUrl} reports chain id {chainId}, not {ChainId}: another node holds the port.");
                }

                return;
            }
            catch (ChainException exception) when (exception.IsTransient)
            {
                if (stopwatch.Elapsed > timeout)
                {
                    throw new ChainException($"anvil did not answer on {RpcUrl} within {timeout.TotalSeconds:0} s:\n{RecentOutput}", exception);
                }
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
