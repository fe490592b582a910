using System.Security.Cryptography;
using FedAgg.Cli.Tests.Support;
using FedAgg.Client;
using FedAgg.Core.Protocol;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;

namespace FedAgg.Cli.Tests.EndToEnd;

/// <summary>What the end-to-end tests share: preimages for the demo task and waiting for a round's publication.</summary>
internal static class EndToEndSupport
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    /// <summary>A preimage of <paramref name="payload"/> (float32) for the open round of the demo task, on top of <paramref name="model"/>.</summary>
    public static UpdatePreimage Preimage(ModelResponse model, byte[] payload) => new()
    {
        ChainId = model.ChainId,
        Ledger = model.Ledger,
        TaskId = "demo",
        Round = model.OpenRound,
        BaseModelHash = model.ModelHash,
        Codec = PayloadCodec.Float32,
        NumElements = (ulong)(payload.Length / 4),
        PayloadSha256 = SHA256.HashData(payload),
        NumSamples = 1,
        Nonce = RandomNumberGenerator.GetBytes(16),
        ExpiresUnixMs = (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(),
    };

    /// <summary>Polls <c>/fedagg/round</c> until round <paramref name="round"/> of the demo task is published.</summary>
    public static async Task<RoundManifest> WaitForPublishedAsync(FedAggClient client, ulong round, RunningCli server)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var download = await client.FetchRoundAsync("demo", round, CancellationToken.None);
            if (download.Response.Status == ServiceStatus.Ok)
            {
                return download.Manifest!;
            }

            Assert.True(download.Response.Status == ServiceStatus.UnknownRound, $"{download.Response.Status}: {download.Response.Reason}\n{server.Describe()}");
            Assert.False(timeout.IsCancellationRequested, $"round {round} was not published within {Wait.TotalSeconds} s\n{server.Describe()}");
            await Task.Delay(100, CancellationToken.None);
        }
    }
}
