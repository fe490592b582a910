using System.Buffers;
using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// Solidity's ABI encoding (<c>abi.encode</c>) of any supported types, and a strict decoder.
/// </summary>
/// <remarks>
/// <para>Values passed to the encoder: integers as <see cref="BigInteger"/> or any .NET integer type; <c>address</c> as
/// <see cref="EthereumAddress"/> (or its text or 20 bytes); <c>bool</c> as <see cref="bool"/>; <c>bytesN</c> and
/// <c>bytes</c> as <see cref="byte"/>[], <see cref="ReadOnlyMemory{T}"/>, <see cref="Bytes32"/> or 0x-hex text;
/// <c>string</c> as <see cref="string"/>; arrays as any <see cref="IList"/> (e.g. <c>Bytes32[]</c>,
/// <c>List&lt;BigInteger&gt;</c>); tuples as an <see cref="IList"/>, a C# tuple or <see cref="AbiValues"/>.</para>
/// <para>Values the decoder returns: <see cref="BigInteger"/> for integers, <see cref="EthereumAddress"/>,
/// <see cref="bool"/>, <see cref="byte"/>[] for <c>bytesN</c> and <c>bytes</c>, <see cref="string"/>,
/// <see cref="object"/>[] for arrays and <see cref="AbiValues"/> for tuples; <see cref="AbiValues.Get{T}(int)"/>
/// converts to narrower types (<see cref="ulong"/>, <see cref="Bytes32"/>, <c>Bytes32[]</c>…).</para>
/// <para>The decoder checks every offset and length against the data before using it (a crafted length cannot cause a
/// large allocation, and data may not be read twice through aliasing offsets), requires zero padding and values within
/// their type's range, strict UTF-8 in strings, and rejects bytes after the encoding unless asked not to.</para>
/// </remarks>
public static class AbiCodec
{
    private const int WordSize = AbiParameterType.WordSize;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The length of <c>abi.encode(values…)</c> for <paramref name="types"/>.</summary>
    /// <param name="types">The types.</param>
    /// <param name="values">One value per type.</param>
    /// <exception cref="ArgumentException">A value does not match its type.</exception>
    public static int GetEncodedLength(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(values);
        CheckCount(types.Count, values.Count);
        return SequenceSize(types, values, topLevel: true);
    }

    /// <summary><c>abi.encode(values…)</c> as a new array.</summary>
    /// <param name="types">The types.</param>
    /// <param name="values">One value per type.</param>
    /// <exception cref="ArgumentException">A value does not match its type or is out of range (the message names the argument).</exception>
    public static byte[] Encode(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values) => Encode(types, values, prefix: []);

    /// <summary>Writes <c>abi.encode(values…)</c> into <paramref name="writer"/>.</summary>
    /// <param name="types">The types.</param>
    /// <param name="values">One value per type.</param>
    /// <param name="writer">Where to write.</param>
    /// <returns>The number of bytes written.</returns>
    public static int Encode(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(types, values);
        var span = writer.GetSpan(length)[..length];
        span.Clear();
        WriteSequence(types, values, span, topLevel: true);
        writer.Advance(length);
        return length;
    }

    /// <summary><c>prefix || abi.encode(values…)</c> (calldata is a selector prefix, deployment data the bytecode).</summary>
    internal static byte[] Encode(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values, ReadOnlySpan<byte> prefix)
    {
        var length = GetEncodedLength(types, values);
        var encoded = new byte[checked(prefix.Length + length)];
        prefix.CopyTo(encoded);
        WriteSequence(types, values, encoded.AsSpan(prefix.Length), topLevel: true);
        return encoded;
    }

    /// <summary>Decodes <c>abi.encode</c> output of <paramref name="parameters"/>' types.</summary>
    /// <param name="parameters">The expected parameters (their names label the result).</param>
    /// <param name="data">The encoding.</param>
    /// <param name="allowTrailingBytes">Whether bytes after the encoding are ignored (as for return data) rather than rejected.</param>
    /// <exception cref="AbiDecodingException">The data is not a valid encoding of the types.</exception>
    public static AbiValues Decode(IReadOnlyList<AbiParameter> parameters, ReadOnlySpan<byte> data, bool allowTrailingBytes = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var types = new AbiParameterType[parameters.Count];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = parameters[i].Type;
        }

