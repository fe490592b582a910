using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Core.Codecs;
using FedAgg.Core.Protocol;
using FedAgg.Core.Updates;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Server.Tests.Models;

/// <summary>/fedagg/model/1.0.0 end to end.</summary>
public sealed class ModelProtocolTests
{
    [Fact]
    public async Task FetchModel_CurrentModel_BytesAreTheInitialWeightsAndHashToTheModelHash()
    {
        const int Elements = 100_000;
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (response, payload) = await participant.FetchModelAsync(TestServer.TaskId);

        Assert.Equal(ModelStatus.Ok, response.Status);
        Assert.Equal(task.CurrentModelHash, Hex.Encode(response.ModelHash.Span));
        Assert.Equal(Hex.Encode(SHA256.HashData(payload)), task.CurrentModelHash);
        Assert.Equal(MemoryMarshal.AsBytes(TestServer.InitialWeights(Elements).AsSpan()).ToArray(), payload);
        Assert.Equal((ulong)Elements, response.NumElements);
        Assert.Equal(PayloadCodec.Float32, response.Codec);
        Assert.Equal(0UL, response.Round);
        Assert.Equal(1UL, response.OpenRound);
        Assert.True(response.OpenRoundDeadlineUnixMs > (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal("""{"tensors":[{"name":"w","dtype":"F32","shape":[100000]}]}""", response.ManifestJson);
        Assert.Equal(new byte[20], response.Ledger.ToArray());
    }

    [Fact]
    public async Task FetchModel_ByHash_SameAsCurrent()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(64));
        var task = await server.TaskAsync();
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (response, payload) = await participant.FetchModelAsync(TestServer.TaskId, Hex.TryDecode(task.CurrentModelHash, 32));

        Assert.Equal(ModelStatus.Ok, response.Status);
        Assert.Equal(64 * 4, payload.Length);
    }

    [Fact]
    public async Task FetchModel_UnknownTaskOrModel_StatusAndNoPayload()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(64));
        await using var participant = await Participant.ConnectAsync(server.Address);

        var (unknownTask, taskPayload) = await participant.FetchModelAsync("nope");
        var (unknownModel, modelPayload) = await participant.FetchModelAsync(TestServer.TaskId, RandomNumberGenerator.GetBytes(32));

        Assert.Equal(ModelStatus.UnknownTask, unknownTask.Status);
        Assert.Empty(taskPayload);
        Assert.Equal(ModelStatus.UnknownModel, unknownModel.Status);
        Assert.Empty(modelPayload);
    }

    [Fact]
    public void ModelMessages_RoundTrip_AndRejectRepeatedFields()
    {
        var request = new ModelRequest("demo", RandomNumberGenerator.GetBytes(32));
        Assert.True(ModelRequest.TryDecode(request.Encode(), out var decoded, out _));
        Assert.Equal("demo", decoded.TaskId);
        Assert.Equal(request.ModelHash.ToArray(), decoded.ModelHash.ToArray());
        var repeated = request.Encode().Concat(new ModelRequest("x", default).Encode()).ToArray();
        Assert.False(ModelRequest.TryDecode(repeated, out _, out var error));
        Assert.Contains("field 1", error, StringComparison.Ordinal);

        var response = new ModelResponse
        {
            Status = ModelStatus.Ok, ModelHash = new byte[32], Round = 3, OpenRound = 4, OpenRoundDeadlineUnixMs = 5, Codec = PayloadCodec.BFloat16,
            NumElements = 6, ManifestJson = "{}", ChainId = 31337, Ledger = Enumerable.Repeat((byte)7, 20).ToArray(),
        };
        Assert.True(ModelResponse.TryDecode(response.Encode(), out var back, out _));
        Assert.Equal(response.Encode(), back.Encode());
    }
}
