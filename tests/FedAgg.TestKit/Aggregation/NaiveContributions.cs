using FedAgg.Aggregation;

namespace FedAgg.TestKit.Aggregation;

/// <summary>
/// The independent scalar reference for contributions (docs/AGGREGATION.md, "Contributions and credits"): plain loops
/// over the document's definitions, built on <see cref="NaiveAggregation"/> and nothing of the engine. For the sorting
/// rules it sorts each coordinate's row indices by (value in the total order, index) and reads off who sits in the
/// kept positions, where the engine counts ranks with vector compares.
/// </summary>
public static class NaiveContributions
{
    /// <summary>One contribution per input (0 for excluded inputs), after exclusion and the pre-aggregation steps.</summary>
    /// <exception cref="AggregationException">As <see cref="NaiveAggregation.Aggregate"/>.</exception>
    public static double[] Compute(IReadOnlyList<float[]> updates, AggregationRule rule, IReadOnlyList<PreAggregationStep>? steps = null)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(rule);

        // Runs the whole reference once for its errors (lengths, preconditions), so both fail alike.
        NaiveAggregation.Aggregate(updates, rule, steps);

        var kept = new List<int>();
        for (var i = 0; i < updates.Count; i++)
        {
            if (NaiveAggregation.FirstNonFinite(updates[i]) < 0)
            {
                kept.Add(i);
            }
        }

        var rows = new List<float[]>(kept.Count);
        foreach (var i in kept)
        {
            rows.Add(updates[i]);
        }

        // rowOf[a]: the row the rule sees that kept input a ended up in.
        var rowOf = new int[kept.Count];
        for (var a = 0; a < rowOf.Length; a++)
        {
            rowOf[a] = a;
        }

        foreach (var step in steps ?? [])
        {
            if (step is BucketingStep bucketing)
            {
                var pi = NaiveAggregation.BucketPermutation(rows.Count, bucketing.Seed);
                for (var a = 0; a < rowOf.Length; a++)
                {
                    var position = Array.IndexOf(pi, rowOf[a]);
                    rowOf[a] = position / bucketing.BucketSize;
                }
            }

            rows = NaiveAggregation.ApplySteps(rows, [step]);
        }

        var perRow = RuleContributions(rows, rule);
        var result = new double[updates.Count];
        for (var a = 0; a < kept.Count; a++)
        {
            result[kept[a]] = perRow[rowOf[a]];
        }

        return result;
    }

    /// <summary>The contributions of the rows a rule sees (finite rows, pre-aggregation steps already applied).</summary>
    public static double[] RuleContributions(IReadOnlyList<float[]> rows, AggregationRule rule)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rule);
        var n = rows.Count;
        var d = rows[0].Length;
        var contributions = new double[n];
        switch (rule)
        {
            case MeanRule:
                Array.Fill(contributions, 1.0);
                break;
            case MedianRule:
            {
                var counts = KeptCounts(rows, n % 2 == 1 ? (n - 1) / 2 : (n / 2) - 1, n / 2);
                return Fractions(counts, d);
            }

            case TrimmedMeanRule trimmed:
            {
                var k = (int)Math.Floor(trimmed.Beta * n);
                return Fractions(KeptCounts(rows, k, n - k - 1), d);
            }

            case KrumRule or MultiKrumRule or BulyanRule:
                foreach (var i in NaiveAggregation.Aggregate(rows, rule).Selected)
                {
                    contributions[i] = 1.0;
                }

                break;
            case CenteredClippingRule clipping:
                return ClippingFactors(rows, clipping);
            case GeometricMedianRule median:
                return WeiszfeldWeights(rows, median);
            default:
                throw new NotSupportedException($"no contributions defined for rule {rule.Name}");
        }

        return contributions;
    }

    /// <summary>
    /// Per row, the number of coordinates at which the row sits in sorted positions [first, last], sorting each
    /// coordinate's (value, row index) pairs by the total order and then by index.
    /// </summary>
    public static long[] KeptCounts(IReadOnlyList<float[]> rows, int first, int last)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var counts = new long[n];
        var order = new int[n];
        for (var c = 0; c < rows[0].Length; c++)
        {
            for (var i = 0; i < n; i++)
            {
                order[i] = i;
            }

            // Insertion sort is stable: equal values keep ascending row order.
            for (var i = 1; i < n; i++)
            {
                var row = order[i];
                var key = NaiveAggregation.TotalOrderKey(rows[row][c]);
                var j = i - 1;
                while (j >= 0 && NaiveAggregation.TotalOrderKey(rows[order[j]][c]) > key)
                {
                    order[j + 1] = order[j];
                    j--;
                }

                order[j + 1] = row;
            }

            for (var p = first; p <= last; p++)
            {
                counts[order[p]]++;
            }
        }

        return counts;
    }

    private static double[] Fractions(long[] counts, int d)
    {
        var result = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            result[i] = d == 0 ? 0.0 : (double)counts[i] / d;
        }

        return result;
    }

    /// <summary>Centered clipping's s_i = min(1, τ/r_i) of the last iteration, running the iterations as the document states.</summary>
    public static double[] ClippingFactors(IReadOnlyList<float[]> rows, CenteredClippingRule rule)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rule);
        var n = rows.Count;
        var d = rows[0].Length;
        var v = new float[d];
        rule.Center?.Read(0, v);
        var s = new double[n];
        var e = new float[n][];
        for (var t = 0; t < rule.Iterations; t++)
        {
            for (var i = 0; i < n; i++)
            {
                e[i] = new float[d];
                for (var c = 0; c < d; c++)
                {
                    e[i][c] = rows[i][c] - v[c];
                }

                var r = Math.Sqrt(NaiveAggregation.Cdot(e[i], e[i]));
                s[i] = r <= rule.Tau ? 1.0 : rule.Tau / r;
            }

            for (var c = 0; c < d; c++)
            {
                var sum = 0.0;
                for (var i = 0; i < n; i++)
                {
                    if (s[i] != 0)
                    {
                        sum += s[i] * (double)e[i][c];
                    }
                }

                v[c] = (float)((double)v[c] + (sum / n));
            }
        }

        return s;
    }

    /// <summary>The geometric median's last-iteration weights w_i / W (W the dsum of the w_i in index order).</summary>
    public static double[] WeiszfeldWeights(IReadOnlyList<float[]> rows, GeometricMedianRule rule)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rule);
        var n = rows.Count;
        var z = NaiveAggregation.Mean(rows);
        var d = z.Length;
        var w = new double[n];
        var total = 0.0;
        var diff = new float[d];
        for (var t = 0; t < rule.Iterations; t++)
        {
            total = 0.0;
            for (var i = 0; i < n; i++)
            {
                for (var c = 0; c < d; c++)
                {
                    diff[c] = rows[i][c] - z[c];
                }

                w[i] = 1.0 / Math.Max(rule.Nu, Math.Sqrt(NaiveAggregation.Cdot(diff, diff)));
                total += w[i];
            }

            for (var c = 0; c < d; c++)
            {
                var sum = 0.0;
                for (var i = 0; i < n; i++)
                {
                    sum += w[i] * (double)rows[i][c];
                }

                z[c] = (float)(sum / total);
            }
        }

        var normalised = new double[n];
        for (var i = 0; i < n; i++)
        {
            normalised[i] = w[i] / total;
        }

        return normalised;
    }
}
