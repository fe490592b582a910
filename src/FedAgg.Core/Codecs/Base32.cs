namespace FedAgg.Core.Codecs;

/// <summary>RFC 4648 base32, lowercase and unpadded: multibase <c>base32</c> (prefix 'b'), the text form of CIDv1.</summary>
public static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>Encodes <paramref name="data"/> in lowercase without padding.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var chars = new char[((data.Length * 8) + 4) / 5];
        var buffer = 0;
        var bits = 0;
        var n = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[n++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            chars[n++] = Alphabet[(buffer << (5 - bits)) & 31];
        }

        return new string(chars, 0, n);
    }

    /// <summary>
    /// Decodes unpadded base32 (either case, not mixed within one character set rule: multibase 'b' is lowercase, but
    /// uppercase letters are accepted). Returns <c>null</c> for invalid characters, an impossible length, or non-zero
    /// leftover bits.
    /// </summary>
    public static byte[]? TryDecode(ReadOnlySpan<char> text)
    {
        var remainder = text.Length % 8;
        if (remainder is 1 or 3 or 6)
        {
            return null;
        }

        var result = new byte[text.Length * 5 / 8];
        var buffer = 0;
        var bits = 0;
        var n = 0;
        foreach (var c in text)
        {
            int value = c switch
            {
                >= 'a' and <= 'z' => c - 'a',
                >= 'A' and <= 'Z' => c - 'A',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (value < 0)
            {
                return null;
            }

            buffer = ((buffer << 5) | value) & 0xFFF;
            bits += 5;
            if (bits >= 8)
            {
                result[n++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
        }

        return (buffer & ((1 << bits) - 1)) == 0 ? result : null;
    }
}
