using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// Readable text for decoded values: integers in decimal, addresses checksummed, bytes as 0x-hex, strings quoted
/// (JSON escaping), arrays <c>[a, b]</c>, tuples <c>(a, b)</c>.
/// </summary>
public static class AbiFormatter
{
    // Readable text, not HTML: non-ASCII letters stay as they are; quotes, backslashes and control characters are escaped.
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Formats one decoded value.</summary>
    /// <param name="value">A value as <see cref="AbiCodec"/> decodes it.</param>
    public static string Format(object? value)
    {
        var text = new StringBuilder();
        Append(text, value);
        return text.ToString();
    }

    internal static void AppendNamed(StringBuilder text, AbiValues values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            var name = values.Parameters[i].Name;
            if (name.Length > 0)
            {
                text.Append(name).Append(": ");
            }

            Append(text, values[i]);
        }
    }

    private static void Append(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case BigInteger number:
                text.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            case bool flag:
                text.Append(flag ? "true" : "false");
                break;
            case EthereumAddress address:
                text.Append(address.ToString());
                break;
            case byte[] bytes:
                text.Append("0x").Append(Convert.ToHexStringLower(bytes));
                break;
            case Bytes32 word:
                text.Append(word.ToString());
                break;
            case string s:
                text.Append(JsonSerializer.Serialize(s, StringOptions));
                break;
            case AbiValues tuple:
                text.Append('(');
                AppendNamed(text, tuple);
                text.Append(')');
                break;
            case object?[] items:
                text.Append('[');
                for (var i = 0; i < items.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }

                    Append(text, items[i]);
                }

                text.Append(']');
                break;
            default:
                text.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
