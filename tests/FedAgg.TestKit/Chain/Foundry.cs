using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FedAgg.TestKit.Chain;

/// <summary>
/// Foundry's <c>anvil</c> and <c>cast</c> from the npm packages (<c>npm ci</c> at the repository root, which ./test.sh
/// runs): the real chain and the independent implementation the chain tests check against.
/// </summary>
public static class Foundry
{
    /// <summary>anvil's well-known first dev account (funded with 10,000 ETH on every fresh anvil).</summary>
    public const string DevKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    /// <summary>The address of <see cref="DevKey0"/>.</summary>
    public const string DevAddress0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

    /// <summary>anvil's second dev account.</summary>
    public const string DevKey1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    /// <summary>The address of <see cref="DevKey1"/>.</summary>
    public const string DevAddress1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    public static string AnvilPath => Path.Combine(RepositoryRoot.Path, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

    public static string CastPath => Path.Combine(RepositoryRoot.Path, "node_modules", "@foundry-rs", "cast-linux-amd64", "bin", "cast");

    /// <summary>Fails with how to fix it unless both binaries are installed.</summary>
    public static void RequireInstalled()
    {
        foreach (var path in new[] { AnvilPath, CastPath })
        {
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{path} is missing: run `npm ci` in {RepositoryRoot.Path} (./test.sh does this).");
            }
        }
    }

    /// <summary>Runs <c>cast</c> with <paramref name="arguments"/>; returns trimmed stdout, throws with stderr on failure.</summary>
    public static string Cast(params string[] arguments)
    {
        var result = RunCast(arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"cast {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.StandardError}\n{result.StandardOutput}");
        }

        return result.StandardOutput.Trim();
    }

    /// <summary>Runs <c>cast</c> and returns exit code, stdout and stderr (for checks that expect failures, e.g. reverts).</summary>
    public static (int ExitCode, string StandardOutput, string StandardError) RunCast(params string[] arguments)
    {
        RequireInstalled();
        var start = new ProcessStartInfo(CastPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // cast reads no config or keystore from the user's home in tests.
        start.Environment["FOUNDRY_DISABLE_NIGHTLY_WARNING"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cast {string.Join(' ', arguments)} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>A free TCP port on 127.0.0.1 (bound and released; the caller binds it next).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A real anvil on a free loopback port, stopped (killed) on dispose.</summary>
public sealed class AnvilInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AnvilInstance(Process process, int port, ulong chainId)
    {
        _process = process;
        Port = port;
        ChainId = chainId;
    }

    public int Port { get; }

    public ulong ChainId { get; }

    public string RpcUrl => $"http://127.0.0.1:{Port}";

    /// <summary>What anvil printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts anvil and waits until it answers <c>eth_chainId</c>.</summary>
    /// <param name="chainId">The chain id (anvil's default is 31337).</param>
    /// <param name="extraArguments">More anvil arguments, e.g. <c>--state FILE --state-interval 1</c> or <c>--no-mining</c>.</param>
    public static async Task<AnvilInstance> StartAsync(ulong chainId = 31337, params string[] extraArguments)
    {
        Foundry.RequireInstalled();
        for (var attempt = 0; ; attempt++)
        {
            var port = Foundry.FreeLoopbackPort();
            var start = new ProcessStartInfo(Foundry.AnvilPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in (string[])["--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         "--chain-id", chainId.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extraArguments])
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            var instance = new AnvilInstance(process, port, chainId);
            process.OutputDataReceived += (_, e) => instance.Append(e.Data);
            process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await instance.WaitUntilReadyAsync(TimeSpan.FromSeconds(20)))
            {
                return instance;
            }

            var output = instance.Output;
            await instance.DisposeAsync();
            if (attempt == 2)
            {
                throw new InvalidOperationException($"anvil did not answer on 127.0.0.1:{port} within 20 s:\n{output}");
            }
        }
    }

    /// <summary>Sends one JSON-RPC request and returns the <c>result</c> element (throws on a JSON-RPC error).</summary>
    public async Task<JsonElement> RpcAsync(string method, params object[] parameters)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        using var response = await client.PostAsync(new Uri(RpcUrl), new StringContent(body, Encoding.UTF8, "application/json"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (document.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method} failed: {error}");
        }

        return document.RootElement.GetProperty("result").Clone();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task<bool> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                var id = await RpcAsync("eth_chainId");
                return id.GetString() is not null;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }
}
