using FedAgg.LoadTests.Hosting;

namespace FedAgg.LoadTests.Reports;

/// <summary>
/// How the server's retained small-object heap (live bytes after a forced full collection, less the large- and
/// pinned-object heaps, whose pooled megabyte buffers come and go) moved over a rounds run, from the first sample after
/// the warm-up to the last.
/// </summary>
/// <param name="BaselineRound">The round of the baseline sample (the first at or past the warm-up).</param>
/// <param name="BaselineBytes">Retained small-object bytes then.</param>
/// <param name="EndRound">The round of the last sample.</param>
/// <param name="EndBytes">Retained small-object bytes then.</param>
/// <param name="Samples">Samples from the baseline on (each with a forced collection).</param>
/// <param name="SlopeBytesPerRound">Least-squares slope of retained bytes over rounds, from the baseline on: the growth per round, robust to one noisy sample.</param>
public sealed record HeapGrowth(long BaselineRound, long BaselineBytes, long EndRound, long EndBytes, int Samples, double SlopeBytesPerRound)
{
    /// <summary>(End − baseline) / rounds between them.</summary>
    public double EndpointBytesPerRound => EndRound > BaselineRound ? (EndBytes - BaselineBytes) / (double)(EndRound - BaselineRound) : 0;

    /// <summary>
    /// The growth from the samples with a retained figure: the baseline is the first sample whose round is at least
    /// <paramref name="warmupRounds"/> past the first sample's; null when fewer than two such samples, on different rounds, exist.
    /// </summary>
    /// <param name="samples">The heap samples, in time order.</param>
    /// <param name="warmupRounds">Rounds to skip (caches fill, the JIT settles, the grain collector reaches its steady state).</param>
    /// <returns>The growth, or null.</returns>
    public static HeapGrowth? Compute(IReadOnlyList<HeapSample> samples, long warmupRounds)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var retained = samples.Where(static s => s.RetainedSmallObjectBytes is not null).ToList();
        if (retained.Count == 0)
        {
            return null;
        }

        var first = retained[0].Round;
        var used = retained.Where(s => s.Round >= first + warmupRounds).ToList();
        if (used.Count < 2 || used[^1].Round == used[0].Round)
        {
            return null;
        }

        // Least squares of y = a + b·x over (round, retained bytes).
        double meanX = used.Average(static s => (double)s.Round);
        double meanY = used.Average(static s => (double)s.RetainedSmallObjectBytes!.Value);
        double sxy = 0;
        double sxx = 0;
        foreach (var s in used)
        {
            var dx = s.Round - meanX;
            sxy += dx * (s.RetainedSmallObjectBytes!.Value - meanY);
            sxx += dx * dx;
        }

        return new HeapGrowth(used[0].Round, used[0].RetainedSmallObjectBytes!.Value, used[^1].Round, used[^1].RetainedSmallObjectBytes!.Value, used.Count, sxx > 0 ? sxy / sxx : 0);
    }
}
