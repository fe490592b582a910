namespace FedAgg.Core.Codecs;

/// <summary>Base58 with the Bitcoin alphabet (multibase <c>base58btc</c>), as libp2p peer IDs are written.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// <summary>The longest input accepted, so decoding (quadratic in the length) stays cheap on hostile input.</summary>
    public const int MaxEncodedLength = 512;

    private static readonly sbyte[] DecodeMap = BuildDecodeMap();

    /// <summary>Encodes <paramref name="data"/>; each leading zero byte becomes a leading '1'.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }

        // log(256)/log(58) ≈ 1.366 digits per byte.
        var digits = new byte[((data.Length - zeros) * 138 / 100) + 1];
        var length = 0;
        for (var i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            for (var j = 0; j < length; j++)
            {
                carry += digits[j] << 8;
                digits[j] = (byte)(carry % 58);
                carry /= 58;
            }

            while (carry > 0)
            {
                digits[length++] = (byte)(carry % 58);
                carry /= 58;
            }
        }

        return string.Create(zeros + length, (zeros, length, digits), static (chars, state) =>
        {
            chars[..state.zeros].Fill('1');
            for (var k = 0; k < state.length; k++)
            {
                chars[state.zeros + k] = Alphabet[state.digits[state.length - 1 - k]];
            }
        });
    }

    /// <summary>Decodes <paramref name="text"/>; returns <c>null</c> for an empty, over-long or non-base58 input.</summary>
    public static byte[]? TryDecode(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > MaxEncodedLength)
        {
            return null;
        }

        var zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }

        // log(58)/log(256) ≈ 0.733 bytes per digit.
        var bytes = new byte[((text.Length - zeros) * 733 / 1000) + 1];
        var length = 0;
        for (var i = zeros; i < text.Length; i++)
        {
            var c = text[i];
            int carry = c < 128 ? DecodeMap[c] : -1;
            if (carry < 0)
            {
                return null;
            }

            for (var j = 0; j < length; j++)
            {
                carry += bytes[j] * 58;
                bytes[j] = (byte)carry;
                carry >>= 8;
            }

            while (carry > 0)
            {
                bytes[length++] = (byte)carry;
                carry >>= 8;
            }
        }

        var result = new byte[zeros + length];
        for (var k = 0; k < length; k++)
        {
            result[zeros + k] = bytes[length - 1 - k];
        }

        return result;
    }

    private static sbyte[] BuildDecodeMap()
    {
        var map = new sbyte[128];
        Array.Fill(map, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            map[Alphabet[i]] = (sbyte)i;
        }

        return map;
    }
}
