using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Aggregation.Tests.Support;

/// <summary>
/// Properties every implementation of docs/AGGREGATION.md must have, run with FsCheck against the engine and against the
/// reference (small n and d so that hundreds of cases take well under a second).
/// </summary>
public static class AggregationProperties
{
    private const int Cases = 400;

    /// <summary>Coarse grid values (ties), signed zeros, and 24-bit mantissas over 2^-40 … 2^10.</summary>
    private static readonly Gen<float> Value = Gen.Frequency(
        (3, Gen.Choose(-8, 8).Select(i => i / 4f)),
        (1, Gen.Elements(0f, -0f)),
        (4, from m in Gen.Choose(-(1 << 24) + 1, (1 << 24) - 1)
            from e in Gen.Choose(-40, -14)
            select (float)Math.ScaleB(m, e)));

    /// <summary>Multiples of 2^-10 within ±2^10 (and ±0): sums of up to 2^13 of them are exact in double.</summary>
    private static readonly Gen<float> ExactValue = Gen.Frequency(
        (6, Gen.Choose(-(1 << 20), 1 << 20).Select(m => (float)Math.ScaleB(m, -10))),
        (1, Gen.Elements(0f, -0f)));

    private static Gen<float[][]> Rows(Gen<float> value, int minN, int maxN, int maxD) =>
        from n in Gen.Choose(minN, maxN)
        from d in Gen.Choose(1, maxD)
        from rows in Gen.ArrayOf(Gen.ArrayOf(value, d), n)
        select rows;

    private static Gen<(float[][] Rows, int[] Permutation)> RowsAndPermutation(int minN, int maxN, int maxD) =>
        from rows in Rows(Value, minN, maxN, maxD)
        from perm in Gen.Shuffle(Enumerable.Range(0, rows.Length).ToArray())
        select (rows, perm);

