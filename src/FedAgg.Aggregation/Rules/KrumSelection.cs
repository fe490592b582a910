using FedAgg.Core;

namespace FedAgg.Aggregation;

/// <summary>Krum scoring and selection over a distance matrix (docs/AGGREGATION.md, "Krum selection").</summary>
internal static class KrumSelection
{
    /// <summary>
    /// Scores of <paramref name="candidates"/> (ascending indices): each the dsum, in ascending order, of its q smallest
    /// distances to the other candidates, q = max(1, r − f − 2) capped at r − 1. The array is indexed by update.
    /// </summary>
    public static double[] Scores(double[] distances, int n, int[] candidates, int f)
    {
        var r = candidates.Length;
        var q = Math.Min(Math.Max(1, r - f - 2), r - 1);
        var scores = new double[n];
        Array.Fill(scores, double.NaN);
        var row = new double[Math.Max(0, r - 1)];
        foreach (var i in candidates)
        {
            var k = 0;
            foreach (var j in candidates)
            {
                if (j != i)
                {
                    row[k++] = distances[(i * n) + j];
                }
            }

            Array.Sort(row);
            var score = 0.0;
            for (var t = 0; t < q; t++)
            {
                score += row[t];
            }

            scores[i] = score;
        }

        return scores;
    }

    /// <summary>The candidate with the lowest score; ties go to the lowest index.</summary>
    public static int ArgMin(double[] scores, int[] candidates)
    {
        var best = candidates[0];
        foreach (var i in candidates)
        {
            if (scores[i] < scores[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>The <paramref name="m"/> lowest scores, ordered by (score, index).</summary>
    public static int[] Lowest(double[] scores, int m)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var keys = (double[])scores.Clone();
        Array.Sort(keys, order);
        StabilizeTies(keys, order);
        return order.AsSpan(0, m).ToArray();
    }

    /// <summary>Bulyan's selection: θ = n − 2f repeated Krum selections, each rescored on the remaining candidates.</summary>
    public static (int[] Selected, double[] FirstScores) Bulyan(double[] distances, int n, int f)
    {
        var theta = n - (2 * f);
        var remaining = Enumerable.Range(0, n).ToList();
        var selected = new int[theta];
        double[]? firstScores = null;
        for (var s = 0; s < theta; s++)
        {
            var candidates = remaining.ToArray();
            var scores = Scores(distances, n, candidates, f);
            firstScores ??= scores;
            selected[s] = ArgMin(scores, candidates);
            remaining.Remove(selected[s]);
        }

        return (selected, firstScores!);
    }

    /// <summary>After <see cref="Array.Sort{TKey, TValue}(TKey[], TValue[])"/> (unstable), puts equal keys back in ascending index order.</summary>
    public static void StabilizeTies(double[] keys, int[] order)
    {
        var start = 0;
        for (var i = 1; i <= keys.Length; i++)
        {
            if (i == keys.Length || !keys[i].Equals(keys[start]))
            {
                if (i - start > 1)
                {
                    Array.Sort(order, start, i - start);
                }

                start = i;
            }
        }
    }
}

/// <summary>Bucketing's seeded permutation (docs/AGGREGATION.md): Fisher–Yates driven by SplitMix64.</summary>
internal static class Bucketing
{
    public static int[] Permutation(int n, ulong seed)
    {
        var permutation = Enumerable.Range(0, n).ToArray();
        var random = new SplitMix64(seed);
        for (var i = n - 1; i >= 1; i--)
        {
            var j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }

        return permutation;
    }
}
