using System.Globalization;
using System.Numerics;
using System.Text.Json;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Rpc;

/// <summary>JSON-RPC's hex encodings: quantities (<c>0x</c> + minimal hex) and data (<c>0x</c> + even-length hex).</summary>
internal static class HexConvert
{
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static string EncodeQuantity(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A JSON-RPC quantity cannot be negative.");
        }

        if (value.IsZero)
        {
            return "0x0";
        }

        var hex = Convert.ToHexStringLower(value.ToByteArray(isUnsigned: true, isBigEndian: true)).TrimStart('0');
        return "0x" + hex;
    }

    public static ulong ToUInt64(JsonElement element, string field)
    {
        var text = Text(element, field);
        if (text.Length is < 3 or > 18 || !ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            throw Invalid(field, text, "a 64-bit hex quantity");
        }

        return value;
    }

    public static BigInteger ToBigInteger(JsonElement element, string field)
    {
        var text = Text(element, field);
        if (text.Length is < 3 or > 66)
        {
            throw Invalid(field, text, "a 256-bit hex quantity");
        }

        var digits = text.AsSpan(2);
        foreach (var digit in digits)
        {
            if (!char.IsAsciiHexDigit(digit))
            {
                throw Invalid(field, text, "a 256-bit hex quantity");
            }
        }

        return BigInteger.Parse("0" + text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    public static byte[] ToBytes(JsonElement element, string field)
    {
        var text = Text(element, field);
        return Core.Codecs.Hex.TryDecode(text) is { } bytes && text.StartsWith("0x", StringComparison.Ordinal)
            ? bytes
            : throw Invalid(field, text, "0x-prefixed hex data");
    }

    public static Bytes32 ToBytes32(JsonElement element, string field)
    {
        var text = Text(element, field);
        return Core.Codecs.Hex.TryDecode(text, Bytes32.Size) is { } bytes ? new Bytes32(bytes) : throw Invalid(field, text, "32 bytes of 0x-prefixed hex");
    }

    public static EthereumAddress ToAddress(JsonElement element, string field)
    {
        var text = Text(element, field);
        return Core.Codecs.Hex.TryDecode(text, 20) is { } bytes ? EthereumAddress.FromBytes(bytes) : throw Invalid(field, text, "a 20-byte address");
    }

    private static string Text(JsonElement element, string field) =>
        element.ValueKind == JsonValueKind.String && element.GetString() is { } text && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? text
            : throw Invalid(field, element.ToString(), "a 0x-prefixed hex string");

    private static ChainException Invalid(string field, string text, string expected)
    {
        var shown = text.Length > 80 ? text[..80] + "…" : text;
        return new ChainException($"The node returned '{shown}' for {field}; expected {expected}.", null, isTransient: false);
    }
}
