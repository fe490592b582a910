using System.Globalization;
using System.Text;

namespace FedAgg.Chain.Abi;

/// <summary>The family of a Solidity ABI type.</summary>
public enum AbiKind : byte
{
    /// <summary><c>uint8</c> … <c>uint256</c>.</summary>
    Uint,

    /// <summary><c>int8</c> … <c>int256</c>.</summary>
    Int,

    /// <summary><c>address</c>.</summary>
    Address,

    /// <summary><c>bool</c>.</summary>
    Bool,

    /// <summary><c>bytes1</c> … <c>bytes32</c>.</summary>
    FixedBytes,

    /// <summary><c>bytes</c> (dynamic).</summary>
    Bytes,

    /// <summary><c>string</c> (dynamic, UTF-8).</summary>
    String,

    /// <summary><c>T[]</c> (dynamic).</summary>
    Array,

    /// <summary><c>T[k]</c> (dynamic exactly when T is).</summary>
    FixedArray,

    /// <summary><c>(T1,…,Tn)</c> (dynamic when any component is).</summary>
    Tuple,
}

/// <summary>One named parameter of a function, event, error or tuple.</summary>
/// <param name="Name">The name; empty when the ABI gives none.</param>
/// <param name="Type">The type.</param>
/// <param name="Indexed">For event parameters: whether it is a topic rather than part of the data.</param>
public sealed record AbiParameter(string Name, AbiParameterType Type, bool Indexed = false)
{
    /// <summary>The type and, when present, the name: <c>uint64 round</c>.</summary>
    public override string ToString() => Name.Length == 0 ? Type.CanonicalName : $"{Type.CanonicalName}{(Indexed ? " indexed" : string.Empty)} {Name}";
}

/// <summary>
/// A Solidity ABI type, static or dynamic: elementary types, <c>bytes</c>, <c>string</c>, arrays <c>T[]</c> and
/// <c>T[k]</c>, and tuples. Immutable; parse from the canonical text with <see cref="Parse"/>.
/// </summary>
public sealed class AbiParameterType : IEquatable<AbiParameterType>
{
    /// <summary>The deepest nesting of arrays and tuples accepted: 16.</summary>
    public const int MaxDepth = 16;

    /// <summary>The largest k of a fixed-size array <c>T[k]</c> accepted: 65,536.</summary>
    public const int MaxFixedArrayLength = 65536;

    /// <summary>An ABI word: 32 bytes.</summary>
    public const int WordSize = 32;

    private static readonly AbiParameter[] NoComponents = [];

    private AbiParameterType(AbiKind kind, int size, AbiParameterType? element, AbiParameter[] components)
    {
        Kind = kind;
        Size = size;
        Element = element;
        ComponentList = components;
        IsDynamic = kind switch
        {
            AbiKind.Bytes or AbiKind.String or AbiKind.Array => true,
            AbiKind.FixedArray => element!.IsDynamic,
            AbiKind.Tuple => Array.Exists(components, c => c.Type.IsDynamic),
            _ => false,
        };
        Depth = kind switch
        {
            AbiKind.Array or AbiKind.FixedArray => element!.Depth + 1,
            AbiKind.Tuple => 1 + components.Aggregate(0, (max, c) => Math.Max(max, c.Type.Depth)),
            _ => 0,
        };
        if (Depth > MaxDepth)
        {
            throw new ArgumentException($"ABI types may nest at most {MaxDepth} deep.");
        }

        HeadSize = IsDynamic
            ? WordSize
            : kind switch
            {
                AbiKind.FixedArray => checked(size * element!.HeadSize),
                AbiKind.Tuple => components.Aggregate(0, (sum, c) => checked(sum + c.Type.HeadSize)),
                _ => WordSize,
            };
        CanonicalName = BuildName();
    }

    /// <summary><c>address</c>.</summary>
    public static AbiParameterType Address { get; } = new(AbiKind.Address, 0, null, NoComponents);

