using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Libp2p;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg admin</c>: coordinator commands over <c>/fedagg/admin/1.0.0</c>. The server and key come from
/// <c>--data DIR</c> (the <c>server.addr</c> and <c>coordinator.key</c> that <c>fedagg server --dev</c> writes there) or
/// from <c>--server MULTIADDR --key FILE</c>. Tables by default, the server's JSON with <c>--json</c>.
/// </summary>
internal static class AdminCommand
{
    private static readonly Option<DirectoryInfo?> Data = new("--data") { Description = "A server's data directory: its server.addr and coordinator.key are used", Recursive = true };
    private static readonly Option<string?> Server = new("--server") { Description = "The server's multiaddress with /p2p/<peer id>", HelpName = "multiaddr", Recursive = true };
    private static readonly Option<FileInfo?> Key = new("--key") { Description = "The coordinator's libp2p key file", HelpName = "file", Recursive = true };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the server's JSON result instead of a table", Recursive = true };

    public static Command Create()
    {
        var admin = new Command("admin", "Coordinator commands: tasks, rounds, participants, credits, server status") { Data, Server, Key, Json };

        var task = new Command("task", "Create, list and show tasks");
        var settingsFile = new Option<FileInfo>("--settings") { Description = "The task's settings (JSON, docs/PROTOCOL.md \"Task settings\")", Required = true, HelpName = "file" };
        var initScale = new Option<double>("--init-scale") { Description = "Initial weights uniform in [-scale, scale) (default 0.05)", DefaultValueFactory = _ => 0.05 };
        var initSeed = new Option<ulong>("--init-seed") { Description = "Seed of the initial weights (default 1)", DefaultValueFactory = _ => 1 };
        var noOpen = new Option<bool>("--no-open") { Description = "Do not open round 1" };
        var create = new Command("create", "Create a task (registered on the server's ledger) and open round 1") { settingsFile, initScale, initSeed, noOpen };
        create.SetAction((parse, ct) =>
        {
            JsonNode settings;
            try
            {
                settings = JsonNode.Parse(File.ReadAllText(parse.GetValue(settingsFile)!.FullName)) ?? throw new FormatException("the settings file is empty");
            }
            catch (JsonException e)
            {
                throw new FormatException($"{parse.GetValue(settingsFile)!.Name} is not JSON: {e.Message}");
            }

            var args = new JsonObject { ["settings"] = settings, ["initScale"] = parse.GetValue(initScale), ["initSeed"] = parse.GetValue(initSeed), ["noOpen"] = parse.GetValue(noOpen) };
            return RunAsync(parse, "task.create", args, PrintTask, ct);
        });
        task.Subcommands.Add(create);
        var list = new Command("list", "List the tasks");
        list.SetAction((parse, ct) => RunAsync(parse, "task.list", new JsonObject(), PrintTasks, ct));
        task.Subcommands.Add(list);
        var taskId = new Argument<string>("task") { Description = "The task id" };
        var show = new Command("show", "Show a task, its settings and its latest round") { taskId };
        show.SetAction((parse, ct) => RunAsync(parse, "task.show", new JsonObject { ["taskId"] = parse.GetValue(taskId) }, PrintTask, ct));
        task.Subcommands.Add(show);

        var round = new Command("round", "Open, close and inspect rounds");
        var openTask = new Argument<string>("task") { Description = "The task id" };
        var open = new Command("open", "Open the task's next round") { openTask };
        open.SetAction((parse, ct) => RunAsync(parse, "round.open", new JsonObject { ["taskId"] = parse.GetValue(openTask) }, PrintRound, ct));
        round.Subcommands.Add(open);
        var closeTask = new Argument<string>("task") { Description = "The task id" };
        var reason = new Option<string>("--reason") { Description = "Why (recorded in the round)", DefaultValueFactory = _ => "coordinator" };
        var close = new Command("close", "Close the task's open round now; it is then aggregated, anchored and published") { closeTask, reason };
        close.SetAction((parse, ct) => RunAsync(parse, "round.close", new JsonObject { ["taskId"] = parse.GetValue(closeTask), ["reason"] = parse.GetValue(reason) }, PrintRound, ct));
        round.Subcommands.Add(close);
        var statusTask = new Argument<string>("task") { Description = "The task id" };
        var number = new Option<ulong?>("--round") { Description = "The round (default the latest)" };
        var status = new Command("status", "A round's phase, updates and, once published, its manifest summary") { statusTask, number };
        status.SetAction((parse, ct) =>
        {
            var args = new JsonObject { ["taskId"] = parse.GetValue(statusTask) };
            if (parse.GetValue(number) is { } r)
            {
                args["round"] = r;
            }

            return RunAsync(parse, "round.status", args, PrintRoundStatus, ct);
        });
        round.Subcommands.Add(status);

        var participant = new Command("participant", "Allowlist, ban and list participants");
        var allowTask = new Argument<string>("task") { Description = "The task id" };
        var allowPeer = new Argument<string>("peer") { Description = "The participant's peer id" };
        var remove = new Option<bool>("--remove") { Description = "Take the peer off the allowlist" };
        var allow = new Command("allow", "Put a peer on a task's allowlist (admission 'allowlist')") { allowTask, allowPeer, remove };
        allow.SetAction((parse, ct) => RunAsync(parse, "participant.allow",
            new JsonObject { ["taskId"] = parse.GetValue(allowTask), ["peerId"] = parse.GetValue(allowPeer), ["remove"] = parse.GetValue(remove) }, PrintParticipant, ct));
        participant.Subcommands.Add(allow);
        var banPeer = new Argument<string>("peer") { Description = "The participant's peer id" };
        var banTask = new Option<string?>("--task") { Description = "Ban from this task only (default: every task)" };
        var banReason = new Option<string>("--reason") { Description = "Why (told to the peer)", DefaultValueFactory = _ => "banned by the coordinator" };
        var lift = new Option<bool>("--lift") { Description = "Lift the ban instead" };
        var ban = new Command("ban", "Ban a peer (or lift its ban)") { banPeer, banTask, banReason, lift };
        ban.SetAction((parse, ct) =>
        {
            var args = new JsonObject { ["peerId"] = parse.GetValue(banPeer), ["reason"] = parse.GetValue(banReason), ["lift"] = parse.GetValue(lift) };
            if (parse.GetValue(banTask) is { } t)
            {
                args["taskId"] = t;
            }

            return RunAsync(parse, "participant.ban", args, PrintParticipant, ct);
        });
        participant.Subcommands.Add(ban);
        var listTask = new Argument<string>("task") { Description = "The task id" };
        var participants = new Command("list", "The peers a task has seen, with bans, allowlist and bound address") { listTask };
        participants.SetAction((parse, ct) => RunAsync(parse, "participant.list", new JsonObject { ["taskId"] = parse.GetValue(listTask) }, PrintParticipants, ct));
        participant.Subcommands.Add(participants);

        var credits = new Command("credits", "Credits per bound address");
        var creditsTask = new Argument<string>("task") { Description = "The task id" };
        var creditsShow = new Command("show", "Cumulative credits of the latest published round") { creditsTask };
        creditsShow.SetAction((parse, ct) => RunAsync(parse, "credits.show", new JsonObject { ["taskId"] = parse.GetValue(creditsTask) }, PrintCredits, ct));
        credits.Subcommands.Add(creditsShow);

        var server = new Command("server", "The server process itself");
        var collect = new Option<bool>("--collect") { Description = "Force a full garbage collection first and report the retained managed heap (pauses the server briefly)" };
        var serverStatus = new Command("status", "Uptime, managed heap, GC counts, working set and threads of the server process") { collect };
        serverStatus.SetAction((parse, ct) => RunAsync(parse, "server.status", new JsonObject { ["collect"] = parse.GetValue(collect) }, PrintServerStatus, ct));
        server.Subcommands.Add(serverStatus);

        admin.Subcommands.Add(task);
        admin.Subcommands.Add(round);
        admin.Subcommands.Add(participant);
        admin.Subcommands.Add(credits);
        admin.Subcommands.Add(server);
        return admin;
    }

