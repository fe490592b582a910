using System.Numerics;
using FedAgg.Aggregation.Credits;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Aggregation.Tests.Contributions;

/// <summary>
/// <see cref="CreditSplit.Distribute"/>: hand-worked splits, the errors, and properties against a Hamilton split written
/// here from contributions built as m·2^e (so the exact rationals are known without decomposing doubles).
/// </summary>
public sealed class CreditSplitTests
{
    [Fact]
    public void Distribute_EqualThirdsOfTen_FirstIndexGetsTheLeftover()
    {
        Assert.Equal([4, 3, 3], Amounts(10, [1.0, 1.0, 1.0]));
    }

    [Fact]
    public void Distribute_DyadicShares_ExactWithoutLeftover()
    {
        Assert.Equal([50, 25, 25, 0], Amounts(100, [0.5, 0.25, 0.25, 0.0]));
    }

    [Fact]
    public void Distribute_LargestRemainderWins_NotTheLowerIndex()
    {
        // Quotas 7·1/7 = 1, 7·2/7 = 2, 7·4/7 = 4: exact. With total 10: 10/7 = 1 r3, 20/7 = 2 r6, 40/7 = 5 r5 → floors 8,
        // leftover 2 goes to remainders 6 (index 1) and 5 (index 2).
        Assert.Equal([1, 2, 4], Amounts(7, [1.0, 2.0, 4.0]));
        Assert.Equal([1, 3, 6], Amounts(10, [1.0, 2.0, 4.0]));
    }

    [Fact]
    public void Distribute_ContributionsAsExactRationals_NotRoundedDoubles()
    {
        // 0.1 is 3602879701896397·2^-55 exactly, a little more than 1/10; 0.3 is 5404319552844595·2^-54, a little less than
        // 3/10; together exactly 1/2. With total 5 the quotas are 1.00…006, 1.00…006 and 2.99…989: floors 1, 1, 2 and the
        // leftover goes to index 2. In doubles the quotas round to 1, 1, 3 and the remainders tie.
        Assert.Equal([1, 1, 3], Amounts(5, [0.1, 0.1, 0.3]));
    }

    [Fact]
    public void Distribute_SubnormalAndHugeTotal_SplitsExactly()
    {
        Assert.Equal([2, 1], Amounts(3, [double.Epsilon, double.Epsilon]));
        var total = BigInteger.Pow(10, 30) + 1;
        var amounts = CreditSplit.Distribute(total, [double.Epsilon, 1.0]);
        Assert.Equal(total, amounts[0] + amounts[1]);
        Assert.Equal(BigInteger.Zero, amounts[0]);
        Assert.Equal([total, BigInteger.Zero], CreditSplit.Distribute(total, [double.MaxValue, double.Epsilon]));
    }

    [Fact]
    public void Distribute_AllZero_NobodyPaid()
    {
        Assert.Equal([0, 0, 0], Amounts(1000, [0.0, -0.0, 0.0]));
        Assert.Empty(CreditSplit.Distribute(1000, []));
    }

