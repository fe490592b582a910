using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace FedAgg.Core.Tensors;

/// <summary>
/// The header of a NumPy <c>.npy</c> file (format versions 1.0, 2.0 and 3.0): magic <c>\x93NUMPY</c>, version,
/// header length, then a Python dict literal with <c>descr</c>, <c>fortran_order</c> and <c>shape</c>.
/// Only little-endian float32 (<c>'&lt;f4'</c>) and float16 (<c>'&lt;f2'</c>) are supported.
/// </summary>
public sealed class NpyHeader
{
    /// <summary>The largest header length <see cref="Parse"/> accepts (1 MiB); NumPy itself refuses more than 10,000 bytes by default.</summary>
    public const int MaxHeaderLength = 1 << 20;

    private const int MagicLength = 6;
    private const int Alignment = 64;

    // NumPy leaves room for the first axis to grow to this many digits so a header can be rewritten in place.
    private const int GrowthAxisMaxDigits = 21;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private NpyHeader(TensorDType dtype, long[] shape, bool fortranOrder, long dataOffset, long elementCount)
    {
        DType = dtype;
        Shape = Array.AsReadOnly(shape);
        FortranOrder = fortranOrder;
        DataOffset = dataOffset;
        ElementCount = elementCount;
    }

    /// <summary>The element type: <see cref="TensorDType.Float32"/> for <c>'&lt;f4'</c>, <see cref="TensorDType.Float16"/> for <c>'&lt;f2'</c>.</summary>
    public TensorDType DType { get; }

    /// <summary>The array shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Whether the data is stored in Fortran (column-major) order.</summary>
    public bool FortranOrder { get; }

    /// <summary>Bytes from the start of the file to the first element.</summary>
    public long DataOffset { get; }

    /// <summary>The product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Parses the header at the start of a <c>.npy</c> file.</summary>
    /// <param name="fileStart">The file's first bytes; must hold at least the whole header (<see cref="DataOffset"/> bytes).</param>
    /// <param name="fileName">The file name used in error messages, if known.</param>
    /// <returns>The parsed header.</returns>
    /// <exception cref="TensorFormatException">Bad magic, unsupported version, truncated or oversized header, malformed dict, unsupported or big-endian <c>descr</c>, invalid shape.</exception>
    public static NpyHeader Parse(ReadOnlySpan<byte> fileStart, string? fileName = null)
    {
        if (fileStart.Length < MagicLength)
        {
            if (Magic.StartsWith(fileStart))
            {
                throw Error($"truncated header: {fileStart.Length} bytes is shorter than the {MagicLength}-byte magic string", fileName);
            }

            throw Error($"bad magic: expected \\x93NUMPY, found {Convert.ToHexString(fileStart)} (hex)", fileName);
        }

        if (!fileStart[..MagicLength].SequenceEqual(Magic))
        {
            throw Error($"bad magic: expected \\x93NUMPY, found {Convert.ToHexString(fileStart[..MagicLength])} (hex)", fileName);
        }

        if (fileStart.Length < MagicLength + 2)
        {
            throw Error($"truncated header: {fileStart.Length} bytes ends inside the format version", fileName);
        }

        int major = fileStart[6], minor = fileStart[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw Error($"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)", fileName);
        }

        var lengthFieldSize = major == 1 ? 2 : 4;
        var prefixLength = MagicLength + 2 + lengthFieldSize;
        if (fileStart.Length < prefixLength)
        {
            throw Error($"truncated header: {fileStart.Length} bytes ends inside the {lengthFieldSize}-byte header length field", fileName);
        }

        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(fileStart[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(fileStart[8..]);
        if (headerLength > MaxHeaderLength)
        {
            throw Error($"header length {headerLength} bytes exceeds the limit of {MaxHeaderLength} bytes", fileName);
        }

        var dataOffset = prefixLength + (int)headerLength;
        if (fileStart.Length < dataOffset)
        {
            throw Error($"truncated header: the header needs {dataOffset} bytes but only {fileStart.Length} are present", fileName);
        }

        var reader = new HeaderReader(fileStart[prefixLength..dataOffset], fileName);
        var (descr, fortranOrder, shape) = reader.ReadDictionary();
        var dtype = DTypeFromDescr(descr, fileName);

        long count = 1;
        foreach (var dim in shape)
        {
            if (dim != 0 && count > long.MaxValue / dim)
            {
                throw Error($"shape {FormatShape(shape)} has more elements than a file can hold", fileName);
            }

            count *= dim;
        }

        if (count > (long.MaxValue - dataOffset) / dtype.ElementSize())
        {
            throw Error($"shape {FormatShape(shape)} has more elements than a file can hold", fileName);
        }

        return new NpyHeader(dtype, shape, fortranOrder, dataOffset, count);
    }

    /// <summary>
    /// Builds the header bytes NumPy's <c>np.save</c> writes for a C-order array: magic through the padding and the final
    /// <c>'\n'</c>, with the total a multiple of 64. Version 1.0 when the header length fits in 16 bits, else 2.0.
    /// </summary>
    /// <param name="dtype"><see cref="TensorDType.Float32"/> or <see cref="TensorDType.Float16"/>.</param>
    /// <param name="shape">The shape; empty for a scalar. Every dimension must be non-negative.</param>
    /// <returns>The header bytes; the data follows immediately.</returns>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> has no NumPy equivalent, or the shape is negative or too large.</exception>
    public static byte[] Build(TensorDType dtype, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var descr = dtype switch
        {
            TensorDType.Float32 => "<f4",
            TensorDType.Float16 => "<f2",
            _ => throw new ArgumentException($"{dtype} has no .npy descr; only Float32 and Float16 can be written.", nameof(dtype)),
        };

        long count = 1;
        foreach (var dim in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(shape));
            if (dim != 0 && count > long.MaxValue / dim)
            {
                throw new ArgumentException("The shape has too many elements.", nameof(shape));
            }

            count *= dim;
        }

        var text = new StringBuilder();
        text.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ").Append(FormatShape(shape)).Append(", }");
        if (shape.Count > 0)
        {
            text.Append(' ', Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));
        }

