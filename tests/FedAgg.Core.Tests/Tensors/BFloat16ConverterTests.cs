using FedAgg.Core.Tensors;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Core.Tests.Tensors;

public class BFloat16ConverterTests
{
    [Fact]
    public void ToSingle_EveryPattern_MatchesDefinition()
    {
        for (var i = 0; i <= ushort.MaxValue; i++)
        {
            var bits = (ushort)i;
            var actual = BFloat16Converter.ToSingle(bits);
            var exponent = (bits >> 7) & 0xFF;
            if (exponent == 0xFF && (bits & 0x7F) != 0)
            {
                Assert.True(float.IsNaN(actual), $"0x{bits:X4} should be NaN");
                continue;
            }

            var expected = exponent == 0xFF
                ? ((bits & 0x8000) != 0 ? float.NegativeInfinity : float.PositiveInfinity)
                : (float)ReferenceValue(bits);
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                $"0x{bits:X4}: expected {expected} got {actual}");
        }
    }

    [Theory]
    [InlineData(0x00000000u, (ushort)0x0000)] // +0
    [InlineData(0x80000000u, (ushort)0x8000)] // -0
    [InlineData(0x3F800000u, (ushort)0x3F80)] // 1
    [InlineData(0xBF800000u, (ushort)0xBF80)] // -1
    [InlineData(0x00000001u, (ushort)0x0000)] // smallest float subnormal rounds to +0
    [InlineData(0x80000001u, (ushort)0x8000)] // ... and its negative to -0
    [InlineData(0x00008000u, (ushort)0x0000)] // subnormal tie, 0 is even
    [InlineData(0x00018000u, (ushort)0x0002)] // subnormal tie, 1 is odd: up
    [InlineData(0x00008001u, (ushort)0x0001)] // just above the tie
    [InlineData(0x00010000u, (ushort)0x0001)] // smallest bf16 subnormal, exact
    [InlineData(0x007FFFFFu, (ushort)0x0080)] // largest float subnormal rounds up to the smallest normal
    [InlineData(0x807FFFFFu, (ushort)0x8080)]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // tie, even stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // tie, odd goes up
    [InlineData(0xBF818000u, (ushort)0xBF82)] // negative tie, away from zero to even
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below the tie
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above the tie
    [InlineData(0x3FFF8000u, (ushort)0x4000)] // tie carries into the exponent
    [InlineData(0x7F7F0000u, (ushort)0x7F7F)] // bf16 max, exact
    [InlineData(0x7F7F7FFFu, (ushort)0x7F7F)] // below half an ulp above max
    [InlineData(0x7F7F8000u, (ushort)0x7F80)] // tie above max, odd: overflows to +inf
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue -> +inf
    [InlineData(0xFF7FFFFFu, (ushort)0xFF80)] // float.MinValue -> -inf
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +inf
    [InlineData(0xFF800000u, (ushort)0xFF80)] // -inf
    public void FromSingle_EdgeValue_RoundsToNearestEven(uint floatBits, ushort expected)
    {
        var value = BitConverter.UInt32BitsToSingle(floatBits);

        Assert.Equal(expected, BFloat16Converter.FromSingle(value));
        Assert.Equal(expected, ReferenceFromSingle(floatBits));
    }

    [Theory]
    [InlineData(0x7FC00000u)] // quiet NaN
    [InlineData(0xFFC00000u)] // negative quiet NaN
    [InlineData(0x7F800001u)] // signalling NaN whose payload is only in the dropped bits
    [InlineData(0xFF80FFFFu)]
    [InlineData(0x7FFFFFFFu)] // rounding would carry out of the sign bit
    [InlineData(0x7FBFFFFFu)]
    public void FromSingle_NaN_StaysNaNWithSign(uint floatBits)
    {
        var result = BFloat16Converter.FromSingle(BitConverter.UInt32BitsToSingle(floatBits));

        Assert.True(float.IsNaN(BFloat16Converter.ToSingle(result)), $"0x{floatBits:X8} became 0x{result:X4}");
        Assert.Equal(floatBits >> 31, (uint)result >> 15);
    }

    [Fact]
    public void FromSingle_EveryBFloat16Value_RoundTripsExactly()
    {
        for (var i = 0; i <= ushort.MaxValue; i++)
        {
            var bits = (ushort)i;
            var value = BFloat16Converter.ToSingle(bits);
            if (!float.IsNaN(value))
            {
                Assert.Equal(bits, BFloat16Converter.FromSingle(value));
            }
        }
    }

    [Theory]
    [InlineData((ushort)0x0000)]
    [InlineData((ushort)0x0001)]
    [InlineData((ushort)0x3F80)]
    [InlineData((ushort)0x3F81)]
    [InlineData((ushort)0xC2F7)]
    [InlineData((ushort)0x7F7E)]
    [InlineData((ushort)0x7F7F)]
    [InlineData((ushort)0xFF7F)]
    [InlineData((ushort)0x807F)]
    public void FromSingle_EveryLowHalfUnderAPattern_MatchesReference(ushort high)
    {
        for (var low = 0; low <= ushort.MaxValue; low++)
        {
            var floatBits = ((uint)high << 16) | (uint)low;
            var actual = BFloat16Converter.FromSingle(BitConverter.UInt32BitsToSingle(floatBits));
            var expected = ReferenceFromSingle(floatBits);
            Assert.True(expected == actual, $"0x{floatBits:X8}: expected 0x{expected:X4} got 0x{actual:X4}");
        }
    }

    [Fact]
    public void FromSingle_RandomBits_MatchesReference()
    {
        var floats = Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i));
        var property = Prop.ForAll(floats.ToArbitrary(), bits =>
        {
            var actual = BFloat16Converter.FromSingle(BitConverter.UInt32BitsToSingle(bits));
            return float.IsNaN(BitConverter.UInt32BitsToSingle(bits))
                ? float.IsNaN(BFloat16Converter.ToSingle(actual)) && (actual >> 15) == (bits >> 31)
                : actual == ReferenceFromSingle(bits);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20_000), property);
    }

    /// <summary>The value of a bf16 pattern with an unbounded exponent (so 0x7F80 reads as 2^128, the first value past max).</summary>
    private static double ReferenceValue(ushort bits)
    {
        var exponent = (bits >> 7) & 0xFF;
        var mantissa = bits & 0x7F;
        var magnitude = exponent == 0
            ? mantissa * Math.Pow(2, -133)
            : (1 + (mantissa / 128.0)) * Math.Pow(2, exponent - 127);
        return (bits & 0x8000) != 0 ? -magnitude : magnitude;
    }

    /// <summary>Round to nearest, ties to even, by comparing exact distances to the two neighbouring bf16 values.</summary>
    private static ushort ReferenceFromSingle(uint floatBits)
    {
        var value = BitConverter.UInt32BitsToSingle(floatBits);
        if (float.IsInfinity(value))
        {
            return (ushort)(floatBits >> 16);
        }

        var towardZero = (ushort)(floatBits >> 16);
        var awayFromZero = (ushort)(towardZero + 1);
        double x = value;
        var below = Math.Abs(x - ReferenceValue(towardZero));
        var above = Math.Abs(ReferenceValue(awayFromZero) - x);
        if (below < above)
        {
            return towardZero;
        }

        if (above < below)
        {
            return awayFromZero;
        }

        return (towardZero & 1) == 0 ? towardZero : awayFromZero;
    }
}
