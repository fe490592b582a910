using System.Globalization;
using Xunit.Sdk;

namespace FedAgg.Cli.Tests.Support;

/// <summary>Bit-for-bit comparisons that say where the first difference is.</summary>
internal static class BitAssert
{
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
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

    /// <summary>Bit-exact, except that NaN (the reference's "excluded") matches JSON null.</summary>
    public static void Equal(ReadOnlySpan<double> expected, IReadOnlyList<double?> actual, string context)
    {
        if (expected.Length != actual.Count)
        {
            throw new XunitException($"{context}: length {actual.Count}, expected {expected.Length}");
        }

        for (var i = 0; i < expected.Length; i++)
        {
            var same = double.IsNaN(expected[i])
                ? actual[i] is null
                : actual[i] is { } value && BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(value);
            if (!same)
            {
                throw new XunitException(
                    $"{context}: first mismatch at index {i}: expected {(double.IsNaN(expected[i]) ? "null" : expected[i].ToString("R", CultureInfo.InvariantCulture))}, " +
                    $"actual {actual[i]?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}");
            }
        }
    }

    public static string Show(float value) =>
        $"{value.ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.SingleToInt32Bits(value):X8})";
}
