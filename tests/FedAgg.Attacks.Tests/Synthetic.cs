namespace FedAgg.Attacks.Tests;

/// <summary>Seeded synthetic updates and contexts for the attack tests.</summary>
internal static class Synthetic
{
    /// <summary>
    /// <paramref name="count"/> vectors of length <paramref name="d"/>: a shared per-coordinate drift plus
    /// per-update noise whose scale differs per coordinate, like honest updates around a common direction.
    /// </summary>
    public static float[][] Updates(int count, int d, int seed)
    {
        var random = new Random(seed);
        var drift = new double[d];
        var scale = new double[d];
        for (var c = 0; c < d; c++)
        {
            drift[c] = (random.NextDouble() - 0.5) * 0.02;
            scale[c] = 0.001 + (random.NextDouble() * 0.01);
        }

        var updates = new float[count][];
        for (var j = 0; j < count; j++)
        {
            updates[j] = new float[d];
            for (var c = 0; c < d; c++)
            {
                updates[j][c] = (float)(drift[c] + (scale[c] * ((random.NextDouble() * 2) - 1)));
            }
        }

        return updates;
    }

    public static float[] Vector(int d, int seed) => Updates(1, d, seed)[0];

    public static ReadOnlyMemory<float>[] AsMemory(IEnumerable<float[]> vectors) =>
        vectors.Select(v => (ReadOnlyMemory<float>)v).ToArray();

    public static AttackContext Context(float[] own, ulong seed = 1, ulong round = 3) => new()
    {
        ParticipantId = "byz-0",
        Round = round,
        Seed = seed,
        HonestUpdate = own,
    };

    public static void AssertBitsEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = BitConverter.SingleToInt32Bits(expected[i]);
            var a = BitConverter.SingleToInt32Bits(actual[i]);
            if (e != a)
            {
                Assert.Fail($"element {i}: expected {expected[i]:R} (0x{e:x8}), got {actual[i]:R} (0x{a:x8})");
            }
        }
    }
}
