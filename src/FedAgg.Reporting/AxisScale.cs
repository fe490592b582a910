using System.Globalization;

namespace FedAgg.Reporting;

/// <summary>An axis range and its ticks, all multiples of <see cref="Step"/> (1, 2 or 5 times a power of ten).</summary>
/// <param name="Min">Lower end of the axis.</param>
/// <param name="Max">Upper end of the axis.</param>
/// <param name="Step">Distance between ticks.</param>
/// <param name="Ticks">Tick values from low to high, all within [Min, Max].</param>
public sealed record AxisScale(double Min, double Max, double Step, IReadOnlyList<double> Ticks)
{
    /// <summary>Maps <paramref name="value"/> linearly so that Min lands on <paramref name="pixelAtMin"/> and Max on <paramref name="pixelAtMax"/>.</summary>
    public double ToPixel(double value, double pixelAtMin, double pixelAtMax) =>
        pixelAtMin + ((value - Min) / (Max - Min) * (pixelAtMax - pixelAtMin));

    /// <summary>A tick label: as many decimals as the step needs; k/M/G suffixes from 10 000 up.</summary>
    public string Format(double value)
    {
        var largest = Math.Max(Math.Abs(Min), Math.Abs(Max));
        var (divisor, suffix) = largest switch
        {
            >= 1e10 => (1e9, "G"),
            >= 1e7 => (1e6, "M"),
            >= 1e4 => (1e3, "k"),
            _ => (1.0, string.Empty),
        };
        var step = Step / divisor;
        var decimals = step >= 1 ? 0 : Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 12);
        var scaled = value / divisor;
        if (Math.Abs(scaled) < step * 1e-9)
        {
            return "0"; // neither "-0" nor "0k"
        }

        return scaled.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + suffix;
    }
}

/// <summary>"Nice" axis ticks: steps of 1, 2 or 5 times a power of ten.</summary>
public static class NiceTicks
{
    /// <summary>
    /// The smallest 1/2/5 step that covers [<paramref name="min"/>, <paramref name="max"/>] with at most
    /// <paramref name="maxIntervals"/> intervals. Unless fixed, each end is widened to a multiple of the step;
    /// a fixed end stays where it is and ticks fall on the multiples of the step inside. Non-finite bounds give [0, 1];
    /// an empty range (min = max) is widened by 10 % of the value each way (±1 around 0).
    /// </summary>
    /// <param name="min">Smallest value to show.</param>
    /// <param name="max">Largest value to show.</param>
    /// <param name="maxIntervals">Most intervals between ticks (default 5, at least 1).</param>
    /// <param name="fixedMin">Keep <paramref name="min"/> as the axis' lower end.</param>
    /// <param name="fixedMax">Keep <paramref name="max"/> as the axis' upper end.</param>
    /// <param name="minimumStep">Smallest allowed step (1 for integer data such as round numbers; default 0: none).</param>
    public static AxisScale Compute(double min, double max, int maxIntervals = 5, bool fixedMin = false, bool fixedMax = false, double minimumStep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIntervals, 1);
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            (min, max, fixedMin, fixedMax) = (0, 1, false, false);
        }

        if (min > max)
        {
            (min, max) = (max, min);
        }

        if (min == max)
        {
            var widen = min == 0 ? 1 : Math.Abs(min) * 0.1;
            if (!fixedMin || fixedMax)
            {
                min -= widen;
                fixedMin = false;
            }

            if (!fixedMax || fixedMin)
            {
                max += widen;
                fixedMax = false;
            }
        }

        var range = max - min;
        var exponent = (int)Math.Floor(Math.Log10(range / maxIntervals)) - 1;
        for (var attempt = 0; attempt < 64; attempt++, exponent++)
        {
            foreach (var mantissa in (int[])[1, 2, 5])
            {
                var step = Scaled(mantissa, exponent);
                if (step < minimumStep || step <= 0)
                {
                    continue;
                }

                var first = fixedMin ? Math.Ceiling((min / step) - 1e-9) : Math.Floor((min / step) + 1e-9);
                var last = fixedMax ? Math.Floor((max / step) + 1e-9) : Math.Ceiling((max / step) - 1e-9);
                var lo = fixedMin ? min : Multiple(first, mantissa, exponent);
                var hi = fixedMax ? max : Multiple(last, mantissa, exponent);
                if ((hi - lo) / step > maxIntervals + 1e-9)
                {
                    continue;
                }

                var ticks = new List<double>();
                for (var k = first; k <= last && ticks.Count <= maxIntervals + 1; k++)
                {
                    ticks.Add(Multiple(k, mantissa, exponent));
                }

                return new AxisScale(lo, hi, step, ticks);
            }
        }

        return new AxisScale(min, max, range, [min, max]);
    }

    /// <summary>mantissa · 10^exponent, exact for the decimal value (division by an exact power of ten).</summary>
    private static double Scaled(double mantissa, int exponent) =>
        exponent >= 0 ? mantissa * Math.Pow(10, exponent) : mantissa / Math.Pow(10, -exponent);

    private static double Multiple(double k, int mantissa, int exponent) => Scaled(k * mantissa, exponent);
}
