namespace FedAgg.TestKit.Aggregation;

/// <summary>What a generated update is.</summary>
public enum UpdateKind
{
    Honest,

    /// <summary>Every coordinate ±<see cref="UpdatePlan.HugeMagnitude"/>·U(0.5, 1), one sign per update.</summary>
    Huge,

    /// <summary>An honest-looking update negated (gradient reversal).</summary>
    SignFlipped,

    /// <summary>Honest-looking, with NaN / +Inf / −Inf (cycling) at one or two coordinates.</summary>
    NonFinite,

    /// <summary>An exact copy of one of the honest updates.</summary>
    Duplicate,
}

/// <summary>How many updates of each kind, and the shape of the honest ones.</summary>
/// <param name="Count">n, all kinds together.</param>
/// <param name="Length">d.</param>
public sealed record UpdatePlan(int Count, int Length)
{
    public int Huge { get; init; }

    public int SignFlipped { get; init; }

    public int NonFinite { get; init; }

    public int Duplicates { get; init; }

    /// <summary>Honest values on a 1/64 grid, so that coordinates tie across updates.</summary>
    public bool Ties { get; init; }

    /// <summary>Every 7th coordinate (from 3) is +0 or −0 at random in the honest updates.</summary>
    public bool SignedZeros { get; init; }

    /// <summary>Scale of the common component shared by honest updates.</summary>
    public double CommonScale { get; init; } = 1.0;

    /// <summary>Per-update noise around the common component.</summary>
    public double NoiseScale { get; init; } = 0.01;

    /// <summary>Magnitude of <see cref="UpdateKind.Huge"/> values; 1e6 keeps centred squares far from float32 overflow.</summary>
    public double HugeMagnitude { get; init; } = 1e6;

    /// <summary>
    /// When &gt; 0, each honest value is scaled by 2^k, k uniform in [−spread, spread] (exact): with a spread beyond ~15
    /// the double sums of the rules round, so their summation order shows in the bits.
    /// </summary>
    public int ExponentSpread { get; init; }

    /// <summary>
    /// When &gt; 0, in about half the coordinates two honest updates hold +M and −M: sums cancel catastrophically, so
    /// that a different summation order changes the float32 result, not only the double's last bits.
    /// </summary>
    public double CancellingMagnitude { get; init; }

    /// <summary>Outliers at seeded random positions (true) or after the honest updates (false).</summary>
    public bool ShuffleKinds { get; init; } = true;

    public int HonestCount => Count - Huge - SignFlipped - NonFinite - Duplicates;
}

/// <summary>The generated updates and the kind of each.</summary>
public sealed class GeneratedUpdates(float[][] updates, UpdateKind[] kinds)
{
    public IReadOnlyList<float[]> Updates { get; } = updates;

    public IReadOnlyList<UpdateKind> Kinds { get; } = kinds;

    public IEnumerable<int> IndicesOf(UpdateKind kind)
    {
        for (var i = 0; i < Kinds.Count; i++)
        {
            if (Kinds[i] == kind)
            {
                yield return i;
            }
        }
    }
}

