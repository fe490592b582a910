namespace FedAgg.Core.Tensors;

/// <summary>Conversions between bfloat16 bit patterns and <see cref="float"/>.</summary>
public static class BFloat16Converter
{
    /// <summary>Widens a bfloat16 bit pattern to a <see cref="float"/>; exact (the pattern becomes the upper 16 bits).</summary>
    /// <param name="bits">The bfloat16 bit pattern.</param>
    /// <returns>The same value as a binary32.</returns>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// Narrows a <see cref="float"/> to bfloat16, rounding to nearest with ties to even. Values beyond the bfloat16
    /// range round to infinity; NaN stays NaN (sign kept, quiet bit set) even when its payload lies only in the dropped bits.
    /// </summary>
    /// <param name="value">The value to narrow.</param>
    /// <returns>The bfloat16 bit pattern.</returns>
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        // Adding 0x7FFF plus the lowest kept bit rounds to nearest, ties to even; a carry into the exponent is the
        // correct result, including the overflow to infinity.
        var bias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + bias) >> 16);
    }
}
