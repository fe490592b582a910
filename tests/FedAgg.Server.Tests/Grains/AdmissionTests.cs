using FedAgg.Core.Codecs;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Server.Tests.Grains;

/// <summary>The participant grain's admission: bans, allowlists, registration by address binding, rate limits.</summary>
public sealed class AdmissionTests
{
    private const int Elements = 128;

    [Fact]
    public async Task Submit_BannedPeer_NotAdmittedUntilUnbanned()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        await server.Participant(participant.PeerId.ToString()).BanAsync(TestServer.TaskId, "sent poisoned updates");

        var (banned, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
        await server.Participant(participant.PeerId.ToString()).UnbanAsync(TestServer.TaskId);
        var (admitted, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.NotAdmitted, banned.Receipt.Status);
        Assert.Contains("sent poisoned updates", banned.Receipt.Reason, StringComparison.Ordinal);
        Assert.Equal(SubmitStatus.Accepted, admitted.Receipt.Status);
    }

    [Fact]
    public async Task Submit_AllowlistPolicy_OnlyListedPeersAdmitted()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements, admission: AdmissionPolicy.Allowlist));
        var task = await server.TaskAsync();
        await using var listed = await Participant.ConnectAsync(server.Address);
        await using var stranger = await Participant.ConnectAsync(server.Address);
        await server.Participant(listed.PeerId.ToString()).SetAllowedAsync(TestServer.TaskId, true);

        var (fromListed, _, _) = await listed.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
        var (fromStranger, _, _) = await stranger.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.Accepted, fromListed.Receipt.Status);
        Assert.Equal(SubmitStatus.NotAdmitted, fromStranger.Receipt.Status);
    }

    [Fact]
    public async Task Submit_RegisteredPolicy_AdmittedOnlyAfterAValidAddressBinding()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements, admission: AdmissionPolicy.Registered));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);
        var grain = server.Participant(participant.PeerId.ToString());
        var address = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        var ledger = new byte[20];
        var signature = AddressBinding.Sign(participant.Key, 0, ledger, address);
        var forged = signature.ToArray();
        forged[0] ^= 1;

        var (unregistered, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
        var forgedBound = await grain.BindAddressAsync(new AddressBindingRecord(0, Hex.Encode(ledger), Hex.Encode(address), Hex.Encode(forged)));
        var bound = await grain.BindAddressAsync(new AddressBindingRecord(0, Hex.Encode(ledger), Hex.Encode(address), Hex.Encode(signature)));
        var (registered, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);

        Assert.Equal(SubmitStatus.NotAdmitted, unregistered.Receipt.Status);
        Assert.False(forgedBound);
        Assert.True(bound);
        Assert.Equal(SubmitStatus.Accepted, registered.Receipt.Status);
        Assert.Equal(Hex.Encode(address), (await grain.GetStatusAsync()).Binding!.Address);
    }

    [Fact]
    public async Task Submit_OverTheRateLimit_RateLimited()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements), o =>
        {
            o.MaxSubmissionsPerWindow = 2;
            o.RateLimitWindow = TimeSpan.FromHours(1);
        });
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var statuses = new List<SubmitStatus>();
        for (var i = 0; i < 3; i++)
        {
            var (result, _, _) = await participant.SubmitRandomAsync(TestServer.TaskId, 1, task.CurrentModelHash, Elements);
            statuses.Add(result.Receipt.Status);
        }

        Assert.Equal([SubmitStatus.Accepted, SubmitStatus.AlreadySubmitted, SubmitStatus.RateLimited], statuses);
    }
}