    /// <summary><c>bool</c>.</summary>
    public static AbiParameterType Bool { get; } = new(AbiKind.Bool, 0, null, NoComponents);

    /// <summary><c>bytes</c>.</summary>
    public static AbiParameterType Bytes { get; } = new(AbiKind.Bytes, 0, null, NoComponents);

    /// <summary><c>string</c>.</summary>
    public static AbiParameterType String { get; } = new(AbiKind.String, 0, null, NoComponents);

    /// <summary><c>bytes32</c>.</summary>
    public static AbiParameterType Bytes32 { get; } = new(AbiKind.FixedBytes, 32, null, NoComponents);

    /// <summary><c>uint256</c>.</summary>
    public static AbiParameterType Uint256 { get; } = new(AbiKind.Uint, 256, null, NoComponents);

    /// <summary>The family.</summary>
    public AbiKind Kind { get; }

    /// <summary>Bits of <c>uintN</c>/<c>intN</c>, bytes of <c>bytesN</c>, k of <c>T[k]</c>; 0 otherwise.</summary>
    public int Size { get; }

    /// <summary>The element type of <c>T[]</c> and <c>T[k]</c>; <see langword="null"/> otherwise.</summary>
    public AbiParameterType? Element { get; }

    /// <summary>The components of a tuple; empty otherwise.</summary>
    public IReadOnlyList<AbiParameter> Components => ComponentList;

    /// <summary>Whether the encoding has a variable length (and is referenced by an offset from its head).</summary>
    public bool IsDynamic { get; }

    /// <summary>The bytes the type takes in the head of an enclosing tuple: 32 for dynamic types, the full encoding for static ones.</summary>
    public int HeadSize { get; }

    /// <summary>The canonical name used in signatures: <c>uint256</c>, <c>bytes32[]</c>, <c>(address,uint64)[2]</c>.</summary>
    public string CanonicalName { get; }

    internal AbiParameter[] ComponentList { get; }

    private int Depth { get; }

    /// <summary><c>uintN</c>.</summary>
    /// <param name="bits">A multiple of 8 from 8 to 256.</param>
    public static AbiParameterType Uint(int bits) => new(AbiKind.Uint, CheckBits(bits), null, NoComponents);

    /// <summary><c>intN</c>.</summary>
    /// <param name="bits">A multiple of 8 from 8 to 256.</param>
    public static AbiParameterType Int(int bits) => new(AbiKind.Int, CheckBits(bits), null, NoComponents);