/// <summary>
/// Seeded test and benchmark data: honest updates are a common vector plus small noise (as real client updates
/// share a large common component), with planted outliers. Same seed and plan → same bits, on every machine
/// (SplitMix64 and only +, ×, conversions).
/// </summary>
public static class UpdateGenerator
{
    public static GeneratedUpdates Generate(ulong seed, UpdatePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(plan.HonestCount, nameof(plan));
        if (plan.Duplicates > 0 && plan.HonestCount == 0)
        {
            throw new ArgumentException("duplicates need at least one honest update to copy", nameof(plan));
        }

        var rng = new SplitMix64(seed);
        var n = plan.Count;
        var d = plan.Length;

        var kinds = new UpdateKind[n];
        var k = 0;
        Fill(kinds, ref k, plan.HonestCount, UpdateKind.Honest);
        Fill(kinds, ref k, plan.Huge, UpdateKind.Huge);
        Fill(kinds, ref k, plan.SignFlipped, UpdateKind.SignFlipped);
        Fill(kinds, ref k, plan.NonFinite, UpdateKind.NonFinite);
        Fill(kinds, ref k, plan.Duplicates, UpdateKind.Duplicate);
        if (plan.ShuffleKinds)
        {
            for (var i = n - 1; i >= 1; i--)
            {
                var j = (int)(rng.Next() % (ulong)(i + 1));
                (kinds[i], kinds[j]) = (kinds[j], kinds[i]);
            }
        }

        var common = new double[d];
        for (var c = 0; c < d; c++)
        {
            common[c] = rng.NextDouble(-1.0, 1.0) * plan.CommonScale;
        }

        var updates = new float[n][];
        var honest = new List<int>();
        for (var i = 0; i < n; i++)
        {
            if (kinds[i] == UpdateKind.Honest)
            {
                updates[i] = HonestLike(ref rng, plan, common);
                honest.Add(i);
            }
        }

        if (plan.CancellingMagnitude > 0 && honest.Count >= 2)
        {
            var m = (float)plan.CancellingMagnitude;
            for (var c = 0; c < d; c++)
            {
                if (rng.NextBool())
                {
                    var a = rng.NextInt(honest.Count);
                    var b = (a + 1 + rng.NextInt(honest.Count - 1)) % honest.Count;
                    updates[honest[a]][c] = m;
                    updates[honest[b]][c] = -m;
                }
            }
        }

        var nonFinite = 0;
        for (var i = 0; i < n; i++)
        {
            switch (kinds[i])
            {
                case UpdateKind.Huge:
                {
                    var sign = rng.NextBool() ? -1.0 : 1.0;
                    var x = new float[d];
                    for (var c = 0; c < d; c++)
                    {
                        x[c] = (float)(sign * plan.HugeMagnitude * rng.NextDouble(0.5, 1.0));
                    }

                    updates[i] = x;
                    break;
                }

                case UpdateKind.SignFlipped:
                {
                    var x = HonestLike(ref rng, plan, common);
                    for (var c = 0; c < d; c++)
                    {
                        x[c] = -x[c];
                    }

                    updates[i] = x;
                    break;
                }

                case UpdateKind.NonFinite:
                {
                    var x = HonestLike(ref rng, plan, common);
                    var bad = (nonFinite++ % 3) switch
                    {
                        0 => float.NaN,
                        1 => float.PositiveInfinity,
                        _ => float.NegativeInfinity,
                    };

                    // Sometimes the first or last coordinate; a second bad value after the first checks "first such j".
                    var at = rng.NextInt(4) switch
                    {
                        0 => 0,
                        1 => d - 1,
                        _ => rng.NextInt(d),
                    };
                    x[at] = bad;
                    if (at + 1 < d && rng.NextBool())
                    {
                        x[at + 1 + rng.NextInt(d - at - 1)] = float.NaN;
                    }

                    updates[i] = x;
                    break;
                }

                case UpdateKind.Duplicate:
                    updates[i] = (float[])updates[honest[rng.NextInt(honest.Count)]].Clone();
                    break;
                case UpdateKind.Honest:
                    break;
                default:
                    throw new InvalidOperationException($"unknown kind {kinds[i]}");
            }
        }

        return new GeneratedUpdates(updates, kinds);
    }

    /// <summary>Honest updates only (no outliers), as a plain array.</summary>
    public static float[][] Honest(ulong seed, int count, int length, double noiseScale = 0.01) =>
        [.. Generate(seed, new UpdatePlan(count, length) { NoiseScale = noiseScale }).Updates];

    private static void Fill(UpdateKind[] kinds, ref int k, int count, UpdateKind kind)
    {
        for (var i = 0; i < count; i++)
        {
            kinds[k++] = kind;
        }
    }

    private static float[] HonestLike(ref SplitMix64 rng, UpdatePlan plan, double[] common)
    {
        var x = new float[common.Length];
        for (var c = 0; c < x.Length; c++)
        {
            if (plan.SignedZeros && c % 7 == 3)
            {
                x[c] = rng.NextBool() ? -0.0f : 0.0f;
                continue;
            }

            var v = common[c] + (plan.NoiseScale * rng.NextGaussianLike());
            if (plan.Ties)
            {
                v = Math.Round(v * 64.0) / 64.0;
            }

            if (plan.ExponentSpread > 0)
            {
                v = Math.ScaleB(v, rng.NextInt((2 * plan.ExponentSpread) + 1) - plan.ExponentSpread);
            }

            x[c] = (float)v;
        }

        return x;
    }
}
