using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using FedAgg.Verification;

namespace FedAgg.Server.Services;

/// <summary>An admin command that failed with a protocol status (docs/PROTOCOL.md, <c>/fedagg/admin/1.0.0</c>).</summary>
/// <param name="status">The status to answer with.</param>
/// <param name="message">Why.</param>
public sealed class AdminCommandException(ServiceStatus status, string message) : Exception(message)
{
    /// <summary>The status to answer with.</summary>
    public ServiceStatus Status { get; } = status;
}

/// <summary>
/// What a coordinator can do (the commands of <c>/fedagg/admin/1.0.0</c>), over the admin grain and the server. Results are
/// JSON objects (camelCase); see <see cref="Names"/> for the commands and docs/PROTOCOL.md for their arguments.
/// </summary>
/// <param name="server">The server the commands act on.</param>
/// <param name="options">The server's options.</param>
/// <param name="timeProvider">The clock <c>server.status</c> measures uptime with (default the system's); uptime counts from construction, which the server does as it starts.</param>
public sealed class AdminCommands(FedAggServer server, FedAggServerOptions options, TimeProvider? timeProvider = null)
{
    /// <summary>The commands, in the order the CLI lists them.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "task.create", "task.list", "task.show", "round.open", "round.close", "round.status",
        "participant.allow", "participant.ban", "participant.list", "credits.show", "server.status",
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly long _started = (timeProvider ?? TimeProvider.System).GetTimestamp();

    private IAdminGrain Admin => server.Grains.GetGrain<IAdminGrain>(AdminGrain.Key);