    [Fact]
    public void Distribute_ZeroTotal_AllZero()
    {
        Assert.Equal([0, 0], Amounts(0, [1.0, 3.0]));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-double.Epsilon)]
    public void Distribute_InvalidContribution_ThrowsArgumentException(double bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => CreditSplit.Distribute(10, [1.0, bad]));
        Assert.Contains("contribution 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Distribute_NegativeTotal_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CreditSplit.Distribute(-1, [1.0]));
    }

    /// <summary>Contributions m·2^e with small integers (often equal, often zero) and a total up to 2^62.</summary>
    private static readonly Gen<(long Total, (long M, int E)[] Parts)> Split =
        from total in Gen.Frequency((3, Gen.Choose(0, 1000).Select(t => (long)t)), (1, Gen.Choose(0, int.MaxValue).Select(t => (long)t << 31)))
        from n in Gen.Choose(1, 12)
        from parts in Gen.ArrayOf(
            from m in Gen.Frequency((2, Gen.Choose(0, 4)), (1, Gen.Choose(0, 1 << 20)))
            from e in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(-40, 10)))
            select ((long)m, e), n)
        select (total, parts);

    [Fact]
    public void Distribute_RandomSplits_MatchHamiltonOnKnownRationalsAndSumExactly()
    {
        Prop.ForAll(Split.ToArbitrary(), s =>
        {
            var amounts = CreditSplit.Distribute(s.Total, Contributions(s.Parts));
            var expected = Hamilton(s.Total, s.Parts);
            Assert.Equal(expected, amounts);
            var sum = amounts.Aggregate(BigInteger.Zero, (a, b) => a + b);
            Assert.Equal(s.Parts.All(p => p.M == 0) ? BigInteger.Zero : s.Total, sum);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Distribute_RandomSplits_MonotoneAndEqualSharesWithinOne()
    {
        Prop.ForAll(Split.ToArbitrary(), s =>
        {
            var c = Contributions(s.Parts);
            var amounts = CreditSplit.Distribute(s.Total, c);
            for (var i = 0; i < c.Length; i++)
            {
                Assert.True(amounts[i] >= 0, $"amount {i} negative");
                for (var j = 0; j < c.Length; j++)
                {
                    if (c[i] > c[j])
                    {
                        Assert.True(amounts[i] >= amounts[j], $"contribution {c[i]:R} got {amounts[i]}, smaller {c[j]:R} got {amounts[j]}");
                    }
                    else if (c[i] == c[j])
                    {
                        Assert.True(BigInteger.Abs(amounts[i] - amounts[j]) <= 1, $"equal contributions got {amounts[i]} and {amounts[j]}");
                    }
                }
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Distribute_PermutedContributions_SameAmountsExceptTiedRemainders()
    {
        var gen =
            from s in Split
            from permutation in Gen.Shuffle(Enumerable.Range(0, s.Parts.Length).ToArray())
            select (s.Total, s.Parts, Permutation: permutation);
        Prop.ForAll(gen.ToArbitrary(), s =>
        {
            var c = Contributions(s.Parts);
            var amounts = CreditSplit.Distribute(s.Total, c);
            var permuted = CreditSplit.Distribute(s.Total, [.. s.Permutation.Select(i => c[i])]);
            var remainders = Remainders(s.Total, s.Parts);
            for (var p = 0; p < c.Length; p++)
            {
                var i = s.Permutation[p];
                var tied = remainders.Where((r, j) => j != i && r == remainders[i]).Any();
                if (tied)
                {
                    Assert.True(BigInteger.Abs(permuted[p] - amounts[i]) <= 1, $"input {i}: {amounts[i]} vs {permuted[p]} after permuting");
                }
                else
                {
                    Assert.Equal(amounts[i], permuted[p]);
                }
            }
        }).QuickCheckThrowOnFailure();
    }

    private static long[] Amounts(long total, double[] contributions) =>
        [.. CreditSplit.Distribute(total, contributions).Select(a => (long)a)];

    private static double[] Contributions((long M, int E)[] parts) => [.. parts.Select(p => Math.ScaleB(p.M, p.E))];

    /// <summary>The shares as integers over the common denominator 2^40 (every generated e is ≥ −40).</summary>
    private static BigInteger[] Scaled((long M, int E)[] parts) => [.. parts.Select(p => new BigInteger(p.M) << (p.E + 40))];

    private static BigInteger[] Remainders(long total, (long M, int E)[] parts)
    {
        var a = Scaled(parts);
        var sum = a.Aggregate(BigInteger.Zero, (x, y) => x + y);
        return sum.IsZero ? [.. a.Select(_ => BigInteger.Zero)] : [.. a.Select(x => total * x % sum)];
    }

    /// <summary>Hamilton written out: floors, then the leftover one by one to the largest remainder, lowest index first.</summary>
    private static BigInteger[] Hamilton(long total, (long M, int E)[] parts)
    {
        var a = Scaled(parts);
        var sum = a.Aggregate(BigInteger.Zero, (x, y) => x + y);
        var amounts = new BigInteger[a.Length];
        if (sum.IsZero)
        {
            return amounts;
        }

        var remainders = new BigInteger[a.Length];
        BigInteger given = 0;
        for (var i = 0; i < a.Length; i++)
        {
            amounts[i] = total * a[i] / sum;
            remainders[i] = (total * a[i]) - (amounts[i] * sum);
            given += amounts[i];
        }

        var awarded = new bool[a.Length];
        for (var left = total - given; left > 0; left--)
        {
            var best = -1;
            for (var i = 0; i < a.Length; i++)
            {
                if (!awarded[i] && (best < 0 || remainders[i] > remainders[best]))
                {
                    best = i;
                }
            }

            awarded[best] = true;
            amounts[best]++;
        }

        return amounts;
    }
}
