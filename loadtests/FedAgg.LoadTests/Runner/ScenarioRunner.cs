using System.Globalization;

namespace FedAgg.LoadTests.Runner;

/// <summary>Options of a <see cref="ScenarioRunner"/>.</summary>
public sealed class ScenarioRunnerOptions
{
    /// <summary>The clock (default the system's).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How often intervals are closed and the live line printed (default 1 s; 10 ms to 1 min).</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the live lines go (default none).</summary>
    public TextWriter? Live { get; init; }

    /// <summary>Called after each interval is closed, with the time since the run started (e.g. to sample processes).</summary>
    public Action<TimeSpan>? OnInterval { get; init; }

    /// <summary>Where the first messages of step exceptions go (at most 20; default none).</summary>
    public TextWriter? Errors { get; init; }
}

/// <summary>A scenario's measured result.</summary>
/// <param name="Name">The scenario.</param>
/// <param name="Load">Its load simulations, in words.</param>
/// <param name="Measured">From the end of the warm-up to the end of the last iteration.</param>
/// <param name="Iterations">Measured iterations started (overloaded ones excluded).</param>
/// <param name="Steps">Per-step statistics, in step order.</param>
/// <param name="Intervals">Per-step statistics per reporting interval, in time order.</param>
public sealed record ScenarioResult(string Name, string Load, TimeSpan Measured, long Iterations, IReadOnlyList<StepSummary> Steps, IReadOnlyList<StepInterval> Intervals)
{
    /// <summary>The summary of step <paramref name="step"/>.</summary>
    /// <param name="step">The step's name.</param>
    /// <returns>The summary.</returns>
    public StepSummary Step(string step) => Steps.Single(s => s.Step == step);
}

/// <summary>What a run measured.</summary>
/// <param name="StartedAt">When the run started (after the scenarios' Init).</param>
/// <param name="Elapsed">The run's length (warm-up included).</param>
/// <param name="Scenarios">Each scenario's result.</param>
public sealed record RunResult(DateTimeOffset StartedAt, TimeSpan Elapsed, IReadOnlyList<ScenarioResult> Scenarios)
{
    /// <summary>The result of scenario <paramref name="name"/>.</summary>
    /// <param name="name">The scenario's name.</param>
    /// <returns>Its result.</returns>
    public ScenarioResult Scenario(string name) => Scenarios.Single(s => s.Name == name);
}

/// <summary>
/// Runs scenarios concurrently under their load simulations (NBomber's model): Init, warm-up (statistics discarded),
/// the simulations one after another, a grace period for iterations in flight, then Clean. Injected iterations are
/// timed from their scheduled start, so a late start counts against latency (coordinated omission), and never exceed
/// <see cref="Scenario.MaxInFlight"/> in flight (the excess fails as <c>overloaded</c>).
/// </summary>
public sealed class ScenarioRunner
{
    private const int MaxErrorMessages = 20;
    private readonly ScenarioRunnerOptions _options;
    private readonly TimeProvider _time;
    private int _errorMessages;

    /// <summary>Creates a runner.</summary>
    /// <param name="options">Options; defaults when null.</param>
    public ScenarioRunner(ScenarioRunnerOptions? options = null)
    {
        _options = options ?? new ScenarioRunnerOptions();
        if (_options.ReportInterval < TimeSpan.FromMilliseconds(10) || _options.ReportInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.ReportInterval, "ReportInterval is 10 ms to 1 min.");
        }

