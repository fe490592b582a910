using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FedAgg.Core.Rounds;

/// <summary>
/// The canonical JSON form FedAgg hashes (task settings): RFC 8785 (JSON Canonicalization Scheme) for documents whose
/// numbers are all integers of magnitude at most 2^53 − 1. Object members are sorted by their names' UTF-16 code units
/// (ordinal), no whitespace is written, strings are escaped as ECMAScript's <c>JSON.stringify</c> does (<c>\"</c>,
/// <c>\\</c>, <c>\b \t \n \f \r</c>, other characters below U+0020 as <c>\u00xx</c> in lowercase hex, everything else as
/// its UTF-8 bytes), integers are written in plain decimal (<c>-0</c> as <c>0</c>), and <c>true</c>, <c>false</c>,
/// <c>null</c> as themselves.
/// </summary>
/// <remarks>
/// Non-integer numbers are refused rather than formatted: JCS's ECMAScript number formatting is not needed when every
/// fractional value travels as a string (<see cref="TaskSettings"/> writes doubles as strings in shortest round-trip
/// form). Lone surrogates in strings or names are refused (JCS requires valid Unicode); duplicate member names are
/// refused.
/// </remarks>
public static class CanonicalJson
{
    /// <summary>The largest integer magnitude a canonical document may hold (2^53 − 1, I-JSON's exact range).</summary>
    public const long MaxSafeInteger = (1L << 53) - 1;

    /// <summary>Canonicalises the JSON text <paramref name="utf8Json"/>.</summary>
    /// <exception cref="FormatException">The text is not JSON, or holds a value the canonical form excludes.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            return Canonicalize(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Canonicalises <paramref name="element"/>.</summary>
    /// <exception cref="FormatException">The value holds a non-integer or out-of-range number, a lone surrogate or a duplicate member name.</exception>
    public static byte[] Canonicalize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            Write(element, buffer, "$");
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json refuses to unescape a lone surrogate (\ud800) into a string.
            throw new FormatException($"a string is not valid Unicode: {e.Message}", e);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(JsonElement element, ArrayBufferWriter<byte> output, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var property in element.EnumerateObject())
                {
                    members.Add((property.Name, property.Value));
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                Append(output, "{"u8);
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        if (members[i].Name == members[i - 1].Name)
                        {
                            throw new FormatException($"{path}: duplicate member '{members[i].Name}'");
                        }

                        Append(output, ","u8);
                    }

                    WriteString(members[i].Name, output, path);
                    Append(output, ":"u8);
                    Write(members[i].Value, output, path + "." + members[i].Name);
                }

                Append(output, "}"u8);
                break;
            case JsonValueKind.Array:
                Append(output, "["u8);
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (index > 0)
                    {
                        Append(output, ","u8);
                    }

                    Write(item, output, string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]"));
                    index++;
                }

                Append(output, "]"u8);
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, output, path);
                break;
            case JsonValueKind.Number:
                Append(output, Encoding.ASCII.GetBytes(FormatInteger(element, path)));
                break;
            case JsonValueKind.True:
                Append(output, "true"u8);
                break;
            case JsonValueKind.False:
                Append(output, "false"u8);
                break;
            case JsonValueKind.Null:
                Append(output, "null"u8);
                break;
            default:
                throw new FormatException($"{path}: unexpected JSON value kind {element.ValueKind}");
        }
    }

    private static string FormatInteger(JsonElement element, string path)
    {
        // The value, not the spelling: 1.0, 1e0 and 1 are the same number and canonicalise alike (as JCS does).
        if (!element.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            throw new FormatException($"{path}: the number {element.GetRawText()} is out of range");
        }

        if (Math.Floor(value) != value || Math.Abs(value) > MaxSafeInteger)
        {
            throw new FormatException(
                $"{path}: the number {element.GetRawText()} is not an integer of magnitude ≤ 2^53−1 (fractions travel as strings in canonical FedAgg JSON)");
        }

        return ((long)value).ToString(CultureInfo.InvariantCulture);
    }

    private static void WriteString(string text, ArrayBufferWriter<byte> output, string path)
    {
        var builder = new StringBuilder(text.Length + 2);
        builder.Append('"');
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                throw new FormatException($"{path}: the string holds a lone surrogate U+{(int)c:X4}");
            }

            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case < ' ':
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        builder.Append('"');
        Append(output, Encoding.UTF8.GetBytes(builder.ToString()));
    }

    private static void Append(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
