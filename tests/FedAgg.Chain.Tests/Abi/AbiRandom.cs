using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using FedAgg.Chain.Abi;

namespace FedAgg.Chain.Tests.Abi;

/// <summary>Seeded random ABI types and values, and their renderings for cast's argument parser and its --json output.</summary>
internal static class AbiRandom
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static AbiParameterType Type(Random random, int depth)
    {
        var choice = random.Next(depth > 0 ? 13 : 8);
        return choice switch
        {
            0 => AbiParameterType.Uint(8 * random.Next(1, 33)),
            1 => AbiParameterType.Int(8 * random.Next(1, 33)),
            2 => AbiParameterType.Address,
            3 => AbiParameterType.Bool,
            4 => AbiParameterType.FixedBytes(random.Next(1, 33)),
            5 => AbiParameterType.Bytes,
            6 => AbiParameterType.String,
            7 => AbiParameterType.Bytes32,
            8 or 9 => AbiParameterType.ArrayOf(Type(random, depth - 1)),
            10 => AbiParameterType.FixedArrayOf(Type(random, depth - 1), random.Next(1, 4)),
            _ => AbiParameterType.Tuple([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => Type(random, depth - 1))]),
        };
    }

    public static object Value(Random random, AbiParameterType type)
    {
        switch (type.Kind)
        {
            case AbiKind.Uint:
                return random.Next(4) switch
                {
                    0 => BigInteger.Zero,
                    1 => (BigInteger.One << type.Size) - 1,
                    _ => RandomBits(random, random.Next(1, type.Size + 1)),
                };
            case AbiKind.Int:
                {
                    var max = (BigInteger.One << (type.Size - 1)) - 1;
                    return random.Next(5) switch
                    {
                        0 => BigInteger.Zero,
                        1 => max,
                        2 => -max - 1,
                        3 => -RandomBits(random, random.Next(1, type.Size)),
                        _ => RandomBits(random, random.Next(1, type.Size)),
                    };
                }

            case AbiKind.Address:
                return EthereumAddress.FromBytes(Bytes(random, 20));
            case AbiKind.Bool:
                return random.Next(2) == 1;
            case AbiKind.FixedBytes:
                return Bytes(random, type.Size);
            case AbiKind.Bytes:
                return Bytes(random, random.Next(3) == 0 ? 0 : random.Next(1, 70));
            case AbiKind.String:
                return random.Next(4) == 0 ? string.Empty : Text(random, random.Next(1, 45));
            case AbiKind.Array:
                return Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(random, type.Element!)).ToArray();
            case AbiKind.FixedArray:
                return Enumerable.Range(0, type.Size).Select(_ => Value(random, type.Element!)).ToArray();
            default:
                return type.Components.Select(c => Value(random, c.Type)).ToArray();
        }
    }

    /// <summary>The value as one of cast's positional arguments.</summary>
    public static string CastArgument(AbiParameterType type, object value, bool nested = false)
    {
        switch (value)
        {
            case BigInteger number:
                return number.ToString(CultureInfo.InvariantCulture);
            case bool flag:
                return flag ? "true" : "false";
            case EthereumAddress address:
                return address.ToString();
            case byte[] bytes:
                return "0x" + Convert.ToHexStringLower(bytes);
            case string text:
                return nested ? $"\"{text}\"" : text;
            case object[] items when type.Kind == AbiKind.Tuple:
                return "(" + string.Join(",", items.Select((item, i) => CastArgument(type.Components[i].Type, item, nested: true))) + ")";
            case object[] items:
                return "[" + string.Join(",", items.Select(item => CastArgument(type.Element!, item, nested: true))) + "]";
            default:
                throw new ArgumentException(value.GetType().Name);
        }
    }

    /// <summary>A structural rendering that is the same for our values and for cast's --json output of them.</summary>
    public static string Canonical(object? value) => value switch
    {
        BigInteger number => "n:" + number.ToString(CultureInfo.InvariantCulture),
        bool flag => flag ? "b:true" : "b:false",
        EthereumAddress address => "s:" + address.ToLowerHex(),
        byte[] bytes => "s:0x" + Convert.ToHexStringLower(bytes),
        string text => "s:" + text,
        AbiValues tuple => "[" + string.Join("|", tuple.Select(Canonical)) + "]",
        object?[] items => "[" + string.Join("|", items.Select(Canonical)) + "]",
        _ => throw new ArgumentException(value?.GetType().Name),
    };

    public static string Canonical(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => "n:" + BigInteger.Parse(element.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        JsonValueKind.True => "b:true",
        JsonValueKind.False => "b:false",
        // cast writes integers beyond 64 bits as decimal strings; random text values always start with a letter.
        JsonValueKind.String when BigInteger.TryParse(element.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) => "n:" + number.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.String => "s:" + (element.GetString()!.StartsWith("0x", StringComparison.Ordinal) ? element.GetString()!.ToLowerInvariant() : element.GetString()),
        JsonValueKind.Array => "[" + string.Join("|", element.EnumerateArray().Select(Canonical)) + "]",
        _ => throw new ArgumentException(element.ValueKind.ToString()),
    };

    public static string SignatureTypes(IEnumerable<AbiParameterType> types) => string.Join(",", types.Select(t => t.CanonicalName));

    private static BigInteger RandomBits(Random random, int bits)
    {
        var bytes = Bytes(random, (bits + 7) / 8);
        var value = new BigInteger(bytes, isUnsigned: true);
        return value & ((BigInteger.One << bits) - 1);
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Text(Random random, int length)
    {
        var text = new StringBuilder();
        text.Append(Letters[random.Next(52)]);
        for (var i = 1; i < length; i++)
        {
            text.Append(random.Next(8) == 0 ? ' ' : Letters[random.Next(Letters.Length)]);
        }

        return text.ToString().TrimEnd();
    }
}
