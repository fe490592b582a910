using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedAgg.TestKit.Processes;

namespace FedAgg.TestKit.Libp2p;

/// <summary>
/// A long-running js-libp2p 3.x peer (<c>tests/FedAgg.Libp2p.Tests/Interop/js/peer.mjs listen</c>) listening on
/// 127.0.0.1, the independent implementation the C# libp2p stack is checked against. Commands go to its stdin as JSON
/// lines and answers come back matched by id; every wait has a timeout and fails with the peer's recent stderr.
/// Disposing asks it to quit and kills its process tree if it has not exited within two seconds.
/// </summary>
public sealed class JsPeer : IAsyncDisposable
{
    /// <summary>The test protocol the js peer serves: uvarint length-prefixed messages echoed until the remote's FIN.</summary>
    public const string EchoProtocol = "/fedagg/test/echo/1.0.0";

    /// <summary>The test protocol the js peer serves: raw bytes echoed until the remote's FIN.</summary>
    public const string RawEchoProtocol = "/fedagg/test/rawecho/1.0.0";

    /// <summary>
    /// The test protocol the js peer serves: one length-prefixed JSON request <c>{"bytes":N,"end":"close"|"reset"}</c>,
    /// answered by N raw bytes (byte i = i % 251) and then a FIN or a reset.
    /// </summary>
    public const string SourceProtocol = "/fedagg/test/source/1.0.0";

    /// <summary>The default wait for a command's answer.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const int StderrLines = 200;

    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<JsonObject> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private int _nextId;

