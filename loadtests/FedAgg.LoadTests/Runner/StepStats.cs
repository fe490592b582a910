namespace FedAgg.LoadTests.Runner;

/// <summary>One reporting interval of one step.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Step">The step.</param>
/// <param name="End">The interval's end, from the start of the measured run.</param>
/// <param name="Length">The interval's length.</param>
/// <param name="Ok">Successful executions that ended in the interval.</param>
/// <param name="Failed">Failed executions that ended in the interval.</param>
/// <param name="P50Ms">Median latency of the successes (ms).</param>
/// <param name="P99Ms">99th percentile latency of the successes (ms).</param>
/// <param name="MaxMs">Largest latency of the successes (ms).</param>
/// <param name="BytesSent">Bytes sent by executions that ended in the interval.</param>
/// <param name="BytesReceived">Bytes received by executions that ended in the interval.</param>
public sealed record StepInterval(
    string Scenario, string Step, TimeSpan End, TimeSpan Length, long Ok, long Failed, double P50Ms, double P99Ms, double MaxMs, long BytesSent, long BytesReceived)
{
    /// <summary>Successes per second in the interval.</summary>
    public double OkPerSecond => Length > TimeSpan.Zero ? Ok / Length.TotalSeconds : 0;
}

/// <summary>A step's statistics over the measured run.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Step">The step.</param>
/// <param name="Duration">The measured duration the rates are computed over.</param>
/// <param name="Ok">Successful executions.</param>
/// <param name="Failed">Failed executions.</param>
/// <param name="Latency">The successes' latencies (a copy).</param>
/// <param name="BytesSent">Bytes sent (successes and failures).</param>
/// <param name="BytesReceived">Bytes received (successes and failures).</param>
/// <param name="FailuresByReason">Failures per reason, most frequent first.</param>
public sealed record StepSummary(
    string Scenario, string Step, TimeSpan Duration, long Ok, long Failed, LatencyHistogram Latency, long BytesSent, long BytesReceived,
    IReadOnlyList<KeyValuePair<string, long>> FailuresByReason)
{
    /// <summary>Successes per second.</summary>
    public double OkPerSecond => Duration > TimeSpan.Zero ? Ok / Duration.TotalSeconds : 0;

    /// <summary>Bytes sent per second, in MB/s (10^6 bytes).</summary>
    public double SentMegabytesPerSecond => Duration > TimeSpan.Zero ? BytesSent / 1e6 / Duration.TotalSeconds : 0;

    /// <summary>Bytes received per second, in MB/s (10^6 bytes).</summary>
    public double ReceivedMegabytesPerSecond => Duration > TimeSpan.Zero ? BytesReceived / 1e6 / Duration.TotalSeconds : 0;

    /// <summary>A latency percentile of the successes, in milliseconds.</summary>
    /// <param name="percentile">0 to 100.</param>
    /// <returns>The latency in ms.</returns>
    public double PercentileMs(double percentile) => Latency.Percentile(percentile) / 1000.0;
}

/// <summary>
/// A step's live statistics: successes' latencies (total and current interval), counts, bytes, and failures by reason.
/// Thread-safe; memory is bounded (two fixed histograms, one small record per interval, at most
/// <see cref="MaxReasons"/> distinct reasons — later ones are counted as <c>other</c>).
/// </summary>
public sealed class StepStats
{
    /// <summary>The most distinct failure reasons kept.</summary>
    public const int MaxReasons = 64;

    /// <summary>The most intervals kept (older ones are merged pairwise, halving the resolution).</summary>
    public const int MaxIntervals = 4096;

    private readonly Lock _lock = new();
    private readonly LatencyHistogram _total = new();
    private readonly LatencyHistogram _interval = new();
    private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly List<StepInterval> _intervals = [];
    private long _ok;
    private long _failed;
    private long _bytesSent;
    private long _bytesReceived;
    private long _intervalOk;
    private long _intervalFailed;
    private long _intervalSent;
    private long _intervalReceived;

    /// <summary>Creates the statistics of one step.</summary>
    /// <param name="scenario">The scenario.</param>
    /// <param name="step">The step.</param>
    public StepStats(string scenario, string step)
    {
        Scenario = scenario;
        Step = step;
    }

