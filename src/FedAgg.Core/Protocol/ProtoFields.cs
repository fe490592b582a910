using System.Diagnostics.CodeAnalysis;
using System.Text;
using FedAgg.Core.Codecs;

namespace FedAgg.Core.Protocol;

/// <summary>A field of a small FedAgg protobuf message: its number, whether it is a varint or bytes, and its length bound.</summary>
/// <param name="Number">The field number.</param>
/// <param name="IsBytes">Length-delimited (bytes or string) rather than a varint.</param>
/// <param name="MaxLength">For bytes and strings: the most bytes accepted.</param>
/// <param name="Name">The field's name, for errors.</param>
public readonly record struct ProtoField(int Number, bool IsBytes, int MaxLength, string Name)
{
    /// <summary>A varint field.</summary>
    public static ProtoField Varint(int number, string name) => new(number, false, 0, name);

    /// <summary>A bytes or string field of at most <paramref name="maxLength"/> bytes.</summary>
    public static ProtoField Bytes(int number, string name, int maxLength) => new(number, true, maxLength, name);
}

/// <summary>
/// The decoded fields of a message (see <see cref="TryDecode"/>): absent fields read as 0 or empty. Follows the rules every
/// FedAgg message shares (docs/PROTOCOL.md): unknown fields are skipped; a repeated known field, a known field with the
/// wrong wire type, a length over its bound, invalid UTF-8 in a string, or a truncated message is an error.
/// </summary>
public sealed class ProtoFields
{
    private readonly Dictionary<int, ulong> _varints = [];
    private readonly Dictionary<int, byte[]> _bytes = [];

    /// <summary>Decodes <paramref name="message"/> against <paramref name="schema"/>; never throws.</summary>
    /// <param name="message">The encoded message.</param>
    /// <param name="messageName">The message's name, for errors.</param>
    /// <param name="schema">The known fields.</param>
    /// <param name="fields">The fields when it decoded.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>Whether it decoded.</returns>
    public static bool TryDecode(
        ReadOnlySpan<byte> message, string messageName, ReadOnlySpan<ProtoField> schema, [NotNullWhen(true)] out ProtoFields? fields, [NotNullWhen(false)] out string? error)
    {
        fields = null;
        var result = new ProtoFields();
        var reader = new ProtoReader(message);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var number, out var wireType))
            {
                error = $"the {messageName} is not a valid protobuf";
                return false;
            }

            var known = -1;
            for (var i = 0; i < schema.Length; i++)
            {
                if (schema[i].Number == number)
                {
                    known = i;
                    break;
                }
            }

            if (known < 0)
            {
                if (!reader.TrySkip(wireType))
                {
                    error = $"the {messageName} is not a valid protobuf";
                    return false;
                }

                continue;
            }

            var field = schema[known];
            if (result._varints.ContainsKey(number) || result._bytes.ContainsKey(number))
            {
                error = $"field {field.Name} of the {messageName} is repeated";
                return false;
            }

            if (field.IsBytes)
            {
                if (wireType != ProtoWireType.LengthDelimited || !reader.TryReadBytes(field.MaxLength, out var value))
                {
                    error = $"field {field.Name} of the {messageName} is of the wrong type, truncated or longer than {field.MaxLength} bytes";
                    return false;
                }

                result._bytes[number] = value.ToArray();
            }
            else
            {
                if (wireType != ProtoWireType.Varint || !reader.TryReadVarint(out var value))
                {
                    error = $"field {field.Name} of the {messageName} is of the wrong type or truncated";
                    return false;
                }

                result._varints[number] = value;
            }
        }

        fields = result;
        error = null;
        return true;
    }

    /// <summary>A varint field's value (0 when absent).</summary>
    public ulong Varint(int number) => _varints.GetValueOrDefault(number);

    /// <summary>A bytes field's value (empty when absent).</summary>
    public byte[] Bytes(int number) => _bytes.GetValueOrDefault(number) ?? [];

    /// <summary>A string field's value (empty when absent); false when it is not valid UTF-8.</summary>
    public bool TryString(int number, [NotNullWhen(true)] out string? value)
    {
        value = null;
        try
        {
            value = StrictUtf8.GetString(Bytes(number));
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
}

/// <summary>Builds a small protobuf message field by field (absent = zero or empty, which is not written).</summary>
public sealed class ProtoBuilder
{
    private readonly List<(int Number, ulong Varint, byte[]? Bytes)> _fields = [];

    /// <summary>Adds a varint field (skipped when 0).</summary>
    public ProtoBuilder Varint(int number, ulong value)
    {
        if (value != 0)
        {
            _fields.Add((number, value, null));
        }

        return this;
    }

    /// <summary>Adds a bytes field (skipped when empty).</summary>
    public ProtoBuilder Bytes(int number, ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            _fields.Add((number, 0, value.ToArray()));
        }

        return this;
    }

    /// <summary>Adds a string field as UTF-8 (skipped when empty).</summary>
    public ProtoBuilder String(int number, string? value) => Bytes(number, Encoding.UTF8.GetBytes(value ?? ""));

    /// <summary>The encoded message, fields in the order added.</summary>
    public byte[] ToArray()
    {
        var size = 0;
        foreach (var (number, varint, bytes) in _fields)
        {
            size += bytes is null ? ProtoWriter.SizeVarint(number, varint) : ProtoWriter.SizeBytes(number, bytes.Length);
        }

        var output = new byte[size];
        var writer = new ProtoWriter(output);
        foreach (var (number, varint, bytes) in _fields)
        {
            if (bytes is null)
            {
                writer.WriteVarint(number, varint);
            }
            else
            {
                writer.WriteBytes(number, bytes);
            }
        }

        return output;
    }
}
