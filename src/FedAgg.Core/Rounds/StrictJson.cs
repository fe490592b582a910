using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using FedAgg.Core.Codecs;
using FedAgg.Core.Merkle;

namespace FedAgg.Core.Rounds;

/// <summary>
/// Reads one JSON object strictly: every member is consumed by name exactly once, and <see cref="End"/> refuses any
/// member left over (an unknown field) or repeated. Errors are <see cref="FormatException"/>s naming the JSON path.
/// </summary>
internal sealed class StrictObject
{
    private readonly Dictionary<string, JsonElement> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public StrictObject(JsonElement element, string path)
    {
        Path = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected an object, found {Describe(element)}");
        }

        foreach (var property in element.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException e)
            {
                throw new FormatException($"{path}: a field name is not valid Unicode ({e.Message})", e);
            }

            if (!_members.TryAdd(name, property.Value))
            {
                throw new FormatException($"{path}: the field '{name}' appears twice");
            }
        }
    }

    public string Path { get; }

    public string Child(string name) => $"{Path}.{name}";

    public bool Has(string name) => _members.ContainsKey(name);

    public JsonElement Required(string name)
    {
        if (!_members.TryGetValue(name, out var value))
        {
            throw new FormatException($"{Child(name)}: the field is missing");
        }

        _read.Add(name);
        return value;
    }

    /// <summary>The member, or null when it is absent (a JSON <c>null</c> is returned as a Null element).</summary>
    public JsonElement? Optional(string name)
    {
        if (!_members.TryGetValue(name, out var value))
        {
            return null;
        }

        _read.Add(name);
        return value;
    }

    /// <summary>A required member that may be JSON <c>null</c> (returned as null).</summary>
    public JsonElement? Nullable(string name)
    {
        var value = Required(name);
        return value.ValueKind == JsonValueKind.Null ? null : value;
    }

    public void End()
    {
        foreach (var name in _members.Keys)
        {
            if (!_read.Contains(name))
            {
                throw new FormatException($"{Child(name)}: unknown field");
            }
        }
    }

    public string String(string name, int maxUtf8Bytes) => StrictJson.String(Required(name), Child(name), maxUtf8Bytes);

    public long Integer(string name, long min, long max) => StrictJson.Integer(Required(name), Child(name), min, max);

    public bool Boolean(string name)
    {
        var value = Required(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"{Child(name)}: expected true or false, found {Describe(value)}"),
        };
    }

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}

/// <summary>Strict scalar readers and the writers' formatting of the same values.</summary>
internal static class StrictJson
{
    /// <summary>uint256 in decimal has at most 78 digits.</summary>
    private const int MaxUint256Digits = 78;

    private static readonly BigInteger Uint256Limit = BigInteger.One << 256;

    public static string String(JsonElement value, string path, int maxUtf8Bytes)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"{path}: expected a string, found {StrictObject.Describe(value)}");
        }

        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException($"{path}: the string is not valid Unicode ({e.Message})", e);
        }

        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > maxUtf8Bytes)
        {
            throw new FormatException($"{path}: the string is {bytes} UTF-8 bytes, more than {maxUtf8Bytes}");
        }

        return text;
    }

    /// <summary>An integer written as a JSON number in plain decimal (no fraction, no exponent).</summary>
    public static long Integer(JsonElement value, string path, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new FormatException($"{path}: expected an integer, found {StrictObject.Describe(value)}");
        }

        var raw = value.GetRawText();
        if (!value.TryGetInt64(out var number) || raw.Contains('.', StringComparison.Ordinal) || raw.Contains('e', StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"{path}: {raw} is not an integer");
        }

        if (number < min || number > max)
        {
            throw new FormatException($"{path}: {raw} is outside [{min}, {max}]");
        }

        return number;
    }

    /// <summary>A double written as a string in its shortest round-trip form ("R"), finite.</summary>
    public static double Double(JsonElement value, string path)
    {
        var text = String(value, path, 64);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            throw new FormatException($"{path}: '{text}' is not a finite number");
        }

        if (FormatDouble(number) != text)
        {
            throw new FormatException($"{path}: '{text}' is not in shortest round-trip form (write '{FormatDouble(number)}')");
        }

        return number;
    }

    public static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A non-negative integer below 2^256 written as a decimal string without leading zeros.</summary>
    public static BigInteger Uint256(JsonElement value, string path)
    {
        var text = String(value, path, MaxUint256Digits);
        if (text.Length == 0 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            throw new FormatException($"{path}: '{text}' is not a decimal integer without sign or leading zeros");
        }

        var number = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        if (number >= Uint256Limit)
        {
            throw new FormatException($"{path}: {text} does not fit in a uint256");
        }

        return number;
    }

    /// <summary>A u64 written as a decimal string (JSON numbers are exact only up to 2^53).</summary>
    public static ulong UInt64String(JsonElement value, string path)
    {
        var text = String(value, path, 20);
        if (text.Length == 0 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit)
            || !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new FormatException($"{path}: '{text}' is not a decimal u64 without sign or leading zeros");
        }

        return number;
    }

    /// <summary>0x-prefixed lowercase hex of exactly <paramref name="length"/> bytes (any length up to <paramref name="maxLength"/> when length is -1).</summary>
    public static byte[] HexBytes(JsonElement value, string path, int length, int maxLength = -1)
    {
        var limit = length >= 0 ? length : maxLength;
        var text = String(value, path, 2 + (2 * limit));
        if (!text.StartsWith("0x", StringComparison.Ordinal) || ContainsNonLowerHex(text.AsSpan(2)))
        {
            throw new FormatException($"{path}: expected 0x-prefixed lowercase hex");
        }

        var bytes = Hex.TryDecode(text, length) ?? throw new FormatException(
            length >= 0 ? $"{path}: expected 0x-prefixed hex of {length} bytes" : $"{path}: expected 0x-prefixed hex");
        return bytes;
    }

    public static Bytes32 Hash(JsonElement value, string path) => new(HexBytes(value, path, 32));

    public static JsonElement[] Array(JsonElement value, string path, int maxItems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: expected an array, found {StrictObject.Describe(value)}");
        }

        var count = value.GetArrayLength();
        if (count > maxItems)
        {
            throw new FormatException($"{path}: {count} items, more than {maxItems}");
        }

        return [.. value.EnumerateArray()];
    }

    private static bool ContainsNonLowerHex(ReadOnlySpan<char> digits)
    {
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return true;
            }
        }

        return false;
    }
}