    private JsPeer(Process process)
    {
        _process = process;
        _stdoutPump = Task.Run(PumpStdoutAsync);
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    /// <summary>The script, in the repository's source tree (node resolves its imports from the root's node_modules).</summary>
    public static string ScriptPath => System.IO.Path.Combine(RepositoryRoot.Path, "tests", "FedAgg.Libp2p.Tests", "Interop", "js", "peer.mjs");

    /// <summary>The js peer's peer id.</summary>
    public string PeerId { get; private set; } = string.Empty;

    /// <summary>Its listen addresses, each ending in <c>/p2p/</c><see cref="PeerId"/>.</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <summary>The first listen address with its <c>/p2p/</c> suffix.</summary>
    public string Address => Addresses[0];

    /// <summary>The agent version it announces in identify, when one was set at start.</summary>
    public string? AgentVersion { get; private set; }

    /// <summary>The js peer's recent stderr, for failure messages.</summary>
    public string RecentStderr => string.Join('\n', _stderr);

    /// <summary>
    /// Starts the peer and waits until it listens. <paramref name="seedHex"/> (a 32-byte Ed25519 seed in hex) fixes its
    /// identity; without it js generates one. <paramref name="agentVersion"/> sets what identify announces.
    /// </summary>
    public static async Task<JsPeer> StartAsync(string? seedHex = null, string? agentVersion = null, TimeSpan? timeout = null)
    {
        RequireInstalled();
        var start = new ProcessStartInfo(NodeRunner.Executable)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(ScriptPath);
        start.ArgumentList.Add("listen");
        if (seedHex is not null)
        {
            start.ArgumentList.Add("--key");
            start.ArgumentList.Add(seedHex);
        }

        if (agentVersion is not null)
        {
            start.ArgumentList.Add("--agent");
            start.ArgumentList.Add(agentVersion);
        }

        var process = NodeRunner.StartScript(start, ScriptPath);

        var peer = new JsPeer(process);
        try
        {
            var wait = timeout ?? DefaultTimeout;
            JsonObject listening;
            try
            {
                listening = await peer._listening.Task.WaitAsync(wait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"The js-libp2p peer did not report listening within {wait.TotalSeconds} s.\nstderr:\n{peer.RecentStderr}");
            }

            peer.PeerId = listening["peerId"]!.GetValue<string>();
            peer.Addresses = listening["addrs"]!.AsArray().Select(static a => a!.GetValue<string>()).ToList();
            peer.AgentVersion = listening["agentVersion"]?.GetValue<string>();
            if (peer.Addresses.Count == 0)
            {
                throw new InvalidOperationException($"The js-libp2p peer listens on no address.\nstderr:\n{peer.RecentStderr}");
            }

            return peer;
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <c>peer.mjs dial &lt;address&gt; --cases …</c> once (a fresh js peer that only dials) and returns its exit code,
    /// the JSON line of each case, and stderr. The process is killed after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, IReadOnlyList<JsonObject> Cases, string StandardError)> RunDialAsync(
        string address, IEnumerable<string> cases, TimeSpan timeout)
    {
        RequireInstalled();
        var start = new ProcessStartInfo(NodeRunner.Executable)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(ScriptPath);
        start.ArgumentList.Add("dial");
        start.ArgumentList.Add(address);
        start.ArgumentList.Add("--cases");
        start.ArgumentList.Add(string.Join(',', cases));
        using var process = NodeRunner.StartScript(start, ScriptPath);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            throw new TimeoutException($"peer.mjs dial {address} did not finish within {timeout.TotalSeconds} s.\nstdout:\n{await stdout.ConfigureAwait(false)}\nstderr:\n{await stderr.ConfigureAwait(false)}");
        }

        var lines = (await stdout.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var results = lines.Select(static l => JsonNode.Parse(l)!.AsObject()).Where(static o => o["case"] is not null).ToList();
        return (process.ExitCode, results, await stderr.ConfigureAwait(false));
    }

    /// <summary>Fails, saying how to fix it, unless the js-libp2p packages are installed in the repository's node_modules.</summary>
    public static void RequireInstalled()
    {
        foreach (var package in (string[])["libp2p", "@libp2p/tcp", "@chainsafe/libp2p-noise", "@chainsafe/libp2p-yamux", "@libp2p/identify", "@libp2p/ping"])
        {
            var manifest = System.IO.Path.Combine(RepositoryRoot.Path, "node_modules", package, "package.json");
            if (!File.Exists(manifest))
            {
                throw new InvalidOperationException(
                    $"{manifest} is missing: run `npm ci` in {RepositoryRoot.Path} (./test.sh does this) to install js-libp2p for the interop tests.");
            }
        }
    }

    /// <summary>
    /// Sends one command (<c>cmd</c> plus its arguments) and returns the whole answer, whether <c>ok</c> is true or
    /// false; throws <see cref="TimeoutException"/> with the peer's stderr when no answer comes within the timeout.
    /// </summary>
    public async Task<JsonObject> SendAsync(string command, object? arguments = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var request = arguments is null ? new JsonObject() : JsonSerializer.SerializeToNode(arguments)!.AsObject();
        request["id"] = id;
        request["cmd"] = command;
        var wait = timeout ?? DefaultTimeout;
        request["timeoutMs"] = (int)wait.TotalMilliseconds;
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The js-libp2p peer exited with {_process.ExitCode}.\nstderr:\n{RecentStderr}");
            }

            await _process.StandardInput.WriteLineAsync(request.ToJsonString()).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        try
        {
            // The js side times the command out itself; this wait is a little longer so its error wins.
            return await answer.Task.WaitAsync(wait + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The js-libp2p peer did not answer {request.ToJsonString()} within {wait.TotalSeconds} s.\nstderr:\n{RecentStderr}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary><see cref="SendAsync"/>, failing with the js error and stderr unless the answer has <c>ok: true</c>.</summary>
    public async Task<JsonObject> RunAsync(string command, object? arguments = null, TimeSpan? timeout = null)
    {
        var answer = await SendAsync(command, arguments, timeout).ConfigureAwait(false);
        if (answer["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"js-libp2p command {command} failed: {answer["error"]?.ToJsonString()}\nstderr:\n{RecentStderr}");
        }

        return answer;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    await _process.StandardInput.WriteLineAsync("""{"cmd":"quit"}""").ConfigureAwait(false);
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // It is already gone.
                }
                finally
                {
                    _writeLock.Release();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().ConfigureAwait(false);
                }
            }

            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The process never started or was already disposed.
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new InvalidOperationException($"The js-libp2p peer stopped.\nstderr:\n{RecentStderr}"));
            }

            _process.Dispose();
            _writeLock.Dispose();
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                JsonObject? message;
                try
                {
                    message = JsonNode.Parse(line)?.AsObject();
                }
                catch (JsonException)
                {
                    AddStderr($"(stdout, not JSON) {line}");
                    continue;
                }

                if (message is null)
                {
                    continue;
                }

                if (message["event"]?.GetValue<string>() == "listening")
                {
                    _listening.TrySetResult(message);
                }
                else if (message["id"] is { } id && _pending.TryGetValue(id.GetValue<int>(), out var answer))
                {
                    answer.TrySetResult(message);
                }
                else
                {
                    AddStderr($"(stdout, unmatched) {line}");
                }
            }
        }
        finally
        {
            var exit = new InvalidOperationException($"The js-libp2p peer closed its stdout (exited).\nstderr:\n{RecentStderr}");
            _listening.TrySetException(exit);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(exit);
            }
        }
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            AddStderr(line);
        }
    }

    private void AddStderr(string line)
    {
        _stderr.Enqueue(line);
        while (_stderr.Count > StderrLines && _stderr.TryDequeue(out _))
        {
        }
    }
}
