namespace FedAgg.Core.Codecs;

/// <summary>Hashes and byte strings as FedAgg writes them everywhere: 0x-prefixed lowercase hex.</summary>
public static class Hex
{
    /// <summary><c>0x</c> followed by the lowercase hex digits of <paramref name="bytes"/>.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>
    /// Decodes hex with or without a <c>0x</c> prefix, either case. Returns <c>null</c> for an odd length or a non-hex
    /// character; when <paramref name="expectedLength"/> is given, also for any other decoded length.
    /// </summary>
    public static byte[]? TryDecode(ReadOnlySpan<char> text, int expectedLength = -1)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        if (text.Length % 2 != 0 || (expectedLength >= 0 && text.Length != expectedLength * 2))
        {
            return null;
        }

        var bytes = new byte[text.Length / 2];
        return Convert.FromHexString(text, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length
            ? bytes
            : null;
    }
}