    /// <summary>Runs <paramref name="command"/> with <paramref name="argumentsJson"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="argumentsJson">Its arguments (a JSON object).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The result as JSON.</returns>
    /// <exception cref="AdminCommandException">The command is unknown, malformed or refused.</exception>
    public async Task<string> RunAsync(string command, string argumentsJson, CancellationToken cancellationToken)
    {
        JsonElement args;
        try
        {
            using var document = JsonDocument.Parse(argumentsJson);
            args = document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw new AdminCommandException(ServiceStatus.Malformed, "the arguments must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new AdminCommandException(ServiceStatus.Malformed, $"the arguments are not JSON: {e.Message}");
        }

        try
        {
            object result = command switch
            {
                "task.create" => await CreateTaskAsync(args, cancellationToken).ConfigureAwait(false),
                "task.list" => await ListTasksAsync().ConfigureAwait(false),
                "task.show" => await ShowTaskAsync(RequireString(args, "taskId")).ConfigureAwait(false),
                "round.open" => RoundJson(await Admin.OpenRoundAsync(RequireString(args, "taskId")).ConfigureAwait(false)),
                "round.close" => RoundJson(await Admin.CloseRoundAsync(RequireString(args, "taskId"), OptionalString(args, "reason") ?? "coordinator").ConfigureAwait(false)),
                "round.status" => await RoundStatusAsync(RequireString(args, "taskId"), OptionalUInt64(args, "round")).ConfigureAwait(false),
                "participant.allow" => await Admin.SetAllowedAsync(RequireString(args, "taskId"), RequireString(args, "peerId"), !OptionalBool(args, "remove")).ConfigureAwait(false),
                "participant.ban" => await Admin.SetBannedAsync(
                    OptionalString(args, "taskId"), RequireString(args, "peerId"),
                    OptionalBool(args, "lift") ? null : OptionalString(args, "reason") ?? "banned by the coordinator").ConfigureAwait(false),
                "participant.list" => await ListParticipantsAsync(RequireString(args, "taskId")).ConfigureAwait(false),
                "credits.show" => await CreditsAsync(RequireString(args, "taskId"), cancellationToken).ConfigureAwait(false),
                "server.status" => ServerStatus(OptionalBool(args, "collect")),
                _ => throw new AdminCommandException(ServiceStatus.UnknownCommand, $"there is no command '{command}'; the commands are {string.Join(", ", Names)}"),
            };
            return JsonSerializer.Serialize(result, Json);
        }
        catch (KeyNotFoundException e)
        {
            throw new AdminCommandException(ServiceStatus.UnknownTask, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new AdminCommandException(ServiceStatus.Refused, e.Message);
        }
    }

    private async Task<object> CreateTaskAsync(JsonElement args, CancellationToken cancellationToken)
    {
        if (!args.TryGetProperty("settings", out var settingsJson) || settingsJson.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("task.create needs 'settings': the task's settings object (docs/PROTOCOL.md, \"Task settings\")");
        }

        var settings = TaskSettings.Read(settingsJson, "settings");
        settings.Validate();
        var scale = args.TryGetProperty("initScale", out var s) && s.TryGetDouble(out var value) ? value : 0.05;
        var seed = OptionalUInt64(args, "initSeed") ?? 1;
        if (!double.IsFinite(scale) || scale < 0 || scale > 1e6)
        {
            throw new ArgumentException($"initScale must be a finite number between 0 and 1e6; it is {scale}");
        }

        var weights = InitialWeights(settings.Model.NumElements, (float)scale, seed);
        await server.CreateTaskAsync(settings, weights, cancellationToken).ConfigureAwait(false);
        if (!OptionalBool(args, "noOpen"))
        {
            await Admin.OpenRoundAsync(settings.TaskId).ConfigureAwait(false);
        }

        return await ShowTaskAsync(settings.TaskId).ConfigureAwait(false);
    }

    /// <summary>The initial weights <c>task.create</c> uses: uniform in [−scale, scale) from SplitMix64(seed), so anyone can recreate them.</summary>
    /// <param name="elements">The model's size.</param>
    /// <param name="scale">The half-width.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The weights.</returns>
    public static float[] InitialWeights(long elements, float scale, ulong seed)
    {
        if (elements > Array.MaxLength)
        {
            throw new ArgumentException($"a model of {elements} elements is more than one task can be created with here");
        }

        var weights = new float[elements];
        var random = new Core.SplitMix64(seed);
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return weights;
    }

    private async Task<object> ListTasksAsync()
    {
        var tasks = new List<object>();
        foreach (var taskId in await Admin.ListTasksAsync().ConfigureAwait(false))
        {
            if (await server.Grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false) is { } task)
            {
                tasks.Add(Summary(task));
            }
        }

        return new { tasks };
    }

    private async Task<object> ShowTaskAsync(string taskId)
    {
        var task = await RequireTaskAsync(taskId).ConfigureAwait(false);
        var round = task.LatestRound == 0
            ? null
            : RoundJson(await server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, task.LatestRound)).GetStatusAsync().ConfigureAwait(false));
        return new
        {
            task = Summary(task),
            settings = JsonNode.Parse(task.Settings.ToJsonUtf8()),
            initialModelHash = task.InitialModelHash,
            models = task.Models,
            latestRound = round,
        };
    }

    private async Task<object> RoundStatusAsync(string taskId, ulong? round)
    {
        var task = await RequireTaskAsync(taskId).ConfigureAwait(false);
        var number = round ?? task.LatestRound;
        if (number == 0 || number > task.LatestRound)
        {
            throw new InvalidOperationException($"task '{taskId}' has no round {number} (latest: {task.LatestRound})");
        }

        var status = await server.Grains.GetGrain<IRoundGrain>(RoundKey.Of(taskId, number)).GetStatusAsync().ConfigureAwait(false);
        var path = RoundDataLayout.ManifestPath(options.DataPath, taskId, number);
        object? published = null;
        if (number <= task.CurrentModelRound && File.Exists(path))
        {
            var manifest = await RoundManifestJson.ReadFileAsync(path, CancellationToken.None).ConfigureAwait(false);
            published = new
            {
                modelHash = manifest.ModelHash.ToString(),
                updatesRoot = manifest.UpdatesRoot.ToString(),
                creditsRoot = manifest.CreditsRoot.ToString(),
                anchorTx = manifest.AnchorTx?.ToString(),
                accepted = manifest.AcceptedCount,
                selected = manifest.Aggregation.Selected,
                excluded = manifest.Aggregation.Excluded.Select(static e => new { index = e.Index, reason = e.Reason }),
                updates = manifest.Updates.Select(static u => new
                {
                    updateId = u.UpdateId.ToString(),
                    peerId = u.PeerId,
                    accepted = u.Accepted,
                    status = (uint)u.Status,
                    reason = u.Reason,
                    contribution = u.Contribution,
                    credit = u.Credit.ToString(CultureInfo.InvariantCulture),
                }),
            };
        }

        return new { round = RoundJson(status), published };
    }

    private async Task<object> ListParticipantsAsync(string taskId)
    {
        await RequireTaskAsync(taskId).ConfigureAwait(false);
        return new { participants = await Admin.ListParticipantsAsync(taskId).ConfigureAwait(false) };
    }

    private async Task<object> CreditsAsync(string taskId, CancellationToken cancellationToken)
    {
        var task = await RequireTaskAsync(taskId).ConfigureAwait(false);
        if (task.CurrentModelRound == 0)
        {
            return new { taskId, round = 0UL, creditsRoot = (string?)null, credits = Array.Empty<object>() };
        }

        var manifest = await RoundManifestJson.ReadFileAsync(RoundDataLayout.ManifestPath(options.DataPath, taskId, task.CurrentModelRound), cancellationToken).ConfigureAwait(false);
        var peersByAddress = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        for (var r = 1UL; r <= task.CurrentModelRound; r++)
        {
            var m = r == task.CurrentModelRound ? manifest : await RoundManifestJson.ReadFileAsync(RoundDataLayout.ManifestPath(options.DataPath, taskId, r), cancellationToken).ConfigureAwait(false);
            foreach (var update in m.Updates.Where(static u => !u.BoundAddress.IsEmpty))
            {
                var address = Core.Codecs.Hex.Encode(update.BoundAddress.Span);
                if (!peersByAddress.TryGetValue(address, out var peers))
                {
                    peersByAddress[address] = peers = new SortedSet<string>(StringComparer.Ordinal);
                }

                peers.Add(update.PeerId);
            }
        }

        return new
        {
            taskId,
            round = manifest.Round,
            creditsRoot = manifest.CreditsRoot.ToString(),
            credits = manifest.Credits.Select(c =>
            {
                var address = Core.Codecs.Hex.Encode(c.Account.Span);
                return new
                {
                    address,
                    cumulative = c.CumulativeAmount.ToString(CultureInfo.InvariantCulture),
                    peers = peersByAddress.TryGetValue(address, out var peers) ? peers.ToArray() : [],
                };
            }),
        };
    }

    /// <summary>
    /// <c>server.status</c>: the process's managed heap and resources, so a load test can tell GC heap sizing from
    /// retention. The GC figures are read before the optional forced collection; <c>retainedBytes</c> (the live managed
    /// bytes after a full, blocking collection) and <c>retainedLargeObjectBytes</c> (the part on the large- and
    /// pinned-object heaps) only with <c>collect</c>, since that collection pauses the server.
    /// </summary>
    private ServerStatusResult ServerStatus(bool collect)
    {
        var info = GC.GetGCMemoryInfo();
        var status = new ServerStatusResult
        {
            UptimeSeconds = Math.Round(_time.GetElapsedTime(_started).TotalSeconds, 3),
            ProcessId = Environment.ProcessId,
            GcHeapBytes = info.HeapSizeBytes,
            TotalManagedBytes = GC.GetTotalMemory(forceFullCollection: false),
            FragmentedBytes = info.FragmentedBytes,
            CommittedBytes = info.TotalCommittedBytes,
            Gen0Collections = GC.CollectionCount(0),
            Gen1Collections = GC.CollectionCount(1),
            Gen2Collections = GC.CollectionCount(2),
            TotalAllocatedBytes = GC.GetTotalAllocatedBytes(precise: false),
            WorkingSetBytes = Environment.WorkingSet,
            Threads = CurrentThreads(),
        };
        if (!collect)
        {
            return status;
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true);

        // Large (≥ 85,000 bytes) and pinned objects are mostly pooled buffers that come and go in whole megabytes, which
        // would drown growth of a few KiB per round; reported apart so a leak check can look at the small-object heap.
        var full = GC.GetGCMemoryInfo(GCKind.FullBlocking).GenerationInfo;
        return status with { RetainedBytes = retained, RetainedLargeObjectBytes = full.Length > 4 ? full[3].SizeAfterBytes + full[4].SizeAfterBytes : null };
    }

    private static int CurrentThreads()
    {
        using var process = Process.GetCurrentProcess();
        return process.Threads.Count;
    }

    private async Task<TaskInfo> RequireTaskAsync(string taskId) =>
        await server.Grains.GetGrain<ITaskGrain>(taskId).GetInfoAsync().ConfigureAwait(false) ?? throw new KeyNotFoundException($"there is no task '{taskId}'");

    private static object Summary(TaskInfo task) => new
    {
        taskId = task.TaskId,
        rule = task.Settings.Rule.Name,
        elements = task.Settings.Model.NumElements,
        admission = task.Settings.Admission.ToString().ToLowerInvariant(),
        latestRound = task.LatestRound,
        publishedRound = task.CurrentModelRound,
        currentModelHash = task.CurrentModelHash,
        settingsHash = task.SettingsHash,
        chainId = task.ChainId,
        ledger = task.Ledger,
    };

    private static object RoundJson(RoundStatus status) => new
    {
        taskId = status.TaskId,
        round = status.Round,
        phase = status.Phase.ToString().ToLowerInvariant(),
        baseModelHash = status.BaseModelHash,
        openedUnixMs = status.OpenedUnixMs,
        deadlineUnixMs = status.DeadlineUnixMs,
        minParticipants = status.MinParticipants,
        maxParticipants = status.MaxParticipants,
        accepted = status.Updates.Count,
        pending = status.Pending,
        closeReason = status.CloseReason,
        closedUnixMs = status.ClosedUnixMs,
    };

    private static string RequireString(JsonElement args, string name) =>
        OptionalString(args, name) ?? throw new ArgumentException($"the argument '{name}' (a non-empty string) is required");

    private static string? OptionalString(JsonElement args, string name) =>
        args.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static ulong? OptionalUInt64(JsonElement args, string name) =>
        !args.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.TryGetUInt64(out var number) ? number
        : throw new ArgumentException($"the argument '{name}' must be a non-negative integer");

    private static bool OptionalBool(JsonElement args, string name) =>
        args.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}

