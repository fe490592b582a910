using System.Globalization;

namespace FedAgg.LoadTests.Runner;

/// <summary>
/// How iterations of a scenario start, in NBomber's terms: <see cref="Inject"/> a rate (open model: iterations start on a
/// schedule whether or not earlier ones finished), <see cref="RampingInject"/> a rate changing linearly, or
/// <see cref="KeepConstant"/> copies (closed model: each copy starts its next iteration when the last one ends).
/// </summary>
public abstract record LoadSimulation
{
    private protected LoadSimulation(TimeSpan during)
    {
        if (during <= TimeSpan.Zero || during > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(during), during, "A simulation lasts more than 0 and at most 1 day.");
        }

        During = during;
    }

    /// <summary>How long the simulation lasts.</summary>
    public TimeSpan During { get; }

    /// <summary>Starts <paramref name="rate"/> iterations per <paramref name="interval"/>, evenly spaced, for <paramref name="during"/>.</summary>
    /// <param name="rate">Iterations per interval, 1 to 1,000,000.</param>
    /// <param name="interval">The interval (1 ms to 1 h).</param>
    /// <param name="during">How long.</param>
    /// <returns>The simulation.</returns>
    public static LoadSimulation Inject(int rate, TimeSpan interval, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rate, 1_000_000);
        if (interval < TimeSpan.FromMilliseconds(1) || interval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval is 1 ms to 1 h.");
        }

        return new InjectSimulation(rate / interval.TotalSeconds, rate / interval.TotalSeconds, during);
    }

    /// <summary>Starts iterations at a rate going linearly from <paramref name="fromRatePerSecond"/> to <paramref name="toRatePerSecond"/> over <paramref name="during"/>.</summary>
    /// <param name="fromRatePerSecond">The rate at the start (0 to 1,000,000 per second).</param>
    /// <param name="toRatePerSecond">The rate at the end (0 to 1,000,000 per second).</param>
    /// <param name="during">How long.</param>
    /// <returns>The simulation.</returns>
    public static LoadSimulation RampingInject(double fromRatePerSecond, double toRatePerSecond, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromRatePerSecond, 0.0);
        ArgumentOutOfRangeException.ThrowIfLessThan(toRatePerSecond, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fromRatePerSecond, 1_000_000.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(toRatePerSecond, 1_000_000.0);
        return new InjectSimulation(fromRatePerSecond, toRatePerSecond, during);
    }

    /// <summary>Runs <paramref name="copies"/> copies of the scenario back to back for <paramref name="during"/>.</summary>
    /// <param name="copies">Concurrent copies, 1 to 100,000.</param>
    /// <param name="during">How long.</param>
    /// <returns>The simulation.</returns>
    public static LoadSimulation KeepConstant(int copies, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(copies, 100_000);
        return new KeepConstantSimulation(copies, during);
    }

    /// <summary>
    /// Parses <c>inject:RATE/s</c> (also <c>/ms</c>, <c>/m</c>), <c>ramp:FROM-TO/s</c> or <c>keep:COPIES</c>, lasting <paramref name="during"/>.
    /// </summary>
    /// <param name="text">The specification.</param>
    /// <param name="during">How long the simulation lasts.</param>
    /// <returns>The simulation.</returns>
    /// <exception cref="FormatException">The text is none of the three forms.</exception>
    public static LoadSimulation Parse(string text, TimeSpan during)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? text : text[..colon];
        var value = colon < 0 ? "" : text[(colon + 1)..];
        try
        {
            switch (kind)
            {
                case "keep":
                    return KeepConstant(int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture), during);
                case "inject":
                {
                    var (rate, interval) = SplitRate(value);
                    return Inject(int.Parse(rate, NumberStyles.None, CultureInfo.InvariantCulture), interval, during);
                }

                case "ramp":
                {
                    var (range, interval) = SplitRate(value);
                    var dash = range.IndexOf('-', StringComparison.Ordinal);
                    if (dash <= 0)
                    {
                        throw new FormatException("missing FROM-TO");
                    }

                    var perSecond = 1.0 / interval.TotalSeconds;
                    return RampingInject(
                        double.Parse(range[..dash], NumberStyles.Float, CultureInfo.InvariantCulture) * perSecond,
                        double.Parse(range[(dash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture) * perSecond,
                        during);
                }

                default:
                    throw new FormatException($"unknown kind '{kind}'");
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new FormatException($"--load '{text}' is not inject:RATE/s, ramp:FROM-TO/s or keep:COPIES within range ({e.Message.Split('\n')[0]})", e);
        }
    }

    private static (string Value, TimeSpan Interval) SplitRate(string text)
    {
        var slash = text.LastIndexOf('/');
        if (slash <= 0)
        {
            throw new FormatException("missing /s");
        }

        var interval = text[(slash + 1)..] switch
        {
            "s" => TimeSpan.FromSeconds(1),
            "ms" => TimeSpan.FromMilliseconds(1),
            "m" or "min" => TimeSpan.FromMinutes(1),
            var unit => throw new FormatException($"unknown rate unit '/{unit}'"),
        };
        return (text[..slash], interval);
    }
}