    /// <summary>Resolves the server address and key from <c>--data</c> or <c>--server/--key</c>.</summary>
    internal static (Multiaddress Server, string KeyFile) ResolveServer(DirectoryInfo? data, string? server, FileInfo? key, bool needKey)
    {
        string? address = server;
        string? keyFile = key?.FullName;
        if (data is not null)
        {
            var addressFile = Path.Combine(data.FullName, ServerCommand.ServerAddressFileName);
            if (address is null)
            {
                address = File.Exists(addressFile)
                    ? File.ReadLines(addressFile).FirstOrDefault(static l => l.Length > 0)
                    : throw new ArgumentException($"{addressFile} does not exist: is `fedagg server --data {data.FullName}` running? Or give --server MULTIADDR.");
            }

            keyFile ??= Path.Combine(data.FullName, ServerCommand.CoordinatorKeyFileName);
        }

        if (address is null)
        {
            throw new ArgumentException("give --data DIR (a server's data directory) or --server MULTIADDR");
        }

        if (needKey && keyFile is null)
        {
            throw new ArgumentException("give --key FILE (the coordinator's libp2p key) with --server, or --data DIR");
        }

        return Multiaddress.TryParse(address, out var parsed)
            ? (parsed, keyFile ?? "")
            : throw new ArgumentException($"'{address}' is not a multiaddress such as /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…");
    }

