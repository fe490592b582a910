using System.Globalization;
using Xunit.Sdk;

namespace FedAgg.Aggregation.Tests.Support;

/// <summary>Bit-for-bit comparisons that say where the first difference is.</summary>
public static class BitAssert
{
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context = "")
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}");
        }

        for (var c = 0; c < expected.Length; c++)
        {
            if (BitConverter.SingleToInt32Bits(expected[c]) != BitConverter.SingleToInt32Bits(actual[c]))
            {
                throw new XunitException(
                    $"{context}: first mismatch at coordinate {c} of {expected.Length}: expected {Show(expected[c])}, actual {Show(actual[c])}");
            }
        }
    }

    /// <summary>Bit-exact, except that any NaN equals any NaN (the payload of "excluded" is not part of the contract).</summary>
    public static void Equal(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string context = "")
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}");
        }

        for (var i = 0; i < expected.Length; i++)
        {
            var same = double.IsNaN(expected[i])
                ? double.IsNaN(actual[i])
                : BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]);
            if (!same)
            {
                throw new XunitException(
                    $"{context}: first mismatch at index {i}: expected {Show(expected[i])}, actual {Show(actual[i])}");
            }
        }
    }

    public static void SameOutcome(Outcome expected, Outcome actual, string context = "")
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        Assert.True(
            expected.Excluded.SequenceEqual(actual.Excluded),
            $"{context}: excluded [{string.Join("; ", actual.Excluded)}], expected [{string.Join("; ", expected.Excluded)}]");
        Assert.True(
            expected.AggregatedCount == actual.AggregatedCount,
            $"{context}: aggregated count {actual.AggregatedCount}, expected {expected.AggregatedCount}");
        Assert.True(
            expected.Selected.SequenceEqual(actual.Selected),
            $"{context}: selected [{string.Join(",", actual.Selected)}], expected [{string.Join(",", expected.Selected)}]");
        Equal(expected.Scores, actual.Scores, context + " scores");
        Equal(expected.Output, actual.Output, context + " output");
    }

    public static string Show(float v) =>
        string.Create(CultureInfo.InvariantCulture, $"{v:R} (0x{BitConverter.SingleToUInt32Bits(v):X8})");

    public static string Show(double v) =>
        string.Create(CultureInfo.InvariantCulture, $"{v:R} (0x{BitConverter.DoubleToUInt64Bits(v):X16})");
}