    /// <summary>The scenario.</summary>
    public string Scenario { get; }

    /// <summary>The step.</summary>
    public string Step { get; }

    /// <summary>Successes so far.</summary>
    public long Ok
    {
        get
        {
            lock (_lock)
            {
                return _ok;
            }
        }
    }

    /// <summary>Failures so far.</summary>
    public long Failed
    {
        get
        {
            lock (_lock)
            {
                return _failed;
            }
        }
    }

    /// <summary>Records one execution.</summary>
    /// <param name="result">What the step reported.</param>
    /// <param name="latency">How long it took (for an injected first step: from its scheduled start).</param>
    public void Record(StepResult result, TimeSpan latency)
    {
        lock (_lock)
        {
            _bytesSent += result.BytesSent;
            _bytesReceived += result.BytesReceived;
            _intervalSent += result.BytesSent;
            _intervalReceived += result.BytesReceived;
            if (result.IsOk)
            {
                _ok++;
                _intervalOk++;
                _total.Record(latency);
                _interval.Record(latency);
                return;
            }

            _failed++;
            _intervalFailed++;
            var reason = result.FailReason ?? "unknown";
            if (!_failures.ContainsKey(reason) && _failures.Count >= MaxReasons)
            {
                reason = "other";
            }

            _failures[reason] = _failures.GetValueOrDefault(reason) + 1;
        }
    }

    /// <summary>Closes the current interval at <paramref name="end"/> (from the start of the run) and starts the next.</summary>
    /// <param name="end">The interval's end.</param>
    /// <param name="length">Its length.</param>
    /// <returns>The closed interval.</returns>
    public StepInterval CloseInterval(TimeSpan end, TimeSpan length)
    {
        lock (_lock)
        {
            var interval = new StepInterval(Scenario, Step, end, length, _intervalOk, _intervalFailed,
                _interval.Percentile(50) / 1000.0, _interval.Percentile(99) / 1000.0, _interval.Max / 1000.0, _intervalSent, _intervalReceived);
            _interval.Reset();
            _intervalOk = _intervalFailed = _intervalSent = _intervalReceived = 0;
            if (_intervals.Count >= MaxIntervals)
            {
                Compact();
            }

            _intervals.Add(interval);
            return interval;
        }
    }

    /// <summary>Forgets everything (the end of the warm-up).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _total.Reset();
            _interval.Reset();
            _failures.Clear();
            _intervals.Clear();
            _ok = _failed = _bytesSent = _bytesReceived = 0;
            _intervalOk = _intervalFailed = _intervalSent = _intervalReceived = 0;
        }
    }

    /// <summary>The intervals closed so far.</summary>
    /// <returns>A copy.</returns>
    public IReadOnlyList<StepInterval> Intervals()
    {
        lock (_lock)
        {
            return [.. _intervals];
        }
    }

    /// <summary>The statistics so far, with rates over <paramref name="duration"/>.</summary>
    /// <param name="duration">The measured duration.</param>
    /// <returns>A snapshot.</returns>
    public StepSummary Summarize(TimeSpan duration)
    {
        lock (_lock)
        {
            var latency = new LatencyHistogram();
            latency.Merge(_total);
            return new StepSummary(Scenario, Step, duration, _ok, _failed, latency, _bytesSent, _bytesReceived,
                [.. _failures.OrderByDescending(static f => f.Value).ThenBy(static f => f.Key, StringComparer.Ordinal)]);
        }
    }

    private void Compact()
    {
        var merged = new List<StepInterval>(_intervals.Count / 2 + 1);
        for (var i = 0; i + 1 < _intervals.Count; i += 2)
        {
            var a = _intervals[i];
            var b = _intervals[i + 1];
            merged.Add(new StepInterval(Scenario, Step, b.End, a.Length + b.Length, a.Ok + b.Ok, a.Failed + b.Failed,
                Math.Max(a.P50Ms, b.P50Ms), Math.Max(a.P99Ms, b.P99Ms), Math.Max(a.MaxMs, b.MaxMs), a.BytesSent + b.BytesSent, a.BytesReceived + b.BytesReceived));
        }

        if (_intervals.Count % 2 == 1)
        {
            merged.Add(_intervals[^1]);
        }

        _intervals.Clear();
        _intervals.AddRange(merged);
    }
}
