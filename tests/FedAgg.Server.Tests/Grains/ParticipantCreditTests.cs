using System.Numerics;
using FedAgg.Server.Grains;
using FedAgg.Server.Tests.Support;

namespace FedAgg.Server.Tests.Grains;

public sealed class ParticipantCreditTests
{
    private const int Elements = 16;

    [Fact]
    public async Task RecordCredit_ManyRounds_KeepsTheLatestRecordsAndExactTotalsAcrossARestart()
    {
        using var data = new TempDirectory();
        const string peer = "12D3KooWCreditHistoryPeer";
        var rounds = ParticipantState.MaxCreditHistory + 9;
        var expected = BigInteger.Zero;
        await using (var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements)))
        {
            var grain = server.Participant(peer);
            for (var round = 1UL; round <= (ulong)rounds; round++)
            {
                // Large amounts, so the total only fits a BigInteger.
                var credit = BigInteger.Pow(10, 20) + round;
                expected += round % 3 == 0 ? BigInteger.Zero : credit;
                await grain.RecordCreditAsync(new CreditRecord("demo", round, $"0x{round:x64}", round % 3 != 0, 0.5, (round % 3 == 0 ? BigInteger.Zero : credit).ToString(), null));
            }
        }

        await using (var restarted = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements)))
        {
            var grain = restarted.Participant(peer);
            // A restart re-publishing a round records it again: no effect, for the latest round or an older one.
            await grain.RecordCreditAsync(new CreditRecord("demo", (ulong)rounds, "0xrepeat", true, 1, "999", null));
            await grain.RecordCreditAsync(new CreditRecord("demo", 3, "0xrepeat", true, 1, "999", null));
            var status = await grain.GetStatusAsync();

            Assert.Equal(ParticipantState.MaxCreditHistory, status.Credits.Count);
            Assert.Equal(Enumerable.Range(rounds - ParticipantState.MaxCreditHistory + 1, ParticipantState.MaxCreditHistory).Select(static r => (ulong)r), status.Credits.Select(static c => c.Round));
            var total = status.CreditTotals["demo"];
            Assert.Equal((ulong)rounds, total.Rounds);
            Assert.Equal((ulong)(rounds - (rounds / 3)), total.AcceptedRounds);
            Assert.Equal(expected.ToString(), total.Credits);
            Assert.Equal((ulong)rounds, total.LastRound);
        }
    }

    [Fact]
    public async Task RecordCredit_NotADecimalInteger_IsRefusedAndNothingChanges()
    {
        using var data = new TempDirectory();
        await using var server = await TestServer.StartAsync(data.Path, TestServer.Settings(Elements));
        var grain = server.Participant("12D3KooWCreditRefused");

        await Assert.ThrowsAnyAsync<ArgumentException>(() => grain.RecordCreditAsync(new CreditRecord("demo", 1, "0x01", true, 1, "-5", null)));

        var status = await grain.GetStatusAsync();
        Assert.Empty(status.Credits);
        Assert.Empty(status.CreditTotals);
    }
}