        _time = _options.TimeProvider;
    }

    /// <summary>Runs <paramref name="scenarios"/> concurrently and returns what they measured.</summary>
    /// <param name="scenarios">The scenarios (distinct names).</param>
    /// <param name="cancellationToken">Stops the run early (the result covers what ran).</param>
    /// <returns>The result.</returns>
    public async Task<RunResult> RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        if (scenarios.Count == 0 || scenarios.Select(static s => s.Name).Distinct(StringComparer.Ordinal).Count() != scenarios.Count)
        {
            throw new ArgumentException("Give at least one scenario, with distinct names.", nameof(scenarios));
        }

        var states = scenarios.Select(s => new ScenarioState(s)).ToArray();
        var initialized = new List<ScenarioState>();
        try
        {
            foreach (var state in states)
            {
                if (state.Scenario.Init is { } init)
                {
                    await init(cancellationToken).ConfigureAwait(false);
                }

                initialized.Add(state);
            }

            var startedAt = _time.GetUtcNow();
            var start = _time.GetTimestamp();
            using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reporter = ReportAsync(states, start, reporting.Token);
            try
            {
                await Task.WhenAll(states.Select(s => RunScenarioAsync(s, start, cancellationToken))).ConfigureAwait(false);
            }
            finally
            {
                await reporting.CancelAsync().ConfigureAwait(false);
                await reporter.ConfigureAwait(false);
            }

            var elapsed = _time.GetElapsedTime(start);
            CloseIntervals(states, elapsed, final: true);
            return new RunResult(startedAt, elapsed, [.. states.Select(s => s.ToResult(_time))]);
        }
        finally
        {
            foreach (var state in initialized)
            {
                if (state.Scenario.Clean is { } clean)
                {
                    await clean(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task RunScenarioAsync(ScenarioState state, long runStart, CancellationToken cancellationToken)
    {
        var scenario = state.Scenario;
        using var iterations = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        state.IterationToken = iterations.Token;
        try
        {
            if (scenario.WarmUp > TimeSpan.Zero)
            {
                var first = scenario.LoadSimulations[0];
                var warmUp = first switch
                {
                    InjectSimulation i => LoadSimulation.RampingInject(WarmUpRate(i), WarmUpRate(i), scenario.WarmUp),
                    KeepConstantSimulation k => LoadSimulation.KeepConstant(k.Copies, scenario.WarmUp),
                    _ => throw new InvalidOperationException("unknown simulation"),
                };
                await RunSimulationAsync(state, warmUp, warmUp: true, cancellationToken).ConfigureAwait(false);
            }

            state.BeginMeasurement(_time.GetTimestamp(), _time.GetElapsedTime(runStart));
            foreach (var simulation in scenario.LoadSimulations)
            {
                if (cancellationToken.IsCancellationRequested || state.LimitReached)
                {
                    break;
                }

                await RunSimulationAsync(state, simulation, warmUp: false, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            state.LaunchDone();
            using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            grace.CancelAfter(scenario.GracePeriod);
            try
            {
                await state.Drained.WaitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await iterations.CancelAsync().ConfigureAwait(false);
                await state.Drained.ConfigureAwait(false);
            }

            state.EndMeasurement(_time.GetTimestamp());
        }
    }

    private static double WarmUpRate(InjectSimulation inject) => inject.FromRatePerSecond > 0 ? inject.FromRatePerSecond : inject.ToRatePerSecond;

    private async Task RunSimulationAsync(ScenarioState state, LoadSimulation simulation, bool warmUp, CancellationToken cancellationToken)
    {
        var phaseStart = _time.GetTimestamp();
        switch (simulation)
        {
            case InjectSimulation inject:
                for (long k = 0; !cancellationToken.IsCancellationRequested; k++)
                {
                    var due = inject.StartOf(k);
                    if (due >= inject.During)
                    {
                        break;
                    }

                    var wait = due - _time.GetElapsedTime(phaseStart);
                    if (wait > TimeSpan.FromMilliseconds(1))
                    {
                        try
                        {
                            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }

                    if (!warmUp && !state.TryCountIteration())
                    {
                        break;
                    }

                    var scheduled = phaseStart + (long)(due.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);
                    if (state.InFlight >= state.Scenario.MaxInFlight)
                    {
                        if (!warmUp)
                        {
                            state.UncountIteration();
                            state.Stats[0].Record(StepResult.Fail("overloaded"), TimeSpan.Zero);
                        }

                        continue;
                    }

                    state.IterationStarted();
                    _ = RunIterationAsync(state, scheduled, -1, warmUp);
                }

                break;
            case KeepConstantSimulation keep:
                var copies = new Task[keep.Copies];
                for (var copy = 0; copy < copies.Length; copy++)
                {
                    copies[copy] = RunCopyAsync(state, copy, phaseStart, keep.During, warmUp, cancellationToken);
                }

                await Task.WhenAll(copies).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"unknown simulation {simulation}");
        }
    }

    private async Task RunCopyAsync(ScenarioState state, int copy, long phaseStart, TimeSpan during, bool warmUp, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested && _time.GetElapsedTime(phaseStart) < during)
        {
            if (!warmUp && !state.TryCountIteration())
            {
                return;
            }

            state.IterationStarted();
            await RunIterationAsync(state, _time.GetTimestamp(), copy, warmUp).ConfigureAwait(false);
        }
    }

    private async Task RunIterationAsync(ScenarioState state, long scheduled, int copy, bool warmUp)
    {
        try
        {
            var context = new StepContext(state.Scenario.Name, state.NextInvocation(), copy, state.IterationToken) { IsWarmUp = warmUp };
            var stepStart = scheduled;
            var steps = state.Scenario.Steps;
            for (var i = 0; i < steps.Count; i++)
            {
                StepResult result;
                try
                {
                    result = await steps[i].Run(context).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (state.IterationToken.IsCancellationRequested)
                {
                    result = StepResult.Fail("cancelled");
                }
                catch (Exception e)
                {
                    result = StepResult.Fail("exception:" + e.GetType().Name);
                    ReportError(state.Scenario.Name, steps[i].Name, e);
                }

                var end = _time.GetTimestamp();
                if (!warmUp)
                {
                    state.Stats[i].Record(result, _time.GetElapsedTime(stepStart, end));
                }

                if (!result.IsOk)
                {
                    break;
                }

                stepStart = end;
            }
        }
        finally
        {
            state.IterationEnded();
        }
    }

    private void ReportError(string scenario, string step, Exception e)
    {
        if (_options.Errors is { } errors && Interlocked.Increment(ref _errorMessages) <= MaxErrorMessages)
        {
            lock (errors)
            {
                errors.WriteLine($"{scenario}/{step}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
    }

    private async Task ReportAsync(ScenarioState[] states, long start, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ReportInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var elapsed = _time.GetElapsedTime(start);
                CloseIntervals(states, elapsed, final: false);
                _options.OnInterval?.Invoke(elapsed);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private void CloseIntervals(ScenarioState[] states, TimeSpan elapsed, bool final)
    {
        foreach (var state in states)
        {
            var length = elapsed - state.LastIntervalEnd;
            if (final && length < TimeSpan.FromMilliseconds(1))
            {
                continue;
            }

            state.LastIntervalEnd = elapsed;
            for (var i = 0; i < state.Stats.Length; i++)
            {
                var interval = state.Stats[i].CloseInterval(elapsed, length);
                if (_options.Live is { } live && !final)
                {
                    var phase = state.Measuring ? "" : " (warm-up)";
                    live.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{elapsed.TotalSeconds,6:0.0}s] {state.Scenario.Name}/{interval.Step}{phase}: ok {interval.Ok} fail {interval.Failed} ({interval.OkPerSecond:0.0}/s) p50 {interval.P50Ms:0.00} ms p99 {interval.P99Ms:0.00} ms max {interval.MaxMs:0.00} ms | total ok {state.Stats[i].Ok} fail {state.Stats[i].Failed} | in flight {state.InFlight}"));
                }
            }
        }
    }

    private sealed class ScenarioState(Scenario scenario)
    {
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _inFlight;
        private long _invocations;
        private long _measuredIterations;
        private bool _launchDone;
        private long _measureStart;
        private long _measureEnd;

        public Scenario Scenario { get; } = scenario;

        public StepStats[] Stats { get; } = [.. scenario.Steps.Select(s => new StepStats(scenario.Name, s.Name))];

        public CancellationToken IterationToken { get; set; }

        public TimeSpan LastIntervalEnd { get; set; }

        public bool Measuring { get; private set; }

        public long InFlight => Interlocked.Read(ref _inFlight);

        public Task Drained => _drained.Task;

        public bool LimitReached => Scenario.MaxIterations is { } max && Interlocked.Read(ref _measuredIterations) >= max;

        public long NextInvocation() => Interlocked.Increment(ref _invocations) - 1;

        public bool TryCountIteration()
        {
            var count = Interlocked.Increment(ref _measuredIterations);
            if (Scenario.MaxIterations is { } max && count > max)
            {
                Interlocked.Decrement(ref _measuredIterations);
                return false;
            }

            return true;
        }

        public void UncountIteration() => Interlocked.Decrement(ref _measuredIterations);

        public void IterationStarted() => Interlocked.Increment(ref _inFlight);

        public void IterationEnded()
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _launchDone))
            {
                _drained.TrySetResult();
            }
        }

        public void LaunchDone()
        {
            Volatile.Write(ref _launchDone, true);
            if (Interlocked.Read(ref _inFlight) == 0)
            {
                _drained.TrySetResult();
            }
        }

        public void BeginMeasurement(long timestamp, TimeSpan sinceRunStart)
        {
            foreach (var stats in Stats)
            {
                stats.Reset();
            }

            LastIntervalEnd = sinceRunStart;
            _measureStart = timestamp;
            Measuring = true;
        }

        public void EndMeasurement(long timestamp) => _measureEnd = timestamp;

        public ScenarioResult ToResult(TimeProvider time)
        {
            var measured = Measuring ? time.GetElapsedTime(_measureStart, _measureEnd) : TimeSpan.Zero;
            return new ScenarioResult(Scenario.Name, string.Join(", ", Scenario.LoadSimulations), measured, Interlocked.Read(ref _measuredIterations),
                [.. Stats.Select(s => s.Summarize(measured))],
                [.. Stats.SelectMany(static s => s.Intervals()).OrderBy(static i => i.End).ThenBy(static i => i.Step, StringComparer.Ordinal)]);
        }
    }
}
