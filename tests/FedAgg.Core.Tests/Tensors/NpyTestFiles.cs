using System.Text;

namespace FedAgg.Core.Tests.Tensors;

/// <summary>.npy bytes assembled by hand from the format description, independent of <c>NpyHeader.Build</c>.</summary>
internal static class NpyTestFiles
{
    /// <summary>Magic, version <paramref name="major"/>.0, header length, <paramref name="dict"/>, space padding to 64 bytes, '\n', then <paramref name="data"/>.</summary>
    public static byte[] HandBuilt(int major, string dict, byte[]? data = null, bool align = true)
    {
        var prefixLength = major == 1 ? 10 : 12;
        var text = new StringBuilder(dict);
        if (align)
        {
            while ((prefixLength + text.Length + 1) % 64 != 0)
            {
                text.Append(' ');
            }
        }

        text.Append('\n');
        var header = Encoding.UTF8.GetBytes(text.ToString());
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        var length = header.Length;
        bytes.Add((byte)length);
        bytes.Add((byte)(length >> 8));
        if (major != 1)
        {
            bytes.Add((byte)(length >> 16));
            bytes.Add((byte)(length >> 24));
        }

        bytes.AddRange(header);
        bytes.AddRange(data ?? []);
        return [.. bytes];
    }

    /// <summary>Little-endian float32 bytes, written out byte by byte.</summary>
    public static byte[] Float32Bytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            var bits = BitConverter.SingleToUInt32Bits(values[i]);
            bytes[(4 * i) + 0] = (byte)bits;
            bytes[(4 * i) + 1] = (byte)(bits >> 8);
            bytes[(4 * i) + 2] = (byte)(bits >> 16);
            bytes[(4 * i) + 3] = (byte)(bits >> 24);
        }

        return bytes;
    }

    /// <summary>Little-endian 16-bit patterns.</summary>
    public static byte[] UInt16Bytes(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            bytes[2 * i] = (byte)values[i];
            bytes[(2 * i) + 1] = (byte)(values[i] >> 8);
        }

        return bytes;
    }

    /// <summary>The value of a binary16 bit pattern from the IEEE 754 definition (NaN for NaN patterns).</summary>
    public static float HalfValue(ushort bits)
    {
        var sign = (bits & 0x8000) != 0 ? -1.0 : 1.0;
        var exponent = (bits >> 10) & 0x1F;
        var mantissa = bits & 0x3FF;
        if (exponent == 0x1F)
        {
            return mantissa == 0 ? (float)(sign * double.PositiveInfinity) : float.NaN;
        }

        var magnitude = exponent == 0
            ? mantissa * Math.Pow(2, -24)
            : (1 + (mantissa / 1024.0)) * Math.Pow(2, exponent - 15);
        return (float)(sign * magnitude);
    }

    public static string Dict(string descr, string shape, string fortran = "False") =>
        $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}";
}