/// <summary>The result of <c>server.status</c> (docs/PROTOCOL.md, <c>/fedagg/admin/1.0.0</c>), serialized in camelCase.</summary>
internal sealed record ServerStatusResult
{
    /// <summary>Seconds since the server started serving.</summary>
    public double UptimeSeconds { get; init; }

    /// <summary>The server's process id.</summary>
    public int ProcessId { get; init; }

    /// <summary>The GC heap's size at the last collection (<see cref="GCMemoryInfo.HeapSizeBytes"/>).</summary>
    public long GcHeapBytes { get; init; }

    /// <summary>Bytes the GC thinks are allocated now (<see cref="GC.GetTotalMemory"/> without a collection).</summary>
    public long TotalManagedBytes { get; init; }

    /// <summary>Free space inside the heap at the last collection.</summary>
    public long FragmentedBytes { get; init; }

    /// <summary>Memory the GC has committed.</summary>
    public long CommittedBytes { get; init; }

    /// <summary>Generation 0 collections so far.</summary>
    public int Gen0Collections { get; init; }

    /// <summary>Generation 1 collections so far.</summary>
    public int Gen1Collections { get; init; }

    /// <summary>Generation 2 (full) collections so far.</summary>
    public int Gen2Collections { get; init; }

    /// <summary>Bytes allocated since the process started.</summary>
    public long TotalAllocatedBytes { get; init; }

    /// <summary>The process's working set.</summary>
    public long WorkingSetBytes { get; init; }

    /// <summary>The process's threads.</summary>
    public int Threads { get; init; }

    /// <summary>Live managed bytes after a forced full collection; null unless <c>collect</c> was asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? RetainedBytes { get; init; }

    /// <summary>Of <see cref="RetainedBytes"/>, the large- and pinned-object heaps after that collection; null unless <c>collect</c> was asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? RetainedLargeObjectBytes { get; init; }
}
