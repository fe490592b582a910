using System.Collections;
using System.Numerics;
using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// Decoded values with their parameters: by position or by name, raw (<see cref="BigInteger"/>,
/// <see cref="EthereumAddress"/>, <see cref="bool"/>, <see cref="byte"/>[], <see cref="string"/>, <see cref="object"/>[],
/// nested <see cref="AbiValues"/>, and <see cref="Bytes32"/> for hashed indexed event topics) or converted with
/// <see cref="Get{T}(int)"/>.
/// </summary>
public sealed class AbiValues : IReadOnlyList<object?>
{
    private readonly object?[] _values;

    internal AbiValues(IReadOnlyList<AbiParameter> parameters, object?[] values)
    {
        Parameters = parameters;
        _values = values;
    }

    /// <summary>The parameters, in order (names may be empty).</summary>
    public IReadOnlyList<AbiParameter> Parameters { get; }

    /// <inheritdoc/>
    public int Count => _values.Length;

    /// <inheritdoc/>
    public object? this[int index] => _values[index];

    /// <summary>The value of the parameter named <paramref name="name"/>.</summary>
    /// <param name="name">The parameter name.</param>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public object? this[string name] => _values[IndexOf(name)];

    /// <summary>The value at <paramref name="index"/> converted to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">
    /// The raw type, or a conversion: integers to any .NET integer type (checked), <c>bytesN</c>/<c>bytes</c> to
    /// <see cref="Bytes32"/> (32 bytes only) or <see cref="ReadOnlyMemory{T}"/>, arrays to typed arrays such as
    /// <c>Bytes32[]</c> or <c>ulong[]</c>.
    /// </typeparam>
    /// <param name="index">The position.</param>
    /// <exception cref="InvalidCastException">The value cannot be converted.</exception>
    /// <exception cref="OverflowException">An integer does not fit.</exception>
    public T Get<T>(int index) => (T)Convert(_values[index], typeof(T))!;

    /// <summary>The value of the parameter named <paramref name="name"/>, converted as <see cref="Get{T}(int)"/> does.</summary>
    /// <typeparam name="T">The type wanted.</typeparam>
    /// <param name="name">The parameter name.</param>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public T Get<T>(string name) => Get<T>(IndexOf(name));

    /// <summary>The position of the parameter named <paramref name="name"/>.</summary>
    /// <param name="name">The parameter name.</param>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public int IndexOf(string name)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (Parameters[i].Name == name)
            {
                return i;
            }
        }

        throw new KeyNotFoundException($"No parameter named '{name}' (have: {string.Join(", ", Parameters.Select(p => p.Name))}).");
    }

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_values).GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary><c>(name: value, …)</c>, values formatted as <see cref="AbiFormatter"/> does.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("(");
        AbiFormatter.AppendNamed(text, this);
        return text.Append(')').ToString();
    }

    private static object? Convert(object? value, Type target)
    {
        if (value is null || target.IsInstanceOfType(value))
        {
            return value;
        }

        switch (value)
        {
            case BigInteger big:
                if (target == typeof(ulong))
                {
                    return (ulong)big;
                }

                if (target == typeof(long))
                {
                    return (long)big;
                }

                if (target == typeof(uint))
                {
                    return (uint)big;
                }

                if (target == typeof(int))
                {
                    return (int)big;
                }

                if (target == typeof(ushort))
                {
                    return (ushort)big;
                }

                if (target == typeof(short))
                {
                    return (short)big;
                }

                if (target == typeof(byte))
                {
                    return (byte)big;
                }

                if (target == typeof(sbyte))
                {
                    return (sbyte)big;
                }

                if (target == typeof(UInt128))
                {
                    return (UInt128)big;
                }

                if (target == typeof(Int128))
                {
                    return (Int128)big;
                }

                break;
            case byte[] bytes:
                if (target == typeof(Bytes32) && bytes.Length == Bytes32.Size)
                {
                    return new Bytes32(bytes);
                }

                if (target == typeof(ReadOnlyMemory<byte>))
                {
                    return new ReadOnlyMemory<byte>(bytes);
                }

                break;
            case Bytes32 word:
                if (target == typeof(byte[]))
                {
                    return word.ToArray();
                }

                break;
            case object?[] items when target.IsArray:
                {
                    var elementType = target.GetElementType()!;
                    var array = Array.CreateInstance(elementType, items.Length);
                    for (var i = 0; i < items.Length; i++)
                    {
                        array.SetValue(Convert(items[i], elementType), i);
                    }

                    return array;
                }
        }

        throw new InvalidCastException($"Cannot convert a decoded {value.GetType().Name} to {target.Name}.");
    }
}