    private static async Task<int> RunAsync(ParseResult parse, string command, JsonObject arguments, Action<JsonElement> print, CancellationToken cancellationToken)
    {
        AdminResponse response;
        try
        {
            var (server, keyFile) = ResolveServer(parse.GetValue(Data), parse.GetValue(Server), parse.GetValue(Key), needKey: true);
            using var key = KeyFile.Load(keyFile, out _);
            await using var client = await FedAggClient.ConnectAsync(server, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            response = await client.AdminAsync(command, arguments.ToJsonString(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or KeyFileException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"fedagg admin: error: {PeerCommand.OneLine(e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is Libp2pException or FedAggProtocolException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Console.Error.WriteLine($"fedagg admin: error: the server could not be reached or answered badly: {PeerCommand.OneLine(e.Message)}");
            return 1;
        }

        if (response.Status != ServiceStatus.Ok)
        {
            Console.Error.WriteLine($"fedagg admin: {command} refused ({(uint)response.Status} {response.Status}): {PeerCommand.OneLine(response.Reason)}");
            return response.Status is ServiceStatus.Unavailable ? 1 : 2;
        }

        using var document = JsonDocument.Parse(response.ResultJson);
        if (parse.GetValue(Json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(document.RootElement, Indented));
        }
        else
        {
            print(document.RootElement);
        }

        return 0;
    }

    private static void PrintTasks(JsonElement result) =>
        Table(["TASK", "RULE", "ELEMENTS", "ADMISSION", "ROUND", "PUBLISHED", "MODEL"],
            result.GetProperty("tasks").EnumerateArray().Select(static t => new[]
            {
                S(t, "taskId"), S(t, "rule"), S(t, "elements"), S(t, "admission"), S(t, "latestRound"), S(t, "publishedRound"), Short(S(t, "currentModelHash")),
            }));

    private static void PrintTask(JsonElement result)
    {
        var task = result.GetProperty("task");
        KeyValues(
        [
            ("task", S(task, "taskId")), ("rule", S(task, "rule")), ("elements", S(task, "elements")), ("admission", S(task, "admission")),
            ("latest round", S(task, "latestRound")), ("published round", S(task, "publishedRound")), ("current model", S(task, "currentModelHash")),
            ("settings hash", S(task, "settingsHash")), ("chain", $"{S(task, "chainId")} ledger {S(task, "ledger")}"),
        ]);
        if (result.TryGetProperty("latestRound", out var round) && round.ValueKind == JsonValueKind.Object)
        {
            Console.Out.WriteLine();
            PrintRound(round);
        }
    }

    private static void PrintRound(JsonElement round) => KeyValues(
    [
        ("round", $"{S(round, "round")} of {S(round, "taskId")}"), ("phase", S(round, "phase")), ("base model", S(round, "baseModelHash")),
        ("accepted", $"{S(round, "accepted")} (min {S(round, "minParticipants")}, max {S(round, "maxParticipants")}), {S(round, "pending")} being received"),
        ("deadline", Time(round, "deadlineUnixMs")), ("closed", round.GetProperty("closedUnixMs").GetInt64() == 0 ? "-" : $"{Time(round, "closedUnixMs")} ({S(round, "closeReason")})"),
    ]);

    private static void PrintRoundStatus(JsonElement result)
    {
        PrintRound(result.GetProperty("round"));
        if (result.GetProperty("published") is { ValueKind: JsonValueKind.Object } published)
        {
            Console.Out.WriteLine();
            KeyValues(
            [
                ("model", S(published, "modelHash")), ("updates root", S(published, "updatesRoot")), ("credits root", S(published, "creditsRoot")),
                ("anchor tx", S(published, "anchorTx")), ("accepted", S(published, "accepted")),
            ]);
            Console.Out.WriteLine();
            var selected = published.GetProperty("selected").EnumerateArray().Select(static s => s.GetInt32()).ToHashSet();
            var index = 0;
            Table(["PEER", "STATUS", "USED", "CONTRIBUTION", "CREDIT", "REASON"],
                published.GetProperty("updates").EnumerateArray().Select(u =>
                {
                    var accepted = u.GetProperty("accepted").GetBoolean();
                    var used = !accepted ? "-" : selected.Count == 0 ? "all" : selected.Contains(index++) ? "yes" : "no";
                    return new[]
                    {
                        Short(S(u, "peerId")), S(u, "status"), used, u.GetProperty("contribution").GetDouble().ToString("0.###", CultureInfo.InvariantCulture), S(u, "credit"), S(u, "reason"),
                    };
                }));
        }
    }

    private static readonly string[] ParticipantHeaders = ["PEER", "BANNED", "ALLOWED", "ADDRESS", "ROUNDS", "CREDITS"];

    private static void PrintParticipant(JsonElement p) => Table(ParticipantHeaders, [ParticipantRow(p)]);

    private static void PrintParticipants(JsonElement result) =>
        Table(ParticipantHeaders, result.GetProperty("participants").EnumerateArray().Select(ParticipantRow));

    private static string[] ParticipantRow(JsonElement p)
    {
        var bans = p.GetProperty("bannedTasks").EnumerateObject().Select(static b => $"{b.Name}: {b.Value.GetString()}").ToList();
        if (p.GetProperty("bannedEverywhere").ValueKind == JsonValueKind.String)
        {
            bans.Insert(0, $"all: {p.GetProperty("bannedEverywhere").GetString()}");
        }

        var binding = p.GetProperty("binding");
        var history = p.GetProperty("credits").EnumerateArray().ToList();
        var total = history.Aggregate(System.Numerics.BigInteger.Zero, static (sum, c) => sum + System.Numerics.BigInteger.Parse(c.GetProperty("credit").GetString()!, CultureInfo.InvariantCulture));
        return
        [
            S(p, "peerId"), bans.Count == 0 ? "-" : string.Join("; ", bans),
            string.Join(",", p.GetProperty("allowedTasks").EnumerateArray().Select(static a => a.GetString())) is { Length: > 0 } allowed ? allowed : "-",
            binding.ValueKind == JsonValueKind.Object ? S(binding, "address") : "-",
            history.Count.ToString(CultureInfo.InvariantCulture), total.ToString(CultureInfo.InvariantCulture),
        ];
    }

    private static void PrintCredits(JsonElement result)
    {
        Console.Out.WriteLine($"task {S(result, "taskId")}, round {S(result, "round")}, credits root {S(result, "creditsRoot")}");
        Table(["ADDRESS", "CUMULATIVE", "PEERS"], result.GetProperty("credits").EnumerateArray().Select(static c => new[]
        {
            S(c, "address"), S(c, "cumulative"), string.Join(",", c.GetProperty("peers").EnumerateArray().Select(static p => Short(p.GetString() ?? ""))),
        }));
    }

    private static void PrintServerStatus(JsonElement result)
    {
        var items = new List<(string Key, string Value)>
        {
            ("uptime", TimeSpan.FromSeconds(Math.Floor(result.GetProperty("uptimeSeconds").GetDouble())).ToString("c", CultureInfo.InvariantCulture)),
            ("process", S(result, "processId")),
            ("gc heap", Bytes(result, "gcHeapBytes")),
            ("managed (now)", Bytes(result, "totalManagedBytes")),
        };
        if (result.TryGetProperty("retainedBytes", out _))
        {
            items.Add(("retained (after full GC)", Bytes(result, "retainedBytes")));
        }

        items.AddRange(
        [
            ("collections", $"gen0 {S(result, "gen0Collections")}, gen1 {S(result, "gen1Collections")}, gen2 {S(result, "gen2Collections")}"),
            ("allocated (total)", Bytes(result, "totalAllocatedBytes")),
            ("working set", Bytes(result, "workingSetBytes")),
            ("threads", S(result, "threads")),
        ]);
        KeyValues(items);
    }

    private static string Bytes(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var bytes)
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB ({bytes} bytes)")
            : "-";

    private static string S(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Null => "-",
            _ => value.GetRawText(),
        } : "-";

    private static string Short(string id) => id.Length > 20 ? $"{id[..10]}…{id[^6..]}" : id;

    private static string Time(JsonElement element, string name) =>
        DateTimeOffset.FromUnixTimeMilliseconds(element.GetProperty(name).GetInt64()).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void KeyValues(IReadOnlyList<(string Key, string Value)> items)
    {
        var width = items.Max(static i => i.Key.Length);
        foreach (var (key, value) in items)
        {
            Console.Out.WriteLine($"{key.PadRight(width)}  {value}");
        }
    }

    private static void Table(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        var line = new StringBuilder();
        foreach (var row in all.Prepend(headers))
        {
            line.Clear();
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            Console.Out.WriteLine(line.ToString().TrimEnd());
        }

        if (all.Count == 0)
        {
            Console.Out.WriteLine("(none)");
        }
    }
}