    /// <summary><c>bytesN</c>.</summary>
    /// <param name="length">From 1 to 32.</param>
    public static AbiParameterType FixedBytes(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 32);
        return new AbiParameterType(AbiKind.FixedBytes, length, null, NoComponents);
    }

    /// <summary><c>T[]</c>.</summary>
    /// <param name="element">T.</param>
    public static AbiParameterType ArrayOf(AbiParameterType element)
    {
        ArgumentNullException.ThrowIfNull(element);
        return new AbiParameterType(AbiKind.Array, 0, element, NoComponents);
    }

    /// <summary><c>T[k]</c>.</summary>
    /// <param name="element">T.</param>
    /// <param name="length">k: from 1 to <see cref="MaxFixedArrayLength"/>.</param>
    public static AbiParameterType FixedArrayOf(AbiParameterType element, int length)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxFixedArrayLength);
        return new AbiParameterType(AbiKind.FixedArray, length, element, NoComponents);
    }

    /// <summary>A tuple of named components.</summary>
    /// <param name="components">The components, in order.</param>
    public static AbiParameterType Tuple(params AbiParameter[] components)
    {
        ArgumentNullException.ThrowIfNull(components);
        return new AbiParameterType(AbiKind.Tuple, 0, null, (AbiParameter[])components.Clone());
    }

    /// <summary>A tuple of unnamed components.</summary>
    /// <param name="components">The component types, in order.</param>
    public static AbiParameterType Tuple(params AbiParameterType[] components)
    {
        ArgumentNullException.ThrowIfNull(components);
        return new AbiParameterType(AbiKind.Tuple, 0, null, Array.ConvertAll(components, c => new AbiParameter(string.Empty, c)));
    }

    /// <summary>
    /// Parses a type: <c>uintN</c>, <c>intN</c> (and <c>uint</c>/<c>int</c> for 256 bits), <c>address</c>, <c>bool</c>,
    /// <c>bytesN</c>, <c>bytes</c>, <c>string</c>, tuples <c>(T1,T2)</c>, each followed by any number of <c>[]</c> or
    /// <c>[k]</c>.
    /// </summary>
    /// <param name="text">The type.</param>
    /// <exception cref="FormatException">The text is not a supported type.</exception>
    public static AbiParameterType Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new AbiSignatureParser(text);
        var type = parser.ParseType();
        parser.ExpectEnd();
        return type;
    }

    /// <summary>The elementary type (or <see langword="null"/>) for a name such as <c>uint64</c> or <c>bytes32</c>.</summary>
    internal static AbiParameterType? TryParseElementary(string name)
    {
        switch (name)
        {
            case "address":
                return Address;
            case "bool":
                return Bool;
            case "string":
                return String;
            case "bytes":
                return Bytes;
            case "uint":
                return Uint256;
            case "int":
                return Int(256);
            case "byte":
                return FixedBytes(1);
        }

        if (name.StartsWith("uint", StringComparison.Ordinal) && TryParseNumber(name.AsSpan(4), out var uintBits) && IsBits(uintBits))
        {
            return Uint(uintBits);
        }

        if (name.StartsWith("int", StringComparison.Ordinal) && TryParseNumber(name.AsSpan(3), out var intBits) && IsBits(intBits))
        {
            return Int(intBits);
        }

        if (name.StartsWith("bytes", StringComparison.Ordinal) && TryParseNumber(name.AsSpan(5), out var length) && length is >= 1 and <= 32)
        {
            return FixedBytes(length);
        }

        return null;
    }

    /// <inheritdoc/>
    public bool Equals(AbiParameterType? other) => other is not null && other.CanonicalName == CanonicalName;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as AbiParameterType);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(CanonicalName);

    /// <summary>The canonical name.</summary>
    public override string ToString() => CanonicalName;

    private static bool TryParseNumber(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        return digits.Length is > 0 and <= 3
            && digits[0] != '0'
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsBits(int bits) => bits is >= 8 and <= 256 && bits % 8 == 0;

    private static int CheckBits(int bits) =>
        IsBits(bits) ? bits : throw new ArgumentOutOfRangeException(nameof(bits), bits, "Integer widths are multiples of 8 from 8 to 256.");

    private string BuildName()
    {
        switch (Kind)
        {
            case AbiKind.Uint:
                return string.Create(CultureInfo.InvariantCulture, $"uint{Size}");
            case AbiKind.Int:
                return string.Create(CultureInfo.InvariantCulture, $"int{Size}");
            case AbiKind.Address:
                return "address";
            case AbiKind.Bool:
                return "bool";
            case AbiKind.FixedBytes:
                return string.Create(CultureInfo.InvariantCulture, $"bytes{Size}");
            case AbiKind.Bytes:
                return "bytes";
            case AbiKind.String:
                return "string";
            case AbiKind.Array:
                return Element!.CanonicalName + "[]";
            case AbiKind.FixedArray:
                return string.Create(CultureInfo.InvariantCulture, $"{Element!.CanonicalName}[{Size}]");
            default:
                var name = new StringBuilder("(");
                for (var i = 0; i < ComponentList.Length; i++)
                {
                    if (i > 0)
                    {
                        name.Append(',');
                    }

                    name.Append(ComponentList[i].Type.CanonicalName);
                }

                return name.Append(')').ToString();
        }
    }
}
