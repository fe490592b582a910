namespace FedAgg.Attacks;

/// <summary>
/// The z of "A Little Is Enough" (Baruch, Baruch and Goldberg, NeurIPS 2019, Algorithm 3): with n participants of
/// which f are Byzantine, the attackers need s = ⌊n/2 + 1⌋ − f honest "supporters" and shift each coordinate by
/// z_max = max { z : Φ(z) &lt; (n − s)/n } = Φ⁻¹((n − s)/n) standard deviations.
/// </summary>
/// <remarks>
/// Some public implementations (e.g. the code accompanying Karimireddy et al.'s bucketing paper) use
/// (n − f − s)/(n − f) instead, counting only the honest participants; this class follows the paper.
/// </remarks>
public static class Alie
{
    /// <summary>s = ⌊n/2 + 1⌋ − f, the number of honest participants the malicious value must look closer to than the mean.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, f &lt; 0 or f ≥ n.</exception>
    public static int Supporters(int totalParticipants, int byzantineCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalParticipants, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(byzantineCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(byzantineCount, totalParticipants);
        return (totalParticipants / 2) + 1 - byzantineCount;
    }

    /// <summary>z_max = Φ⁻¹((n − s)/n) with s = <see cref="Supporters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// n &lt; 1, f &lt; 0 or f ≥ n; or s ∉ [1, n − 1], where z_max would be infinite (f too large for the formula, or n ≤ 2 with f = 0).
    /// </exception>
    public static double ZMax(int totalParticipants, int byzantineCount)
    {
        var s = Supporters(totalParticipants, byzantineCount);
        if (s < 1 || s >= totalParticipants)
        {
            throw new ArgumentOutOfRangeException(
                nameof(byzantineCount),
                byzantineCount,
                $"ALIE's z_max needs 1 <= s < n for s = floor(n/2 + 1) - f; n = {totalParticipants}, f = {byzantineCount} gives s = {s}.");
        }

        return StandardNormal.InverseCdf((double)(totalParticipants - s) / totalParticipants);
    }
}
