using FedAgg.Aggregation;

namespace FedAgg.TestKit.Aggregation;

/// <summary>What <see cref="NaiveAggregation.Aggregate"/> computed, shaped like the engine's result.</summary>
/// <param name="Output">The aggregate (length d).</param>
/// <param name="Selected">Chosen updates (original indices, or bucket indices after bucketing); empty for non-selecting rules.</param>
/// <param name="Scores">First-pass Krum scores, one per original input (NaN when excluded) or per bucket; empty for non-selecting rules.</param>
/// <param name="Excluded">Excluded inputs with their reasons, ascending index.</param>
/// <param name="AggregatedCount">Updates the rule saw (after exclusion and pre-aggregation steps).</param>
public sealed record NaiveAggregationResult(
    float[] Output,
    int[] Selected,
    double[] Scores,
    IReadOnlyList<(int Index, string Reason)> Excluded,
    int AggregatedCount);

/// <summary>
/// The independent scalar reference of docs/AGGREGATION.md: plain loops, no SIMD, no engine internals, every
/// floating-point operation in the order the document fixes, so that a correct engine matches it bit for bit.
/// Slow on purpose: O(n²·d) distances, insertion sorts per coordinate.
/// </summary>
public static class NaiveAggregation
{
    /// <summary>C in the document: coordinates per chunk of <see cref="Cdot"/>.</summary>
    public const int ChunkLength = 1024;

    /// <summary>float32 accumulators per chunk of <see cref="Cdot"/>.</summary>
    public const int Lanes = 16;

    /// <summary>Exclusion, the pre-aggregation steps in order, then the rule.</summary>
    /// <exception cref="AggregationException">Lengths differ, no finite update is left, or a precondition fails.</exception>
    public static NaiveAggregationResult Aggregate(
        IReadOnlyList<float[]> updates,
        AggregationRule rule,
        IReadOnlyList<PreAggregationStep>? steps = null)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(rule);
        var inputCount = updates.Count;

        // Lengths first: an update of another length is an error, not an exclusion.
        if (inputCount > 0)
        {
            var d = updates[0].Length;
            for (var i = 1; i < inputCount; i++)
            {
                if (updates[i].Length != d)
                {
                    throw new AggregationException(
                        $"update {i} has length {updates[i].Length}, but update 0 has length {d}: update lengths differ");
                }
            }
        }

        var excluded = new List<(int Index, string Reason)>();
        var kept = new List<int>();
        for (var i = 0; i < inputCount; i++)
        {
            var j = FirstNonFinite(updates[i]);
            if (j >= 0)
            {
                excluded.Add((i, $"non-finite value at index {j}"));
            }
            else
            {
                kept.Add(i);
            }
        }

        if (kept.Count == 0)
        {
            throw new AggregationException(
                $"no finite updates left to aggregate: {excluded.Count} of {inputCount} inputs were excluded");
        }

        var rows = new List<float[]>(kept.Count);
        foreach (var i in kept)
        {
            rows.Add(updates[i]);
        }

        var bucketed = false;
        foreach (var step in steps ?? [])
        {
            step.Validate(rows.Count);
            rows = ApplyStep(rows, step);
            bucketed |= step is BucketingStep;
        }

        rule.Validate(rows.Count);
        var (output, selectedLocal, scoresLocal) = ApplyRule(rows, rule);

        // Local index i of the rule's input is kept[i] without bucketing, the bucket index i with it.
        var selected = new int[selectedLocal.Length];
        for (var s = 0; s < selected.Length; s++)
        {
            selected[s] = bucketed ? selectedLocal[s] : kept[selectedLocal[s]];
        }

        double[] scores;
        if (scoresLocal.Length == 0 || bucketed)
        {
            scores = scoresLocal;
        }
        else
        {
            scores = new double[inputCount];
            Array.Fill(scores, double.NaN);
            for (var i = 0; i < kept.Count; i++)
            {
                scores[kept[i]] = scoresLocal[i];
            }
        }

