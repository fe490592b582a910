using FedAgg.Cli.Tests.Support;

namespace FedAgg.Cli.Tests;

/// <summary><c>fedagg admin</c> against a real <c>fedagg server --dev</c> process: tables, --json, refusals and their exit codes.</summary>
public sealed class AdminCommandTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Admin_DevServer_ListsShowsAndRefusesWithClearErrors()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        await using var server = RunningCli.Start(directory.Path, "server", "--dev", "--chain", "none", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0", "--dev-elements", "64");
        var address = await server.WaitForListeningAsync(Wait);

        var list = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "task", "list"));
        Assert.True(list.ExitCode == 0, list.Describe());
        var lines = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("TASK", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^demo\s+trimmed-mean\s+64\s+open\s+1\s+0\s+0x", lines[1]);

        var json = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "--json", "task", "show", "demo"));
        Assert.True(json.ExitCode == 0, json.Describe());
        using (var document = System.Text.Json.JsonDocument.Parse(json.StandardOutput))
        {
            Assert.Equal("open", document.RootElement.GetProperty("latestRound").GetProperty("phase").GetString());
            Assert.Equal(64, document.RootElement.GetProperty("settings").GetProperty("model").GetProperty("tensors")[0].GetProperty("shape")[0].GetInt32());
        }

        var unknown = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "task", "show", "nope"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("there is no task 'nope'", unknown.StandardError, StringComparison.Ordinal);

        var tooEarly = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "round", "close", "demo"));
        Assert.Equal(2, tooEarly.ExitCode);
        Assert.Contains("fewer than the task's minimum", tooEarly.StandardError, StringComparison.Ordinal);

        // Another key is not a coordinator: refused by the server, exit 2, nothing changed.
        var stranger = directory.File("stranger.key");
        Assert.Equal(0, RunningCli.RunToExit(directory.Path, "keygen", "--out", stranger).ExitCode);
        var refused = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--server", address, "--key", stranger, "round", "open", "demo"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("not a coordinator", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("is not a coordinator", server.StandardError, StringComparison.Ordinal);

        var nowhere = RunningCli.RunToExit(directory.Path, "admin", "task", "list");
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("give --data DIR", nowhere.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, await server.StopAsync(Wait));
    }

    [Fact]
    public async Task AdminServerStatus_DevServer_PrintsTheHeapTableAndJsonWithRetainedBytesOnlyWithCollect()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        await using var server = RunningCli.Start(directory.Path, "server", "--dev", "--chain", "none", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0", "--dev-elements", "64");
        await server.WaitForListeningAsync(Wait);

        var json = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "--json", "server", "status", "--collect"));
        var table = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--data", data, "server", "status"));

        Assert.True(table.ExitCode == 0, table.Describe());
        Assert.Matches(@"(?m)^uptime\s+\d\d:\d\d:\d\d$", table.StandardOutput);
        Assert.Matches(@"(?m)^gc heap\s+\d+\.\d MiB \(\d+ bytes\)$", table.StandardOutput);
        Assert.Matches(@"(?m)^collections\s+gen0 \d+, gen1 \d+, gen2 \d+$", table.StandardOutput);
        Assert.Matches(@"(?m)^threads\s+[1-9]\d*$", table.StandardOutput);
        Assert.DoesNotContain("retained", table.StandardOutput, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.Describe());
        using var document = System.Text.Json.JsonDocument.Parse(json.StandardOutput);
        var root = document.RootElement;
        Assert.True(root.GetProperty("retainedBytes").GetInt64() > 0, json.StandardOutput);
        Assert.True(root.GetProperty("workingSetBytes").GetInt64() > root.GetProperty("retainedBytes").GetInt64(), json.StandardOutput);
        // The figures are read before the forced collection, so the next answer (the table) counts it.
        var gen2 = int.Parse(System.Text.RegularExpressions.Regex.Match(table.StandardOutput, @"gen2 (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(gen2 > root.GetProperty("gen2Collections").GetInt32(), "--collect forces a full collection");
        Assert.Equal(0, await server.StopAsync(Wait));
    }

    [Fact]
    public async Task Admin_TaskCreate_ExampleSettingsOnAPlainServer_OpensRoundOne()
    {
        using var directory = new TempDirectory();
        var data = directory.File("data");
        var coordinatorKey = directory.File("coordinator.key");
        var keygen = RunningCli.RunToExit(directory.Path, "keygen", "--out", coordinatorKey);
        Assert.True(keygen.ExitCode == 0, keygen.Describe());
        var coordinator = keygen.StandardOutput.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).First(static w => w.StartsWith("12D3KooW", StringComparison.Ordinal));
        await using var server = RunningCli.Start(directory.Path, "server", "--chain", "none", "--data", data, "--listen", "/ip4/127.0.0.1/tcp/0", "--coordinator", coordinator);
        var address = await server.WaitForListeningAsync(Wait);
        var settings = Path.Combine(TestKit.RepositoryRoot.Path, "docs", "examples", "task-settings.json");

        var created = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--server", address, "--key", coordinatorKey, "task", "create", "--settings", settings));
        var again = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--server", address, "--key", coordinatorKey, "task", "create", "--settings", settings, "--init-seed", "2"));
        var status = await Task.Run(() => RunningCli.RunToExit(directory.Path, "admin", "--server", address, "--key", coordinatorKey, "round", "status", "mnist-mlp-1"));

        Assert.True(created.ExitCode == 0, created.Describe() + server.Describe());
        Assert.Contains("mnist-mlp-1", created.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("50890", created.StandardOutput, StringComparison.Ordinal); // 64·784 + 64 + 10·64 + 10 elements
        Assert.Equal(2, again.ExitCode); // the same id with another initial model is refused, not overwritten
        Assert.Contains("already exists", again.StandardError, StringComparison.Ordinal);
        Assert.True(status.ExitCode == 0, status.Describe());
        Assert.Matches(@"phase\s+open", status.StandardOutput);
        Assert.Equal(0, await server.StopAsync(Wait));
    }
}