    private static void Check<T>(Gen<T> gen, Action<T> property, int cases = Cases) =>
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true), Prop.ForAll(gen.ToArbitrary(), property));

    private static float[][] Permute(float[][] rows, int[] perm) => [.. perm.Select(i => rows[i])];

    /// <summary>
    /// mean is not bit-identical under permutation (the dsum order changes), but both results are f32 of the exact mean
    /// plus a double-rounding error of at most (n−1)·2^-53·Σ|x|: so they differ by at most one float32 ulp, plus that
    /// error where the mean is near 0.
    /// </summary>
    public static void MeanPermutationInvariantWithinRounding(Aggregator aggregate) =>
        Check(RowsAndPermutation(1, 9, 8), t =>
        {
            var a = aggregate(t.Rows, new MeanRule(), null).Output;
            var b = aggregate(Permute(t.Rows, t.Permutation), new MeanRule(), null).Output;
            for (var c = 0; c < a.Length; c++)
            {
                var sumAbs = t.Rows.Sum(r => Math.Abs((double)r[c]));
                var tolerance = (double)MathF.BitIncrement(Math.Max(Math.Abs(a[c]), Math.Abs(b[c]))) - Math.Max(Math.Abs(a[c]), Math.Abs(b[c]));
                tolerance += t.Rows.Length * Math.ScaleB(sumAbs, -52);
                Assert.True(Math.Abs((double)a[c] - b[c]) <= tolerance, $"coordinate {c}: {a[c]:R} vs {b[c]:R}");
            }
        });

    /// <summary>median and trimmed mean sort each coordinate first (total order), so the input order cannot matter.</summary>
    public static void SortingRulesPermutationInvariantBitExact(Aggregator aggregate) =>
        Check(
            from t in RowsAndPermutation(1, 9, 8)
            from beta in Gen.Elements(0.0, 0.1, 0.25, 0.4, 0.49)
            from median in Gen.Elements(true, false)
            select (t.Rows, t.Permutation, Rule: median ? (AggregationRule)new MedianRule() : new TrimmedMeanRule(beta)),
            t =>
            {
                var a = aggregate(t.Rows, t.Rule, null).Output;
                var b = aggregate(Permute(t.Rows, t.Permutation), t.Rule, null).Output;
                BitAssert.Equal(a, b, t.Rule.ToString());
            });

    /// <summary>
    /// With f updates huge (±1e6 and up, random or colluding), the robust rules stay within the honest updates'
    /// per-coordinate range: median (f &lt; n/2), trimmed mean with ⌊β·n⌋ ≥ f, Krum and Multi-Krum (m = n−f) with
    /// n ≥ 2f+3, Bulyan with n ≥ 4f+3.
    /// </summary>
    public static void RobustRulesStayInHonestRange(Aggregator aggregate)
    {
        var scenario =
            from kind in Gen.Choose(0, 4)
            from f in Gen.Choose(0, 3)
            from extra in Gen.Choose(0, 3)
            let n = kind switch
            {
                0 => (2 * f) + 1 + extra,         // median: f < n/2
                1 => (2 * f) + 2 + extra,         // trimmed mean: k = f needs 2f+1 < n
                2 or 3 => (2 * f) + 3 + extra,    // Krum, Multi-Krum
                _ => (4 * f) + 3 + extra,         // Bulyan
            }
            from d in Gen.Choose(1, 8)
            from honest in Gen.ArrayOf(Gen.ArrayOf(Value, d), n - f)
            from collude in Gen.Elements(true, false)
            from huge in Gen.ArrayOf(Gen.ArrayOf(
                from m in Gen.Choose(1 << 20, 1 << 24)
                from negative in Gen.Elements(true, false)
                select (negative ? -1f : 1f) * m, d), f)
            from positions in Gen.Shuffle(Enumerable.Range(0, n).ToArray())
            select (Kind: kind, F: f, N: n, Honest: honest, Huge: collude && f > 0 ? [.. Enumerable.Repeat(huge[0], f)] : huge, Positions: positions);

        Check(scenario, s =>
        {
            var rows = new float[s.N][];
            for (var i = 0; i < s.N; i++)
            {
                rows[s.Positions[i]] = i < s.Honest.Length ? s.Honest[i] : s.Huge[i - s.Honest.Length];
            }

            AggregationRule rule = s.Kind switch
            {
                0 => new MedianRule(),
                1 => new TrimmedMeanRule((s.F + 0.5) / s.N),
                2 => new KrumRule(s.F),
                3 => new MultiKrumRule(s.F),
                _ => new BulyanRule(s.F),
            };
            var output = aggregate(rows, rule, null).Output;
            for (var c = 0; c < output.Length; c++)
            {
                var lo = s.Honest.Min(h => h[c]);
                var hi = s.Honest.Max(h => h[c]);
                Assert.True(output[c] >= lo && output[c] <= hi, $"{rule}: coordinate {c} = {output[c]:R} outside honest [{lo:R}, {hi:R}]");
            }
        });
    }

    /// <summary>
    /// β = 0 trims nothing, so trimmed mean is the mean, but it sums in sorted order where mean sums in index order.
    /// The two are bit-identical exactly when the double sums are exact, which these inputs guarantee (multiples of
    /// 2^-10 within ±2^10); with arbitrary float32 inputs the identity does not hold bit for bit.
    /// </summary>
    public static void TrimmedMeanBetaZeroEqualsMean(Aggregator aggregate) =>
        Check(Rows(ExactValue, 1, 9, 8), rows =>
        {
            var mean = aggregate(rows, new MeanRule(), null).Output;
            var trimmed = aggregate(rows, new TrimmedMeanRule(0), null).Output;
            BitAssert.Equal(mean, trimmed);
        });

    /// <summary>
    /// n copies of x give x back for every rule. Compared with == rather than by bits: every dsum starts at +0.0, so a
    /// −0 coordinate comes back as +0 from the averaging rules (the median keeps −0).
    /// </summary>
    public static void IdenticalInputsGiveThatInputBack(Aggregator aggregate) =>
        Check(
            from n in Gen.Choose(1, 9)
            from x in Gen.Choose(1, 12).SelectMany(d => Gen.ArrayOf(Value, d))
            from which in Gen.Choose(0, 8)
            select (N: n, X: x, Which: which),
            s =>
            {
                var rows = Enumerable.Repeat(s.X, s.N).ToArray();
                AggregationRule rule = s.Which switch
                {
                    0 => new MeanRule(),
                    1 => new MedianRule(),
                    2 => new TrimmedMeanRule(0.25),
                    3 when s.N >= 3 => new KrumRule((s.N - 3) / 2),
                    4 when s.N >= 3 => new MultiKrumRule((s.N - 3) / 2),
                    5 when s.N >= 3 => new BulyanRule((s.N - 3) / 4),
                    6 => new GeometricMedianRule(1e-6, 3),

                    // τ above ‖x‖: the first step is unclipped and lands on x exactly; later steps add 0.
                    7 => new CenteredClippingRule(1e30, 3),
                    _ => new MeanRule(),
                };
                var output = aggregate(rows, rule, null).Output;
                for (var c = 0; c < output.Length; c++)
                {
                    Assert.True(output[c] == s.X[c], $"{rule}: coordinate {c} = {output[c]:R}, input {s.X[c]:R}");
                }
            });

    /// <summary>
    /// Centered clipping from 0 with τ = ‖x‖/4 moves v by at most τ a step, so after 4 clipped steps it is within
    /// float32 rounding of x, and the unclipped steps after that land on x up to the rounding of x − v (float32) and
    /// of v + mean(e) (f32): a tolerance of a few ulps of ‖x‖, not bit equality.
    /// </summary>
    public static void CenteredClippingConvergesToIdenticalInputs(Aggregator aggregate) =>
        Check(
            from n in Gen.Choose(1, 6)
            from x in Gen.Choose(1, 12).SelectMany(d => Gen.ArrayOf(Gen.Choose(-1000, 1000).Select(i => i / 8f), d))
            select (N: n, X: x),
            s =>
            {
                var norm = Math.Sqrt(s.X.Sum(v => (double)v * v));
                if (norm == 0)
                {
                    return;
                }

                var rows = Enumerable.Repeat(s.X, s.N).ToArray();
                var output = aggregate(rows, new CenteredClippingRule(norm / 4, 8), null).Output;
                for (var c = 0; c < output.Length; c++)
                {
                    Assert.True(Math.Abs(output[c] - s.X[c]) <= 1e-6 * norm, $"coordinate {c} = {output[c]:R}, input {s.X[c]:R}");
                }
            },
            cases: 200);
}