        var dict = Encoding.ASCII.GetBytes(text.ToString());
        var withNewline = dict.Length + 1;
        var version = 1;
        var prefixLength = MagicLength + 2 + 2;
        var padding = Alignment - ((prefixLength + withNewline) % Alignment);
        if (withNewline + padding > ushort.MaxValue)
        {
            version = 2;
            prefixLength = MagicLength + 2 + 4;
            padding = Alignment - ((prefixLength + withNewline) % Alignment);
        }

        var headerLength = withNewline + padding;
        var result = new byte[prefixLength + headerLength];
        Magic.CopyTo(result);
        result[6] = (byte)version;
        result[7] = 0;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)headerLength);
        }

        dict.CopyTo(result.AsSpan(prefixLength));
        result.AsSpan(prefixLength + dict.Length, padding).Fill((byte)' ');
        result[^1] = (byte)'\n';
        return result;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"npy {DType} shape {FormatShape(Shape)}{(FortranOrder ? " fortran_order" : "")} data at {DataOffset}";

    /// <summary>Formats a shape as Python's <c>repr</c> of a tuple: <c>()</c>, <c>(7,)</c>, <c>(3, 4)</c>.</summary>
    internal static string FormatShape(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    private static TensorDType DTypeFromDescr(string descr, string? fileName) => descr switch
    {
        "<f4" => TensorDType.Float32,
        "<f2" => TensorDType.Float16,
        _ when descr.StartsWith('>') => throw Error($"big-endian not supported (descr '{descr}'); save the array as little-endian", fileName),
        _ => throw Error($"unsupported descr '{descr}' (supported: '<f4' float32, '<f2' float16)", fileName),
    };

    private static TensorFormatException Error(string problem, string? fileName) => new(problem, fileName);

    /// <summary>Reads the Python dict literal NumPy writes; a strict subset of Python literal syntax.</summary>
    private ref struct HeaderReader
    {
        private readonly ReadOnlySpan<byte> _text;
        private readonly string? _fileName;
        private int _position;

        public HeaderReader(ReadOnlySpan<byte> text, string? fileName)
        {
            _text = text;
            _fileName = fileName;
            _position = 0;
        }

        public (string Descr, bool FortranOrder, long[] Shape) ReadDictionary()
        {
            string? descr = null;
            bool? fortranOrder = null;
            long[]? shape = null;

            SkipWhitespace();
            Expect((byte)'{', "'{' opening the header dictionary");
            while (true)
            {
                SkipWhitespace();
                if (TryConsume((byte)'}'))
                {
                    break;
                }

                var key = ReadString("a quoted key");
                SkipWhitespace();
                Expect((byte)':', "':' after key '" + key + "'");
                SkipWhitespace();
                switch (key)
                {
                    case "descr":
                        if (descr is not null)
                        {
                            throw Fail("duplicate key 'descr'");
                        }

                        if (Peek() == (byte)'[')
                        {
                            throw Fail("unsupported descr: structured dtypes are not supported (only '<f4' and '<f2')");
                        }

                        descr = ReadString("a quoted descr");
                        break;
                    case "fortran_order":
                        if (fortranOrder is not null)
                        {
                            throw Fail("duplicate key 'fortran_order'");
                        }

                        fortranOrder = ReadBool();
                        break;
                    case "shape":
                        if (shape is not null)
                        {
                            throw Fail("duplicate key 'shape'");
                        }

                        shape = ReadShape();
                        break;
                    default:
                        throw Fail($"unexpected key '{key}' (a header has exactly 'descr', 'fortran_order' and 'shape')");
                }

                SkipWhitespace();
                if (TryConsume((byte)','))
                {
                    continue;
                }

                Expect((byte)'}', "',' or '}' after a value");
                break;
            }

            SkipWhitespace();
            if (_position != _text.Length)
            {
                throw Fail($"unexpected byte 0x{_text[_position]:X2} after the header dictionary at header offset {_position}");
            }

            return (
                descr ?? throw Fail("header dictionary is missing key 'descr'"),
                fortranOrder ?? throw Fail("header dictionary is missing key 'fortran_order'"),
                shape ?? throw Fail("header dictionary is missing key 'shape'"));
        }

        private readonly int Peek() => _position < _text.Length ? _text[_position] : -1;

        private void SkipWhitespace()
        {
            while (_position < _text.Length && _text[_position] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                _position++;
            }
        }

        private bool TryConsume(byte c)
        {
            if (Peek() != c)
            {
                return false;
            }

            _position++;
            return true;
        }

        private void Expect(byte c, string what)
        {
            if (!TryConsume(c))
            {
                throw Unexpected(what);
            }
        }

        private string ReadString(string what)
        {
            var quote = Peek();
            if (quote is not ((byte)'\'' or (byte)'"'))
            {
                throw Unexpected(what);
            }

            var start = ++_position;
            while (_position < _text.Length && _text[_position] != quote)
            {
                var c = _text[_position];
                if (c == (byte)'\n')
                {
                    break;
                }

                if (c == (byte)'\\' || c < 0x20 || c > 0x7E)
                {
                    throw Fail($"unsupported character 0x{c:X2} in a string at header offset {_position}");
                }

                _position++;
            }

            if (_position == _text.Length || _text[_position] != quote)
            {
                throw Fail($"unterminated string starting at header offset {start - 1}");
            }

            var value = Encoding.ASCII.GetString(_text[start.._position]);
            _position++;
            return value;
        }

        private bool ReadBool()
        {
            if (_text[_position..].StartsWith("True"u8))
            {
                _position += 4;
                return true;
            }

            if (_text[_position..].StartsWith("False"u8))
            {
                _position += 5;
                return false;
            }

            throw Unexpected("True or False for 'fortran_order'");
        }

        private long[] ReadShape()
        {
            Expect((byte)'(', "a tuple '(...)' for 'shape'");
            var dims = new List<long>();
            var trailingComma = false;
            while (true)
            {
                SkipWhitespace();
                if (TryConsume((byte)')'))
                {
                    break;
                }

                if (dims.Count > 0 && !trailingComma)
                {
                    throw Unexpected("',' or ')' in 'shape'");
                }

                dims.Add(ReadDimension());
                SkipWhitespace();
                trailingComma = TryConsume((byte)',');
            }

            if (dims.Count == 1 && !trailingComma)
            {
                throw Fail("'shape' is not a tuple: a one-element tuple needs a trailing comma, as in (7,)");
            }

            return [.. dims];
        }

        private long ReadDimension()
        {
            var start = _position;
            long value = 0;
            while (_position < _text.Length && _text[_position] is >= (byte)'0' and <= (byte)'9')
            {
                var digit = _text[_position] - '0';
                if (value > (long.MaxValue - digit) / 10)
                {
                    throw Fail($"shape dimension at header offset {start} is too large");
                }

                value = (value * 10) + digit;
                _position++;
            }

            if (_position == start)
            {
                throw Unexpected("a non-negative integer dimension in 'shape'");
            }

            return value;
        }

        private readonly TensorFormatException Unexpected(string what) => _position < _text.Length
            ? Fail($"malformed header dictionary: expected {what} at header offset {_position}, found '{(char)_text[_position]}'")
            : Fail($"malformed header dictionary: expected {what} at header offset {_position}, found the end of the header");

        private readonly TensorFormatException Fail(string problem) => new(problem, _fileName);
    }
}
