using System.Collections.Concurrent;
using FedAgg.TestKit.Time;

namespace FedAgg.Grains.Tests.TestSupport;

/// <summary>The fake clock every timer test stands on: <see cref="ManualTimeProvider"/> from the TestKit.</summary>
public sealed class ManualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void Constructor_NoStart_StartsAtDefaultStartInUtc()
    {
        var clock = new ManualTimeProvider();

        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), clock.GetUtcNow());
        Assert.Equal(ManualTimeProvider.DefaultStart, clock.GetUtcNow());
        Assert.Equal(TimeZoneInfo.Utc, clock.LocalTimeZone);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Advance_Timestamps_FollowTheClockExactly()
    {
        var clock = new ManualTimeProvider(Start);
        var started = clock.GetTimestamp();

        clock.Advance(TimeSpan.FromMilliseconds(42));

        Assert.Equal(TimeSpan.FromMilliseconds(42), clock.GetElapsedTime(started));
        Assert.Equal(Start + TimeSpan.FromMilliseconds(42), clock.GetUtcNow());
    }

    [Fact]
    public void Advance_Negative_ThrowsAndLeavesTheClock()
    {
        var clock = new ManualTimeProvider(Start);

        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromTicks(-1)));
        Assert.Equal(Start, clock.GetUtcNow());
    }

    [Fact]
    public void Advance_TimersArmedOutOfOrder_FireInDueOrderWithTheClockAtEachDueTime()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<(string Name, DateTimeOffset At)>();
        using var late = clock.CreateTimer(_ => fired.Add(("late", clock.GetUtcNow())), null, TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        using var early = clock.CreateTimer(_ => fired.Add(("early", clock.GetUtcNow())), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        using var middle = clock.CreateTimer(_ => fired.Add(("middle", clock.GetUtcNow())), null, TimeSpan.FromSeconds(20), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(
            [("early", Start.AddSeconds(10)), ("middle", Start.AddSeconds(20)), ("late", Start.AddSeconds(30))],
            fired);
        Assert.Equal(Start.AddMinutes(1), clock.GetUtcNow());
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Advance_OneTickShortOfDue_FiresNothingThenTheLastTickFires()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.Equal(0, fired);
        Assert.Equal(1, clock.ArmedTimerCount);
        clock.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(1, fired);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Advance_TimersDueAtTheSameInstant_FireInTheOrderTheyWereLastArmed()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<string>();
        using var a = clock.CreateTimer(_ => fired.Add("a"), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        using var b = clock.CreateTimer(_ => fired.Add("b"), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        using var c = clock.CreateTimer(_ => fired.Add("c"), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        Assert.True(a.Change(TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan));

        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(["b", "c", "a"], fired);
    }

    [Fact]
    public void Advance_PeriodicTimer_FiresOncePerPeriodDueAndStaysArmed()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = Recording(clock, fired, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

        clock.Advance(TimeSpan.FromSeconds(35));

        Assert.Equal([Start.AddSeconds(5), Start.AddSeconds(15), Start.AddSeconds(25), Start.AddSeconds(35)], fired);
        Assert.Equal(1, clock.ArmedTimerCount);
        Assert.True(clock.WaitForTimerAsync(Start.AddSeconds(45), Wait).IsCompletedSuccessfully);
    }

    [Fact]
    public void Advance_PeriodicTimerInCallback_IsAlreadyRearmedOnePeriodAfterItsDueTime()
    {
        var clock = new ManualTimeProvider(Start);
        var armedInCallback = new List<bool>();
        ITimer? timer = null;
        timer = clock.CreateTimer(_ => armedInCallback.Add(clock.WaitForTimerAsync(clock.GetUtcNow() + TimeSpan.FromSeconds(3), Wait).IsCompleted), null, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));
        using var _ = timer;

        clock.Advance(TimeSpan.FromSeconds(6));

        Assert.Equal([true, true], armedInCallback);
    }

    [Fact]
    public void Advance_ZeroPeriod_FiresOnce()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.Zero);

        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, fired);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Advance_TimerCreatedInACallback_CountsFromTheCallbackTimeAndFiresInTheSameAdvance()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<(string Name, DateTimeOffset At)>();
        var created = new List<ITimer>();
        using var parent = clock.CreateTimer(
            _ =>
            {
                fired.Add(("parent", clock.GetUtcNow()));
                created.Add(clock.CreateTimer(_ => fired.Add(("soon", clock.GetUtcNow())), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan));
                created.Add(clock.CreateTimer(_ => fired.Add(("later", clock.GetUtcNow())), null, TimeSpan.FromSeconds(15), Timeout.InfiniteTimeSpan));
            },
            null,
            TimeSpan.FromSeconds(10),
            Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal([("parent", Start.AddSeconds(10)), ("soon", Start.AddSeconds(15))], fired);
        Assert.Equal(1, clock.ArmedTimerCount);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(("later", Start.AddSeconds(25)), fired[^1]);
        created.ForEach(static t => t.Dispose());
    }

    [Fact]
    public void Advance_CallbackRearmsItsOwnTimer_FiresAgainAtTheNewDueTime()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        ITimer? timer = null;
        timer = clock.CreateTimer(
            _ =>
            {
                fired.Add(clock.GetUtcNow());
                timer!.Change(TimeSpan.FromSeconds(7), Timeout.InfiniteTimeSpan);
            },
            null,
            TimeSpan.FromSeconds(10),
            Timeout.InfiniteTimeSpan);
        using var _ = timer;

        clock.Advance(TimeSpan.FromSeconds(25));

        Assert.Equal([Start.AddSeconds(10), Start.AddSeconds(17), Start.AddSeconds(24)], fired);
    }

    [Fact]
    public void Advance_CallbackDisposesALaterTimer_ThatTimerNeverFires()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<string>();
        using var victim = clock.CreateTimer(_ => fired.Add("victim"), null, TimeSpan.FromSeconds(20), Timeout.InfiniteTimeSpan);
        using var killer = clock.CreateTimer(
            _ =>
            {
                fired.Add("killer");
                victim.Dispose();
            },
            null,
            TimeSpan.FromSeconds(10),
            Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(["killer"], fired);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Advance_MoreThan100000CallbacksDue_ThrowsInsteadOfSpinning()
    {
        var clock = new ManualTimeProvider(Start);
        using var timer = clock.CreateTimer(static _ => { }, null, TimeSpan.FromTicks(1), TimeSpan.FromTicks(1));

        var error = Assert.Throws<InvalidOperationException>(() => clock.Advance(TimeSpan.FromSeconds(1)));

        Assert.Contains("100,000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Advance_CallbackThrows_ExceptionReachesTheCallerAndTheClockStopsThere()
    {
        var clock = new ManualTimeProvider(Start);
        using var timer = clock.CreateTimer(static _ => throw new FormatException("boom"), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);

        Assert.Throws<FormatException>(() => clock.Advance(TimeSpan.FromSeconds(10)));

        Assert.Equal(Start.AddSeconds(3), clock.GetUtcNow());
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Change_Infinite_DisarmsUntilChangedAgain()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = Recording(clock, fired, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        Assert.Equal(0, clock.ArmedTimerCount);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(fired);
        Assert.True(timer.Change(TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan));
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal([Start.AddMinutes(1).AddSeconds(2)], fired);
    }

    [Fact]
    public void Change_ArmedTimer_MovesItsDueTimeFromNow()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = Recording(clock, fired, TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(4));

        Assert.True(timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan));
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(fired);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([Start.AddSeconds(9)], fired);
    }

    [Fact]
    public async Task Dispose_ArmedTimer_NeverFiresAndChangeReturnsFalse()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = 0;
        var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

        await timer.DisposeAsync();
        timer.Dispose();

        Assert.False(timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
        Assert.Equal(0, clock.ArmedTimerCount);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, fired);
    }

    [Fact]
    public async Task CreateTimer_ZeroDueTime_FiresOnTheThreadPoolWithoutAdvance()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = clock.CreateTimer(_ => fired.TrySetResult(clock.GetUtcNow()), null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        Assert.Equal(Start, await fired.Task.WaitAsync(Wait));
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public async Task CreateTimer_ZeroDueTimeWithPeriod_FiresAtOnceThenEveryPeriodOnAdvance()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new ConcurrentQueue<DateTimeOffset>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = clock.CreateTimer(
            _ =>
            {
                fired.Enqueue(clock.GetUtcNow());
                first.TrySetResult();
            },
            null,
            TimeSpan.Zero,
            TimeSpan.FromSeconds(10));

        await first.Task.WaitAsync(Wait);
        await clock.WaitForTimerAsync(Start.AddSeconds(10), Wait);
        clock.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal([Start, Start.AddSeconds(10), Start.AddSeconds(20)], fired);
    }

    [Fact]
    public void SetUtcNow_Forwards_FiresWhatFellDue()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = Recording(clock, fired, TimeSpan.FromSeconds(5));

        clock.SetUtcNow(Start.AddMinutes(1));

        Assert.Equal([Start.AddSeconds(5)], fired);
        Assert.Equal(Start.AddMinutes(1), clock.GetUtcNow());
    }

    [Fact]
    public void SetUtcNow_Backwards_MovesTheClockAndTimersKeepTheirDueTimes()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = Recording(clock, fired, TimeSpan.FromSeconds(5));

        clock.SetUtcNow(Start.AddSeconds(-10));
        Assert.Equal(Start.AddSeconds(-10), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Empty(fired);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([Start.AddSeconds(5)], fired);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueAtArmedLater_CompletesWhenArmed()
    {
        var clock = new ManualTimeProvider(Start);

        var wait = clock.WaitForTimerAsync(Start.AddSeconds(10), Wait);
        Assert.False(wait.IsCompleted);
        using var other = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(9), Timeout.InfiniteTimeSpan);
        Assert.False(wait.IsCompleted);
        using var timer = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);

        await wait.WaitAsync(Wait);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueAtOfAPeriodicRearm_CompletesWhenTheTimerFires()
    {
        var clock = new ManualTimeProvider(Start);
        using var timer = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

        var wait = clock.WaitForTimerAsync(Start.AddSeconds(20), Wait);
        Assert.False(wait.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(10));

        await wait.WaitAsync(Wait);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueAtArmedThenMovedAway_StillCompletes()
    {
        var clock = new ManualTimeProvider(Start);
        using var timer = clock.CreateTimer(static _ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var wait = clock.WaitForTimerAsync(Start.AddSeconds(10), Wait);
        timer.Change(TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        timer.Change(TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);

        await wait.WaitAsync(Wait);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueAtNeverArmed_TimesOutNamingTheTime()
    {
        var clock = new ManualTimeProvider(Start);
        using var timer = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(9), Timeout.InfiniteTimeSpan);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => clock.WaitForTimerAsync(Start.AddSeconds(10), TimeSpan.FromMilliseconds(50)));

        Assert.Contains(Start.AddSeconds(10).ToString("O"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueAtCancelled_ThrowsOperationCanceled()
    {
        var clock = new ManualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();

        var wait = clock.WaitForTimerAsync(Start.AddSeconds(10), Wait, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueInWithCount_CompletesOnceThatManyAreDueThatFarFromNow()
    {
        var clock = new ManualTimeProvider(Start);
        clock.Advance(TimeSpan.FromSeconds(3));
        using var one = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        using var elsewhere = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(11), Timeout.InfiniteTimeSpan);

        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(10)).WaitAsync(Wait);
        var two = clock.WaitForTimerAsync(TimeSpan.FromSeconds(10), count: 2);
        Assert.False(two.IsCompleted);
        using var another = await Task.Run(() => clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan));

        await two.WaitAsync(Wait);
    }

    [Fact]
    public async Task WaitForTimerAsync_DueInCancelled_ThrowsOperationCanceled()
    {
        var clock = new ManualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();

        var wait = clock.WaitForTimerAsync(TimeSpan.FromSeconds(10), cancellationToken: cancel.Token);
        Assert.False(wait.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task WaitForArmedTimersAsync_ArmedFromAnotherThread_CompletesAtTheCount()
    {
        var clock = new ManualTimeProvider(Start);
        using var first = clock.CreateTimer(static _ => { }, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        var wait = clock.WaitForArmedTimersAsync(2);
        Assert.False(wait.IsCompleted);
        using var disarmed = clock.CreateTimer(static _ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Assert.False(wait.IsCompleted);
        using var second = await Task.Run(() => clock.CreateTimer(static _ => { }, null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan));

        await wait.WaitAsync(Wait);
        Assert.Equal(2, clock.ArmedTimerCount);
    }

    [Fact]
    public async Task WaitForArmedTimersAsync_Cancelled_ThrowsOperationCanceled()
    {
        var clock = new ManualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();

        var wait = clock.WaitForArmedTimersAsync(1, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task CreateTimer_FromManyThreads_EveryTimerFiresExactlyOnceOnAdvance()
    {
        var clock = new ManualTimeProvider(Start);
        var counts = new int[8 * 100];
        var timers = new ConcurrentBag<ITimer>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                var index = (worker * 100) + i;
                timers.Add(clock.CreateTimer(_ => Interlocked.Increment(ref counts[index]), null, TimeSpan.FromMilliseconds(1 + (index % 997)), Timeout.InfiniteTimeSpan));
            }
        }))).WaitAsync(Wait);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.All(counts, static c => Assert.Equal(1, c));
        Assert.Equal(0, clock.ArmedTimerCount);
        foreach (var timer in timers)
        {
            timer.Dispose();
        }
    }

    [Fact]
    public async Task Delay_OnTheClock_CompletesOnlyWhenAdvancedPastIt()
    {
        var clock = new ManualTimeProvider(Start);

        var delay = Task.Delay(TimeSpan.FromSeconds(5), clock);
        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(delay.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        await delay.WaitAsync(Wait);
    }

    /// <summary>A timer on <paramref name="clock"/> that adds the clock's time to <paramref name="fired"/> each time it fires.</summary>
    private static ITimer Recording(ManualTimeProvider clock, List<DateTimeOffset> fired, TimeSpan dueTime, TimeSpan? period = null) =>
        clock.CreateTimer(_ => fired.Add(clock.GetUtcNow()), null, dueTime, period ?? Timeout.InfiniteTimeSpan);
}
