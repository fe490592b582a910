using System.Numerics;

namespace FedAgg.Aggregation.Credits;

/// <summary>
/// Splits an integer amount of credits in proportion to contributions, exactly (docs/AGGREGATION.md, "Contributions and
/// credits"): the largest-remainder (Hamilton) method on exact rational arithmetic, so every verifier gets the same
/// integers whatever its floating-point hardware.
/// </summary>
public static class CreditSplit
{
    /// <summary>
    /// Distributes <paramref name="total"/> over the inputs in proportion to <paramref name="contributions"/>. Each
    /// contribution is taken as the exact dyadic rational its double holds; input i first gets ⌊total·c_i / Σc⌋, then
    /// the credits left over (fewer than the number of inputs) go one each to the largest remainders
    /// (total·c_i mod Σc), ties to the lower index. The amounts sum to exactly <paramref name="total"/>, except when every
    /// contribution is 0: then nobody contributed and nothing is paid (all amounts 0).
    /// </summary>
    /// <param name="total">Credits to distribute; ≥ 0.</param>
    /// <param name="contributions">One finite, non-negative value per input.</param>
    /// <returns>One amount per input, in input order.</returns>
    /// <exception cref="ArgumentException">A contribution is negative, NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="total"/> is negative.</exception>
    public static BigInteger[] Distribute(BigInteger total, IReadOnlyList<double> contributions)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        if (total.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(total), total, "the total to distribute must be ≥ 0");
        }

        var n = contributions.Count;
        var mantissas = new BigInteger[n];
        var exponents = new int[n];
        var lowest = int.MaxValue;
        for (var i = 0; i < n; i++)
        {
            var c = contributions[i];
            if (!double.IsFinite(c) || c < 0)
            {
                throw new ArgumentException($"contribution {i} is {c:R}; contributions must be finite and ≥ 0", nameof(contributions));
            }

            (mantissas[i], exponents[i]) = Decompose(c);
            if (!mantissas[i].IsZero)
            {
                lowest = Math.Min(lowest, exponents[i]);
            }
        }

        var amounts = new BigInteger[n];
        if (lowest == int.MaxValue)
        {
            return FillZero(amounts);
        }

        // c_i = a_i · 2^lowest with integer a_i; the common factor cancels in total·a_i / Σa.
        var weights = new BigInteger[n];
        var sum = BigInteger.Zero;
        for (var i = 0; i < n; i++)
        {
            weights[i] = mantissas[i].IsZero ? BigInteger.Zero : mantissas[i] << (exponents[i] - lowest);
            sum += weights[i];
        }

        var remainders = new BigInteger[n];
        var left = total;
        for (var i = 0; i < n; i++)
        {
            amounts[i] = BigInteger.DivRem(total * weights[i], sum, out remainders[i]);
            left -= amounts[i];
        }

        // Fewer than n credits are left (each floor loses less than 1); largest remainder first, ties to the lower index.
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            var byRemainder = remainders[b].CompareTo(remainders[a]);
            return byRemainder != 0 ? byRemainder : a.CompareTo(b);
        });
        for (var k = 0; left.Sign > 0; k++)
        {
            amounts[order[k]] += BigInteger.One;
            left -= BigInteger.One;
        }

        return amounts;
    }

    private static BigInteger[] FillZero(BigInteger[] amounts)
    {
        Array.Fill(amounts, BigInteger.Zero);
        return amounts;
    }

    /// <summary>A finite non-negative double as mantissa · 2^exponent, exactly.</summary>
    private static (BigInteger Mantissa, int Exponent) Decompose(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        var field = (int)((bits >> 52) & 0x7FF);
        var fraction = bits & ((1L << 52) - 1);
        return field == 0 ? (fraction, -1074) : (fraction | (1L << 52), field - 1075);
    }
}