/// <summary>An open-model simulation: iterations start on a schedule, at a rate going linearly from <see cref="FromRatePerSecond"/> to <see cref="ToRatePerSecond"/>.</summary>
public sealed record InjectSimulation : LoadSimulation
{
    internal InjectSimulation(double fromRatePerSecond, double toRatePerSecond, TimeSpan during)
        : base(during)
    {
        FromRatePerSecond = fromRatePerSecond;
        ToRatePerSecond = toRatePerSecond;
    }

    /// <summary>The rate at the start, per second.</summary>
    public double FromRatePerSecond { get; }

    /// <summary>The rate at the end, per second (equal to the start for a plain inject).</summary>
    public double ToRatePerSecond { get; }

    /// <summary>The number of iterations the schedule starts: ⌈(from + to)/2 · seconds⌉ (minus floating-point noise).</summary>
    public long ExpectedCount => (long)Math.Ceiling(((FromRatePerSecond + ToRatePerSecond) / 2 * During.TotalSeconds) - 1e-9);

    /// <summary>
    /// The start of iteration <paramref name="k"/> (from 0) after the simulation's start: the time t where the cumulative
    /// rate ∫r reaches k. Past the end when k ≥ <see cref="ExpectedCount"/>.
    /// </summary>
    /// <param name="k">The iteration number within this simulation.</param>
    /// <returns>The offset from the simulation's start.</returns>
    public TimeSpan StartOf(long k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0)
        {
            return TimeSpan.Zero;
        }

        if (k >= ExpectedCount)
        {
            return During + TimeSpan.FromTicks(1);
        }

        // N(t) = b·t + a·t², a = (to − from) / 2D, b = from; the root 2k / (b + √(b² + 4ak)) is stable for a of either sign.
        var seconds = During.TotalSeconds;
        var a = (ToRatePerSecond - FromRatePerSecond) / (2 * seconds);
        var b = FromRatePerSecond;
        var t = 2.0 * k / (b + Math.Sqrt(Math.Max(0, (b * b) + (4 * a * k))));
        return TimeSpan.FromTicks((long)Math.Round(t * TimeSpan.TicksPerSecond));
    }

    /// <inheritdoc />
    public override string ToString() => FromRatePerSecond == ToRatePerSecond
        ? string.Create(CultureInfo.InvariantCulture, $"inject {FromRatePerSecond:0.###}/s for {During.TotalSeconds:0.###} s")
        : string.Create(CultureInfo.InvariantCulture, $"ramp {FromRatePerSecond:0.###}→{ToRatePerSecond:0.###}/s over {During.TotalSeconds:0.###} s");
}

/// <summary>A closed-model simulation: <see cref="Copies"/> copies run iterations back to back.</summary>
public sealed record KeepConstantSimulation : LoadSimulation
{
    internal KeepConstantSimulation(int copies, TimeSpan during)
        : base(during) => Copies = copies;

    /// <summary>The number of concurrent copies.</summary>
    public int Copies { get; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"keep {Copies} copies for {During.TotalSeconds:0.###} s");
}