        var decoder = new Decoder(data);
        var values = decoder.DecodeSequence(types, 0);
        if (!allowTrailingBytes && decoder.End != data.Length)
        {
            throw new AbiDecodingException(decoder.End, $"{data.Length - decoder.End} trailing byte(s) after the encoding");
        }

        return new AbiValues(parameters, values);
    }

    /// <summary>Decodes <c>abi.encode</c> output of unnamed <paramref name="types"/>.</summary>
    /// <param name="types">The expected types.</param>
    /// <param name="data">The encoding.</param>
    /// <param name="allowTrailingBytes">Whether bytes after the encoding are ignored rather than rejected.</param>
    /// <exception cref="AbiDecodingException">The data is not a valid encoding of the types.</exception>
    public static AbiValues Decode(IReadOnlyList<AbiParameterType> types, ReadOnlySpan<byte> data, bool allowTrailingBytes = false)
    {
        ArgumentNullException.ThrowIfNull(types);
        var parameters = new AbiParameter[types.Count];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = new AbiParameter(string.Empty, types[i]);
        }

        return Decode(parameters, data, allowTrailingBytes);
    }

    /// <summary>Decodes one 32-byte word as the static value type <paramref name="type"/> (an indexed event topic).</summary>
    internal static object DecodeWord(AbiParameterType type, ReadOnlySpan<byte> word, int offset)
    {
        var decoder = new Decoder(word);
        return decoder.DecodeStatic(type, 0, offset);
    }

    private static void CheckCount(int types, int values)
    {
        if (types != values)
        {
            throw new ArgumentException($"Expected {types} value(s), got {values}.", nameof(values));
        }
    }

    private static int SequenceSize(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values, bool topLevel = false)
    {
        var size = 0;
        for (var i = 0; i < types.Count; i++)
        {
            var type = types[i];
            try
            {
                // Static values are sized too: that validates them, so writing cannot fail halfway.
                var valueSize = Size(type, values[i]);
                size = checked(size + (type.IsDynamic ? WordSize + valueSize : type.HeadSize));
            }
            catch (ArgumentException e) when (topLevel)
            {
                throw new ArgumentException($"Argument {i} ({type}): {e.Message}", e);
            }
        }

        return size;
    }

    // The full encoded size of a value (for static types, its head size).
    private static int Size(AbiParameterType type, object? value)
    {
        switch (type.Kind)
        {
            case AbiKind.Bytes:
                return WordSize + Pad(AsBytes(value, type).Length);
            case AbiKind.String:
                return WordSize + Pad(Utf8Length(value));
            case AbiKind.Array:
                {
                    var list = AsList(value, type);
                    return checked(WordSize + SequenceSize(Repeat(type.Element!, list.Count), list));
                }

            case AbiKind.FixedArray:
                {
                    var list = AsList(value, type);
                    if (list.Count != type.Size)
                    {
                        throw new ArgumentException($"{type} needs exactly {type.Size} elements, got {list.Count}.");
                    }

                    return SequenceSize(Repeat(type.Element!, list.Count), list);
                }

            case AbiKind.Tuple:
                {
                    var list = AsTuple(value, type);
                    return SequenceSize(ComponentTypes(type), list);
                }

            default:
                Span<byte> scratch = stackalloc byte[WordSize];
                WriteStatic(type, value, scratch);
                return WordSize;
        }
    }

    private static int WriteSequence(IReadOnlyList<AbiParameterType> types, IReadOnlyList<object?> values, Span<byte> destination, bool topLevel)
    {
        var headSize = 0;
        for (var i = 0; i < types.Count; i++)
        {
            headSize += types[i].HeadSize;
        }

        var head = 0;
        var tail = headSize;
        for (var i = 0; i < types.Count; i++)
        {
            var type = types[i];
            try
            {
                if (type.IsDynamic)
                {
                    AbiEncoding.WriteUint64((ulong)tail, destination[head..]);
                    tail += Write(type, values[i], destination[tail..]);
                    head += WordSize;
                }
                else
                {
                    head += Write(type, values[i], destination[head..]);
                }
            }
            catch (ArgumentException e) when (topLevel)
            {
                throw new ArgumentException($"Argument {i} ({type}): {e.Message}", e);
            }
        }

        return tail;
    }

    private static int Write(AbiParameterType type, object? value, Span<byte> destination)
    {
        switch (type.Kind)
        {
            case AbiKind.Bytes:
                {
                    var bytes = AsBytes(value, type).Span;
                    AbiEncoding.WriteUint64((ulong)bytes.Length, destination);
                    bytes.CopyTo(destination[WordSize..]);
                    destination.Slice(WordSize + bytes.Length, Pad(bytes.Length) - bytes.Length).Clear();
                    return WordSize + Pad(bytes.Length);
                }

            case AbiKind.String:
                {
                    var text = (string)value!;
                    var length = Encoding.UTF8.GetBytes(text, destination[WordSize..]);
                    AbiEncoding.WriteUint64((ulong)length, destination);
                    destination.Slice(WordSize + length, Pad(length) - length).Clear();
                    return WordSize + Pad(length);
                }

            case AbiKind.Array:
                {
                    var list = AsList(value, type);
                    AbiEncoding.WriteUint64((ulong)list.Count, destination);
                    return WordSize + WriteSequence(Repeat(type.Element!, list.Count), list, destination[WordSize..], topLevel: false);
                }

            case AbiKind.FixedArray:
                {
                    var list = AsList(value, type);
                    return WriteSequence(Repeat(type.Element!, list.Count), list, destination, topLevel: false);
                }

            case AbiKind.Tuple:
                return WriteSequence(ComponentTypes(type), AsTuple(value, type), destination, topLevel: false);
            default:
                WriteStatic(type, value, destination);
                return WordSize;
        }
    }

    private static void WriteStatic(AbiParameterType type, object? value, Span<byte> destination)
    {
        switch (type.Kind)
        {
            case AbiKind.Uint:
                AbiEncoding.WriteUint(AsInteger(value, type), type.Size, destination);
                break;
            case AbiKind.Int:
                AbiEncoding.WriteInt(AsInteger(value, type), type.Size, destination);
                break;
            case AbiKind.Bool:
                AbiEncoding.WriteBool(value is bool b ? b : throw Mismatch(type, value), destination);
                break;
            case AbiKind.Address:
                AbiEncoding.WriteAddress(AsAddress(value, type).AsSpan(), destination);
                break;
            case AbiKind.FixedBytes:
                {
                    var bytes = AsBytes(value, type);
                    if (bytes.Length != type.Size)
                    {
                        throw new ArgumentException($"{type} needs exactly {type.Size} bytes, got {bytes.Length}.");
                    }

                    AbiEncoding.WriteFixedBytes(bytes.Span, destination);
                    break;
                }

            default:
                throw new InvalidOperationException($"{type} is not a one-word type.");
        }
    }

    private static BigInteger AsInteger(object? value, AbiParameterType type) => value switch
    {
        BigInteger big => big,
        byte v => v,
        sbyte v => v,
        short v => v,
        ushort v => v,
        int v => v,
        uint v => v,
        long v => v,
        ulong v => v,
        UInt128 v => v,
        Int128 v => v,
        _ => throw Mismatch(type, value),
    };

    private static EthereumAddress AsAddress(object? value, AbiParameterType type) => value switch
    {
        EthereumAddress address => address,
        string text => EthereumAddress.TryParse(text, out var parsed) ? parsed : throw new ArgumentException($"\"{text}\" is not an address (0x and 40 hex digits, EIP-55 checksum if mixed case)."),
        byte[] { Length: EthereumAddress.Size } bytes => EthereumAddress.FromBytes(bytes),
        _ => throw Mismatch(type, value),
    };

    private static ReadOnlyMemory<byte> AsBytes(object? value, AbiParameterType type) => value switch
    {
        byte[] bytes => bytes,
        ReadOnlyMemory<byte> memory => memory,
        Memory<byte> memory => memory,
        Bytes32 word => word.ToArray(),
        string text => Hex.TryDecode(text) is { } decoded && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? decoded
            : throw new ArgumentException($"{type} text must be 0x and an even number of hex digits."),
        _ => throw Mismatch(type, value),
    };

    private static int Utf8Length(object? value) =>
        value is string text ? Encoding.UTF8.GetByteCount(text) : throw Mismatch(AbiParameterType.String, value);

    private static IReadOnlyList<object?> AsList(object? value, AbiParameterType type) => value switch
    {
        IReadOnlyList<object?> list => list,
        string => throw Mismatch(type, value),
        IList list => new ListAdapter(list),
        _ => throw Mismatch(type, value),
    };

    private static IReadOnlyList<object?> AsTuple(object? value, AbiParameterType type)
    {
        var list = value switch
        {
            AbiValues values => values,
            IReadOnlyList<object?> l => l,
            IList l => new ListAdapter(l),
            ITuple tuple => TupleItems(tuple),
            _ => throw Mismatch(type, value),
        };
        if (list.Count != type.Components.Count)
        {
            throw new ArgumentException($"{type} needs {type.Components.Count} components, got {list.Count}.");
        }

        return list;
    }

    private static object?[] TupleItems(ITuple tuple)
    {
        var items = new object?[tuple.Length];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = tuple[i];
        }

        return items;
    }

    private static AbiParameterType[] ComponentTypes(AbiParameterType tuple) => Array.ConvertAll(tuple.ComponentList, c => c.Type);

    private static AbiParameterType[] Repeat(AbiParameterType element, int count)
    {
        var types = new AbiParameterType[count];
        Array.Fill(types, element);
        return types;
    }

    private static int Pad(int length) => checked((length + WordSize - 1) / WordSize * WordSize);

    private static ArgumentException Mismatch(AbiParameterType type, object? value) =>
        new($"A {type} value cannot be a {(value is null ? "null" : value.GetType().Name)}.");

    private sealed class ListAdapter(IList list) : IReadOnlyList<object?>
    {
        public int Count => list.Count;

        public object? this[int index] => list[index];

        public IEnumerator<object?> GetEnumerator()
        {
            foreach (var item in list)
            {
                yield return item;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private ref struct Decoder
    {
        private readonly ReadOnlySpan<byte> _data;
        private long _budget;

        public Decoder(ReadOnlySpan<byte> data)
        {
            _data = data;

            // A canonical encoding reads each word once; aliasing offsets that re-read data would decode to far more
            // values than the input holds, so the words read are capped at the words present.
            _budget = (data.Length / WordSize) + 1;
            End = 0;
        }

        /// <summary>The end of the furthest region read.</summary>
        public int End { get; private set; }

        public object?[] DecodeSequence(IReadOnlyList<AbiParameterType> types, int start)
        {
            var values = new object?[types.Count];
            var head = start;
            for (var i = 0; i < types.Count; i++)
            {
                var type = types[i];
                if (type.IsDynamic)
                {
                    var offset = ReadLength(head, "offset");
                    var target = (long)start + offset;
                    if (target > _data.Length)
                    {
                        throw new AbiDecodingException(head, $"offset {offset} points past the end of the data ({_data.Length} bytes)");
                    }

                    values[i] = DecodeDynamic(type, (int)target);
                    head += WordSize;
                }
                else
                {
                    values[i] = DecodeStaticAt(type, head);
                    head += type.HeadSize;
                }
            }

            return values;
        }

        public object DecodeStatic(AbiParameterType type, int position, int reportedOffset)
        {
            var word = Word(position);
            switch (type.Kind)
            {
                case AbiKind.Uint:
                    {
                        var padding = WordSize - (type.Size / 8);
                        if (word[..padding].IndexOfAnyExcept((byte)0) >= 0)
                        {
                            throw new AbiDecodingException(reportedOffset, $"value does not fit in {type}");
                        }

                        return new BigInteger(word[padding..], isUnsigned: true, isBigEndian: true);
                    }

                case AbiKind.Int:
                    {
                        var padding = WordSize - (type.Size / 8);
                        var fill = (word[padding] & 0x80) != 0 ? (byte)0xFF : (byte)0;
                        if (word[..padding].IndexOfAnyExcept(fill) >= 0)
                        {
                            throw new AbiDecodingException(reportedOffset, $"value does not fit in {type} (sign extension differs)");
                        }

                        return new BigInteger(word[padding..], isUnsigned: false, isBigEndian: true);
                    }

                case AbiKind.Bool:
                    if (word[..^1].IndexOfAnyExcept((byte)0) >= 0 || word[^1] > 1)
                    {
                        throw new AbiDecodingException(reportedOffset, "bool must be 0 or 1");
                    }

                    return word[^1] == 1;
                case AbiKind.Address:
                    if (word[..(WordSize - EthereumAddress.Size)].IndexOfAnyExcept((byte)0) >= 0)
                    {
                        throw new AbiDecodingException(reportedOffset, "address has non-zero bytes in its 12-byte padding");
                    }

                    return EthereumAddress.FromBytes(word[(WordSize - EthereumAddress.Size)..]);
                case AbiKind.FixedBytes:
                    if (word[type.Size..].IndexOfAnyExcept((byte)0) >= 0)
                    {
                        throw new AbiDecodingException(reportedOffset, $"{type} has non-zero padding");
                    }

                    return word[..type.Size].ToArray();
                default:
                    throw new InvalidOperationException($"{type} is not a one-word type.");
            }
        }

        private object DecodeStaticAt(AbiParameterType type, int position) => type.Kind switch
        {
            AbiKind.FixedArray => DecodeSequence(Repeat(type.Element!, type.Size), position),
            AbiKind.Tuple => new AbiValues(type.Components, DecodeSequence(ComponentTypes(type), position)),
            _ => DecodeStatic(type, position, position),
        };

        private object DecodeDynamic(AbiParameterType type, int position)
        {
            switch (type.Kind)
            {
                case AbiKind.Bytes:
                case AbiKind.String:
                    {
                        var length = ReadLength(position, "length");
                        var start = position + WordSize;
                        var padded = ((long)length + WordSize - 1) / WordSize * WordSize;
                        if (padded > _data.Length - start)
                        {
                            throw new AbiDecodingException(position, $"{type} of length {length} runs past the end of the data");
                        }

                        Spend(padded / WordSize, position);
                        var content = _data.Slice(start, (int)length);
                        if (_data.Slice(start + (int)length, (int)(padded - length)).IndexOfAnyExcept((byte)0) >= 0)
                        {
                            throw new AbiDecodingException(start + (int)length, $"{type} has non-zero padding");
                        }

                        End = Math.Max(End, start + (int)padded);
                        if (type.Kind == AbiKind.Bytes)
                        {
                            return content.ToArray();
                        }

                        try
                        {
                            return StrictUtf8.GetString(content);
                        }
                        catch (DecoderFallbackException e)
                        {
                            throw new AbiDecodingException(start, $"string is not valid UTF-8 ({e.Message})");
                        }
                    }

                case AbiKind.Array:
                    {
                        var length = ReadLength(position, "array length");
                        var start = position + WordSize;
                        var elementSize = Math.Max(type.Element!.HeadSize, WordSize);
                        if (length > (_data.Length - start) / elementSize)
                        {
                            throw new AbiDecodingException(position, $"array of {length} {type.Element} elements does not fit in the remaining {_data.Length - start} bytes");
                        }

                        return DecodeSequence(Repeat(type.Element, (int)length), start);
                    }

                case AbiKind.FixedArray:
                    return DecodeSequence(Repeat(type.Element!, type.Size), position);
                case AbiKind.Tuple:
                    return new AbiValues(type.Components, DecodeSequence(ComponentTypes(type), position));
                default:
                    throw new InvalidOperationException($"{type} is not dynamic.");
            }
        }

        private long ReadLength(int position, string what)
        {
            var word = Word(position);
            if (word[..24].IndexOfAnyExcept((byte)0) >= 0 || word[24..28].IndexOfAnyExcept((byte)0) >= 0)
            {
                throw new AbiDecodingException(position, $"{what} is larger than the data");
            }

            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(word[28..]);
            if (value > _data.Length)
            {
                throw new AbiDecodingException(position, $"{what} {value} is larger than the data ({_data.Length} bytes)");
            }

            return value;
        }

        private ReadOnlySpan<byte> Word(int position)
        {
            if (position < 0 || position > _data.Length - WordSize)
            {
                throw new AbiDecodingException(position, $"a 32-byte word runs past the end of the data ({_data.Length} bytes)");
            }

            Spend(1, position);
            End = Math.Max(End, position + WordSize);
            return _data.Slice(position, WordSize);
        }

        private void Spend(long words, int position)
        {
            _budget -= words;
            if (_budget < 0)
            {
                throw new AbiDecodingException(position, "offsets make the decoder read the same data more than once");
            }
        }
    }
}
