using System.Text.Json;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Core.Protocol;
using FedAgg.Server.Services;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Server.Tests.Services;

/// <summary><c>server.status</c> over <c>/fedagg/admin/1.0.0</c> against an in-process server.</summary>
public sealed class ServerStatusTests
{
    [Fact]
    public async Task ServerStatus_Coordinator_AnswersPositiveFiguresAndRetainedBytesOnlyWithCollect()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(64), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()));
        await using var coordinator = await FedAggClient.ConnectAsync(server.Address, coordinatorKey);

        var plain = await coordinator.AdminAsync("server.status", "{}");
        var collected = await coordinator.AdminAsync("server.status", """{"collect":true}""");

        Assert.Contains("server.status", AdminCommands.Names);
        Assert.True(plain.Status == ServiceStatus.Ok, plain.Reason);
        using (var json = JsonDocument.Parse(plain.ResultJson))
        {
            var root = json.RootElement;
            Assert.Equal(Environment.ProcessId, root.GetProperty("processId").GetInt32()); // the server runs in this process
            Assert.True(root.GetProperty("uptimeSeconds").GetDouble() >= 0);
            foreach (var name in new[] { "totalManagedBytes", "totalAllocatedBytes", "workingSetBytes" })
            {
                Assert.True(root.GetProperty(name).GetInt64() > 0, $"{name} should be positive: {plain.ResultJson}");
            }

            Assert.True(root.GetProperty("gcHeapBytes").GetInt64() >= 0); // figures of the last collection: 0 before the first
            Assert.True(root.GetProperty("committedBytes").GetInt64() >= 0);
            Assert.True(root.GetProperty("threads").GetInt32() > 0);
            Assert.True(root.GetProperty("gen0Collections").GetInt32() >= root.GetProperty("gen1Collections").GetInt32());
            Assert.True(root.GetProperty("gen1Collections").GetInt32() >= root.GetProperty("gen2Collections").GetInt32());
            Assert.False(root.TryGetProperty("retainedBytes", out _), "retainedBytes needs collect");
            Assert.False(root.TryGetProperty("retainedLargeObjectBytes", out _), "retainedLargeObjectBytes needs collect");
        }

        Assert.True(collected.Status == ServiceStatus.Ok, collected.Reason);
        using (var json = JsonDocument.Parse(collected.ResultJson))
        {
            var root = json.RootElement;
            var retained = root.GetProperty("retainedBytes").GetInt64();
            var large = root.GetProperty("retainedLargeObjectBytes").GetInt64();
            Assert.True(retained > 0, collected.ResultJson);
            Assert.InRange(large, 0, retained);

        }

        // The GC figures are read before the forced collection, which is a full one: the next answer counts it.
        var after = await coordinator.AdminAsync("server.status", "{}");
        using var collectedJson = JsonDocument.Parse(collected.ResultJson);
        using var afterJson = JsonDocument.Parse(after.ResultJson);
        Assert.True(afterJson.RootElement.GetProperty("gen2Collections").GetInt32() > collectedJson.RootElement.GetProperty("gen2Collections").GetInt32());
    }

    [Fact]
    public async Task ServerStatus_NotACoordinator_IsRefusedWithStatus4()
    {
        using var data = new TempDirectory();
        using var coordinatorKey = Ed25519PrivateKey.Generate();
        using var strangerKey = Ed25519PrivateKey.Generate();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(64), o => o.Coordinators.Add(coordinatorKey.PeerId.ToString()));
        await using var stranger = await FedAggClient.ConnectAsync(server.Address, strangerKey);

        var refused = await stranger.AdminAsync("server.status", """{"collect":true}""");

        Assert.Equal(ServiceStatus.NotAdmitted, refused.Status);
        Assert.Contains("not a coordinator", refused.Reason, StringComparison.Ordinal);
        Assert.Equal("", refused.ResultJson);
    }
}
