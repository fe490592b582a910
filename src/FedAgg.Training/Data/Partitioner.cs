using FedAgg.Core;

namespace FedAgg.Training.Data;

/// <summary>
/// Splits a data set's sample indices among participants, reproducibly from a seed (<see cref="SplitMix64"/>).
/// Every index goes to exactly one participant and every participant gets at least one; each shard is sorted.
/// </summary>
public static class Partitioner
{
    /// <summary>The most participants a split may have.</summary>
    public const int MaxParticipants = 1_000_000;

    /// <summary>
    /// IID split: a seeded Fisher–Yates shuffle of <c>0 … count − 1</c> cut into <paramref name="participants"/>
    /// consecutive shards whose sizes differ by at most one (the first <c>count mod participants</c> get the extra one).
    /// </summary>
    /// <param name="count">The number of samples, at least <paramref name="participants"/>.</param>
    /// <param name="participants">1 … <see cref="MaxParticipants"/>.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>One sorted index array per participant.</returns>
    public static int[][] Iid(int count, int participants, ulong seed)
    {
        CheckParticipants(count, participants);
        var permutation = new int[count];
        for (var i = 0; i < count; i++)
        {
            permutation[i] = i;
        }

        var random = new SplitMix64(seed);
        Shuffle(permutation, ref random);
        var shards = new int[participants][];
        var baseSize = count / participants;
        var extra = count % participants;
        var start = 0;
        for (var p = 0; p < participants; p++)
        {
            var size = baseSize + (p < extra ? 1 : 0);
            shards[p] = permutation.AsSpan(start, size).ToArray();
            Array.Sort(shards[p]);
            start += size;
        }

        return shards;
    }

    /// <summary>
    /// Non-IID split by a Dirichlet distribution over participants for each class (Hsu, Qi and Brown 2019): the indices
    /// of class c are shuffled and cut in proportions <c>q ~ Dir(α, …, α)</c> (cut points <c>round(n_c · Σ_{j≤p} q_j)</c>).
    /// Small α gives each participant few classes; large α approaches an IID split. Gammas are drawn by
    /// Marsaglia–Tsang (with the <c>U^{1/α}</c> boost for α &lt; 1) and normalised in log space, so tiny α is safe.
    /// A participant left empty then takes the last index of the largest shard (lowest participant on ties).
    /// </summary>
    /// <param name="labels">The label of each sample; the class count is the largest label plus one.</param>
    /// <param name="participants">1 … <see cref="MaxParticipants"/>, at most the number of samples.</param>
    /// <param name="alpha">The concentration, 1e-3 … 1e6.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>One sorted index array per participant.</returns>
    public static int[][] Dirichlet(ReadOnlySpan<byte> labels, int participants, double alpha, ulong seed)
    {
        CheckParticipants(labels.Length, participants);
        if (!(alpha is >= 1e-3 and <= 1e6))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The Dirichlet concentration must be in 1e-3 … 1e6.");
        }

        var classCount = 0;
        foreach (var label in labels)
        {
            classCount = Math.Max(classCount, label + 1);
        }

        var byClass = new List<int>[classCount];
        for (var c = 0; c < classCount; c++)
        {
            byClass[c] = [];
        }

        for (var i = 0; i < labels.Length; i++)
        {
            byClass[labels[i]].Add(i);
        }

        var shards = new List<int>[participants];
        for (var p = 0; p < participants; p++)
        {
            shards[p] = [];
        }

        var random = new SplitMix64(seed);
        var logGammas = new double[participants];
        for (var c = 0; c < classCount; c++)
        {
            var members = byClass[c].ToArray();
            Shuffle(members, ref random);
            var max = double.NegativeInfinity;
            for (var p = 0; p < participants; p++)
            {
                logGammas[p] = LogGamma(alpha, ref random);
                max = Math.Max(max, logGammas[p]);
            }

            var sum = 0.0;
            for (var p = 0; p < participants; p++)
            {
                sum += Math.Exp(logGammas[p] - max);
            }

            var cumulative = 0.0;
            var start = 0;
            for (var p = 0; p < participants; p++)
            {
                cumulative += Math.Exp(logGammas[p] - max) / sum;
                var end = p == participants - 1 ? members.Length : Math.Clamp((int)Math.Round(members.Length * cumulative), start, members.Length);
                shards[p].AddRange(members.AsSpan(start, end - start));
                start = end;
            }
        }

        for (var p = 0; p < participants; p++)
        {
            if (shards[p].Count > 0)
            {
                continue;
            }

            var largest = 0;
            for (var q = 1; q < participants; q++)
            {
                if (shards[q].Count > shards[largest].Count)
                {
                    largest = q;
                }
            }

            var donor = shards[largest];
            shards[p].Add(donor[^1]);
            donor.RemoveAt(donor.Count - 1);
        }

        var result = new int[participants][];
        for (var p = 0; p < participants; p++)
        {
            result[p] = [.. shards[p]];
            Array.Sort(result[p]);
        }

        return result;
    }

    /// <summary>A uniform integer in <c>0 … bound − 1</c> (Lemire's multiply-high; the bias is below 2^-32 for any int bound).</summary>
    internal static int NextInt(ref SplitMix64 random, int bound) => (int)Math.BigMul(random.NextUInt64(), (ulong)bound, out _);

    /// <summary>A seeded Fisher–Yates shuffle in place.</summary>
    internal static void Shuffle(Span<int> values, ref SplitMix64 random)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(ref random, i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>The natural log of a Gamma(shape, 1) draw (Marsaglia and Tsang 2000).</summary>
    internal static double LogGamma(double shape, ref SplitMix64 random)
    {
        if (shape < 1)
        {
            // Gamma(a) = Gamma(a + 1) · U^(1/a); kept in logs because U^(1/a) underflows for small a.
            var boost = Math.Log(1.0 - random.NextDouble()) / shape;
            return LogGamma(shape + 1, ref random) + boost;
        }

        var d = shape - (1.0 / 3.0);
        var c = 1.0 / Math.Sqrt(9 * d);
        for (var attempt = 0; attempt < 10_000; attempt++)
        {
            var x = random.NextGaussian();
            var v = 1 + (c * x);
            if (v <= 0)
            {
                continue;
            }

            v = v * v * v;
            var u = 1.0 - random.NextDouble();
            if (Math.Log(u) < (0.5 * x * x) + d - (d * v) + (d * Math.Log(v)))
            {
                return Math.Log(d * v);
            }
        }

        // The acceptance rate is above 95% for every shape ≥ 1; this is unreachable in practice.
        throw new InvalidOperationException("Gamma sampling did not accept a draw in 10,000 attempts.");
    }

    private static void CheckParticipants(int count, int participants)
    {
        if (participants is < 1 or > MaxParticipants)
        {
            throw new ArgumentOutOfRangeException(nameof(participants), participants, $"Participants must be 1 … {MaxParticipants}.");
        }

        if (count < participants)
        {
            throw new ArgumentException($"{count} samples cannot give each of {participants} participants at least one.", nameof(participants));
        }
    }
}