        return new NaiveAggregationResult(output, selected, scores, excluded, rows.Count);
    }

    /// <summary>Index of the first NaN or ±Inf, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> x)
    {
        for (var c = 0; c < x.Length; c++)
        {
            if (!float.IsFinite(x[c]))
            {
                return c;
            }
        }

        return -1;
    }

    /// <summary>The pre-aggregation steps alone, in order, on finite updates (no exclusion, no validation).</summary>
    public static List<float[]> ApplySteps(IReadOnlyList<float[]> rows, IReadOnlyList<PreAggregationStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var current = new List<float[]>(rows);
        foreach (var step in steps)
        {
            current = ApplyStep(current, step);
        }

        return current;
    }

    // ---- arithmetic primitives --------------------------------------------------------------------------------

    /// <summary>
    /// cdot: per 1024-coordinate chunk, 16 float32 fma chains (lane l takes the coordinates c with c mod 16 = l,
    /// ascending); the chunk partial folds the lanes pairwise (<see cref="LaneFold"/>); the result is the dsum of the
    /// chunk partials in chunk order.
    /// </summary>
    public static double Cdot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException("cdot needs vectors of the same length", nameof(b));
        }

        var total = 0.0;
        for (var start = 0; start < a.Length; start += ChunkLength)
        {
            var end = Math.Min(a.Length, start + ChunkLength);
            var lanes = new double[Lanes];
            for (var lane = 0; lane < Lanes; lane++)
            {
                var acc = 0.0f;
                for (var c = start + lane; c < end; c += Lanes)
                {
                    acc = MathF.FusedMultiplyAdd(a[c], b[c], acc);
                }

                lanes[lane] = acc;
            }

            total += LaneFold(lanes);
        }

        return total;
    }

    /// <summary>The doc's lane fold: b_i = l_i + l_{i+8}, c_i = b_i + b_{i+4}, e_i = c_i + c_{i+2}, then e_0 + e_1.</summary>
    public static double LaneFold(double[] l)
    {
        var b = new double[8];
        for (var i = 0; i < 8; i++)
        {
            b[i] = l[i] + l[i + 8];
        }

        var c = new double[4];
        for (var i = 0; i < 4; i++)
        {
            c[i] = b[i] + b[i + 4];
        }

        var e0 = c[0] + c[2];
        var e1 = c[1] + c[3];
        return e0 + e1;
    }

    /// <summary>dsum: double accumulator from +0.0, elements widened exactly, in the given order.</summary>
    public static double Dsum(ReadOnlySpan<float> values)
    {
        var s = 0.0;
        foreach (var v in values)
        {
            s += v;
        }

        return s;
    }

    /// <summary>The total order key: −0 &lt; +0, otherwise the usual order (NaN never reaches a rule).</summary>
    public static int TotalOrderKey(float value)
    {
        var bits = BitConverter.SingleToInt32Bits(value);

        // Negative floats: flip the magnitude bits so that a larger magnitude gives a smaller key; −0 becomes −1.
        return bits < 0 ? bits ^ 0x7FFFFFFF : bits;
    }

    public static int CompareTotalOrder(float x, float y) => TotalOrderKey(x).CompareTo(TotalOrderKey(y));

    /// <summary>Sorts in place, ascending in the total order (insertion sort: n is small here).</summary>
    public static void SortTotalOrder(Span<float> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            var v = values[i];
            var j = i - 1;
            while (j >= 0 && CompareTotalOrder(values[j], v) > 0)
            {
                values[j + 1] = values[j];
                j--;
            }

            values[j + 1] = v;
        }
    }

    /// <summary>The Fisher–Yates permutation of 0..n−1 driven by SplitMix64(seed).</summary>
    public static int[] BucketPermutation(int n, ulong seed)
    {
        var pi = new int[n];
        for (var i = 0; i < n; i++)
        {
            pi[i] = i;
        }

        var rng = new SplitMix64(seed);
        for (var i = n - 1; i >= 1; i--)
        {
            var j = (int)(rng.Next() % (ulong)(i + 1));
            (pi[i], pi[j]) = (pi[j], pi[i]);
        }

        return pi;
    }

    // ---- distances and Krum --------------------------------------------------------------------------------------

    /// <summary>
    /// D of the document: rows centred on the mean rule's output (float32 subtraction), G = cdot of centred rows,
    /// D_ij = max(0, (G_ii + G_jj) − 2·G_ij) in double, D_ii = 0. Math.Max keeps a NaN (see the report on overflow).
    /// </summary>
    public static double[][] Distances(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var mu = Mean(rows);
        var y = new float[n][];
        for (var i = 0; i < n; i++)
        {
            y[i] = new float[mu.Length];
            for (var c = 0; c < mu.Length; c++)
            {
                y[i][c] = rows[i][c] - mu[c];
            }
        }

        var g = new double[n][];
        for (var i = 0; i < n; i++)
        {
            g[i] = new double[n];
            for (var j = 0; j < n; j++)
            {
                g[i][j] = Cdot(y[i], y[j]);
            }
        }

        var dist = new double[n][];
        for (var i = 0; i < n; i++)
        {
            dist[i] = new double[n];
            for (var j = 0; j < n; j++)
            {
                var t = (g[i][i] + g[j][j]) - (2.0 * g[i][j]);
                dist[i][j] = i == j ? 0.0 : double.IsFinite(t) ? Math.Max(0.0, t) : double.PositiveInfinity;
            }
        }

        return dist;
    }

    /// <summary>
    /// Krum scores of <paramref name="candidates"/> (local indices) against each other: with r candidates,
    /// q = max(1, r − f − 2), the dsum of the q smallest distances to the other candidates, ascending.
    /// Returned in the order of <paramref name="candidates"/>.
    /// </summary>
    public static double[] KrumScores(double[][] distances, IReadOnlyList<int> candidates, int f)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(candidates);
        var r = candidates.Count;
        var q = Math.Max(1, r - f - 2);
        var scores = new double[r];
        for (var a = 0; a < r; a++)
        {
            var i = candidates[a];
            var others = new List<double>(r - 1);
            foreach (var j in candidates)
            {
                if (j != i)
                {
                    others.Add(distances[i][j]);
                }
            }

            others.Sort();

            // Only a lone candidate has fewer than q others (Bulyan's last pick with f = 0); its score is 0.
            var s = 0.0;
            for (var k = 0; k < Math.Min(q, others.Count); k++)
            {
                s += others[k];
            }

            scores[a] = s;
        }

        return scores;
    }

    /// <summary>Position of the lowest score; ties go to the first (candidates are kept in ascending index order).</summary>
    private static int ArgMin(double[] scores)
    {
        var best = 0;
        for (var a = 1; a < scores.Length; a++)
        {
            if (scores[a] < scores[best])
            {
                best = a;
            }
        }

        return best;
    }

    // ---- rules ---------------------------------------------------------------------------------------------------

    /// <summary>mean: f32(dsum over i ascending / n) per coordinate.</summary>
    public static float[] Mean(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var d = rows[0].Length;
        var output = new float[d];
        for (var c = 0; c < d; c++)
        {
            var s = 0.0;
            for (var i = 0; i < n; i++)
            {
                s += rows[i][c];
            }

            output[c] = (float)(s / n);
        }

        return output;
    }

    /// <summary>The values of coordinate <paramref name="c"/> of <paramref name="members"/>, sorted in the total order.</summary>
    private static float[] SortedColumn(IReadOnlyList<float[]> rows, IReadOnlyList<int> members, int c)
    {
        var column = new float[members.Count];
        for (var a = 0; a < members.Count; a++)
        {
            column[a] = rows[members[a]][c];
        }

        SortTotalOrder(column);
        return column;
    }

    private static int[] Range(int n)
    {
        var all = new int[n];
        for (var i = 0; i < n; i++)
        {
            all[i] = i;
        }

        return all;
    }

    /// <summary>Median of sorted values: odd n the middle exactly, even n f32 of the double mean of the middle two.</summary>
    public static float MedianOfSorted(ReadOnlySpan<float> s)
    {
        var n = s.Length;
        return n % 2 == 1 ? s[(n - 1) / 2] : (float)(((double)s[(n / 2) - 1] + (double)s[n / 2]) / 2);
    }

    public static float[] Median(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var all = Range(rows.Count);
        var output = new float[rows[0].Length];
        for (var c = 0; c < output.Length; c++)
        {
            output[c] = MedianOfSorted(SortedColumn(rows, all, c));
        }

        return output;
    }

    public static float[] TrimmedMean(IReadOnlyList<float[]> rows, double beta)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var k = (int)Math.Floor(beta * n);
        var all = Range(n);
        var output = new float[rows[0].Length];
        for (var c = 0; c < output.Length; c++)
        {
            var s = SortedColumn(rows, all, c);
            var sum = 0.0;
            for (var t = k; t <= n - k - 1; t++)
            {
                sum += s[t];
            }

            output[c] = (float)(sum / (n - (2 * k)));
        }

        return output;
    }

    /// <summary>
    /// Bulyan's coordinate step over the θ selected values, sorted: med as a double, β = θ − 2f, window start w = the
    /// number of t in [0, θ − β) with med − s_t &gt; s_{t+β} − med; f32(dsum(s_w … s_{w+β−1}) / β).
    /// </summary>
    public static float BulyanCoordinate(ReadOnlySpan<float> sorted, int f)
    {
        var theta = sorted.Length;
        var med = theta % 2 == 1
            ? (double)sorted[(theta - 1) / 2]
            : ((double)sorted[(theta / 2) - 1] + (double)sorted[theta / 2]) / 2;
        var beta = theta - (2 * f);
        var w = 0;
        for (var t = 0; t < theta - beta; t++)
        {
            if (med - (double)sorted[t] > (double)sorted[t + beta] - med)
            {
                w++;
            }
        }

        var sum = 0.0;
        for (var t = w; t < w + beta; t++)
        {
            sum += sorted[t];
        }

        return (float)(sum / beta);
    }

    private static (float[] Output, int[] Selected, double[] Scores) ApplyRule(List<float[]> rows, AggregationRule rule)
    {
        var n = rows.Count;
        switch (rule)
        {
            case MeanRule:
                return (Mean(rows), [], []);
            case MedianRule:
                return (Median(rows), [], []);
            case TrimmedMeanRule t:
                return (TrimmedMean(rows, t.Beta), [], []);
            case KrumRule k:
            {
                var scores = KrumScores(Distances(rows), Range(n), k.F);
                var winner = ArgMin(scores);
                return ((float[])rows[winner].Clone(), [winner], scores);
            }

            case MultiKrumRule mk:
            {
                var scores = KrumScores(Distances(rows), Range(n), mk.F);
                var m = mk.M ?? (n - mk.F);

                // Ascending score, ties to the lower index.
                var order = Range(n);
                Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[a].CompareTo(scores[b]) : a.CompareTo(b));
                var selected = order[..m];
                var ascending = (int[])selected.Clone();
                Array.Sort(ascending);
                var output = new float[rows[0].Length];
                for (var c = 0; c < output.Length; c++)
                {
                    var s = 0.0;
                    foreach (var i in ascending)
                    {
                        s += rows[i][c];
                    }

                    output[c] = (float)(s / m);
                }

                return (output, selected, scores);
            }

            case BulyanRule b:
            {
                var distances = Distances(rows);
                var firstScores = KrumScores(distances, Range(n), b.F);
                var theta = n - (2 * b.F);
                var remaining = new List<int>(Range(n));
                var selected = new List<int>(theta);
                while (selected.Count < theta)
                {
                    var scores = KrumScores(distances, remaining, b.F);
                    var pick = remaining[ArgMin(scores)];
                    selected.Add(pick);
                    remaining.Remove(pick);
                }

                var output = new float[rows[0].Length];
                for (var c = 0; c < output.Length; c++)
                {
                    output[c] = BulyanCoordinate(SortedColumn(rows, selected, c), b.F);
                }

                return (output, [.. selected], firstScores);
            }

            case CenteredClippingRule cc:
                return (CenteredClipping(rows, cc), [], []);
            case GeometricMedianRule gm:
                return (GeometricMedian(rows, gm.Nu, gm.Iterations), [], []);
            default:
                throw new NotSupportedException($"the reference does not know rule {rule.Name}");
        }
    }

    public static float[] CenteredClipping(IReadOnlyList<float[]> rows, CenteredClippingRule rule)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rule);
        var n = rows.Count;
        var d = rows[0].Length;
        var v = new float[d];
        if (rule.Center is { } center)
        {
            if (center.Length != d)
            {
                throw new AggregationException(
                    $"centered-clipping: the centre has length {center.Length}, the updates have length {d}");
            }

            center.Read(0, v);
        }

        var e = new float[n][];
        var scale = new double[n];
        for (var iteration = 0; iteration < rule.Iterations; iteration++)
        {
            for (var i = 0; i < n; i++)
            {
                e[i] = new float[d];
                for (var c = 0; c < d; c++)
                {
                    e[i][c] = rows[i][c] - v[c];
                }

                var r = Math.Sqrt(Cdot(e[i], e[i]));
                scale[i] = r <= rule.Tau ? 1.0 : rule.Tau / r;
            }

            for (var c = 0; c < d; c++)
            {
                var s = 0.0;
                for (var i = 0; i < n; i++)
                {
                    s += scale[i] * (double)e[i][c];
                }

                v[c] = (float)((double)v[c] + (s / n));
            }
        }

        return v;
    }

    public static float[] GeometricMedian(IReadOnlyList<float[]> rows, double nu, int iterations)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var z = Mean(rows);
        var d = z.Length;
        var w = new double[n];
        var diff = new float[d];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var total = 0.0;
            for (var i = 0; i < n; i++)
            {
                for (var c = 0; c < d; c++)
                {
                    diff[c] = rows[i][c] - z[c];
                }

                var r = Math.Sqrt(Cdot(diff, diff));
                w[i] = 1.0 / Math.Max(nu, r);
                total += w[i];
            }

            for (var c = 0; c < d; c++)
            {
                var s = 0.0;
                for (var i = 0; i < n; i++)
                {
                    s += w[i] * (double)rows[i][c];
                }

                z[c] = (float)(s / total);
            }
        }

        return z;
    }

    // ---- pre-aggregation steps -----------------------------------------------------------------------------------

    private static List<float[]> ApplyStep(List<float[]> rows, PreAggregationStep step) => step switch
    {
        ClipNormStep clip => ClipNorm(rows, clip.MaxNorm),
        NearestNeighbourMixingStep mix => NearestNeighbourMixing(rows, mix.F),
        BucketingStep bucket => Bucketing(rows, bucket.BucketSize, bucket.Seed),
        _ => throw new NotSupportedException($"the reference does not know step {step.Name}"),
    };

    public static List<float[]> ClipNorm(IReadOnlyList<float[]> rows, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var result = new List<float[]>(rows.Count);
        foreach (var x in rows)
        {
            var r = Math.Sqrt(Cdot(x, x));
            if (r > maxNorm)
            {
                var factor = maxNorm / r;
                var y = new float[x.Length];
                for (var c = 0; c < x.Length; c++)
                {
                    y[c] = (float)((double)x[c] * factor);
                }

                result.Add(y);
            }
            else
            {
                result.Add(x);
            }
        }

        return result;
    }

    public static List<float[]> NearestNeighbourMixing(IReadOnlyList<float[]> rows, int f)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var keep = n - f;
        var distances = Distances(rows);
        var result = new List<float[]>(n);
        for (var i = 0; i < n; i++)
        {
            // The n − f smallest D_ij, ties to the lower j; then summed in ascending j.
            var order = Range(n);
            var di = distances[i];
            Array.Sort(order, (a, b) => di[a] != di[b] ? di[a].CompareTo(di[b]) : a.CompareTo(b));
            var neighbours = order[..keep];
            Array.Sort(neighbours);
            var y = new float[rows[0].Length];
            for (var c = 0; c < y.Length; c++)
            {
                var s = 0.0;
                foreach (var j in neighbours)
                {
                    s += rows[j][c];
                }

                y[c] = (float)(s / keep);
            }

            result.Add(y);
        }

        return result;
    }

    public static List<float[]> Bucketing(IReadOnlyList<float[]> rows, int bucketSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = rows.Count;
        var pi = BucketPermutation(n, seed);
        var result = new List<float[]>();
        for (var start = 0; start < n; start += bucketSize)
        {
            var end = Math.Min(n, start + bucketSize);
            var y = new float[rows[0].Length];
            for (var c = 0; c < y.Length; c++)
            {
                // Members in bucket order, i.e. the order of the permutation, not ascending index.
                var s = 0.0;
                for (var p = start; p < end; p++)
                {
                    s += rows[pi[p]][c];
                }

                y[c] = (float)(s / (end - start));
            }

            result.Add(y);
        }

        return result;
    }
}
