using FedAgg.Libp2p.Yamux;
using FedAgg.TestKit.Time;

namespace FedAgg.Libp2p.Tests.Yamux;

public class YamuxKeepAliveTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static YamuxOptions KeepAliveOptions() => new() { KeepAliveInterval = Interval, KeepAliveTimeout = Timeout };

    [Fact]
    public async Task KeepAlive_PeerNeverAnswers_SessionEndsWithKeepAliveTimeout()
    {
        var time = new ManualTimeProvider();
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: true, KeepAliveOptions(), time);
        await using var _ = session;

        await time.WaitForTimerAsync(Interval);
        time.Advance(Interval);
        var (ping, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "keep-alive ping");
        await time.WaitForTimerAsync(Timeout);
        time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(session.Completion.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        var end = await session.Completion.Within("keep-alive timeout");
        Assert.Equal(YamuxFlags.Syn, ping.Flags);
        Assert.Equal(YamuxSessionEndReason.KeepAliveTimeout, end.Reason);
        Assert.Contains("keep-alive", end.Message, StringComparison.Ordinal);
        await peer.ReadToEndAsync().Within("the session closing the connection");
    }

    [Fact]
    public async Task KeepAlive_PeerAnswers_SessionPingsEveryIntervalAndStaysUp()
    {
        var time = new ManualTimeProvider();
        var (session, peer) = RawYamuxPeer.Start(sessionIsClient: false, KeepAliveOptions(), time);
        await using var _ = session;
        var opaques = new List<uint>();

        for (var round = 0; round < 3; round++)
        {
            await time.WaitForTimerAsync(Interval);
            time.Advance(Interval);
            var (ping, _) = await peer.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping, "keep-alive ping");
            opaques.Add(ping.Length);
            time.Advance(TimeSpan.FromSeconds(1));
            await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Ack, 0, ping.Length);
        }

        await time.WaitForTimerAsync(Interval);
        Assert.False(session.Completion.IsCompleted);
        Assert.Equal(3, opaques.Distinct().Count());
    }

    [Fact]
    public async Task KeepAlive_TwoSessions_AnswerEachOtherAndStayUp()
    {
        var time = new ManualTimeProvider();
        var options = KeepAliveOptions();
        await using var pair = YamuxPair.Start(options, options, time);

        for (var round = 0; round < 3; round++)
        {
            await time.WaitForTimerAsync(Interval, count: 2);
            time.Advance(Interval);
            await pair.Client.PingAsync(Timeouts.Token()).Within("ping through both sessions");
        }

        Assert.False(pair.Client.Completion.IsCompleted);
        Assert.False(pair.Server.Completion.IsCompleted);
    }
}
