using System.Text.Json;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// A contract's JSON ABI (as solc and Foundry write it): its functions, events, errors and constructor, found by name or,
/// for overloads, by canonical signature.
/// </summary>
public sealed class ContractAbi
{
    /// <summary>The largest JSON ABI accepted: 4 MiB.</summary>
    public const int MaxJsonLength = 4 * 1024 * 1024;

    private ContractAbi(IReadOnlyList<AbiFunction> functions, IReadOnlyList<AbiEvent> events, IReadOnlyList<AbiError> errors, AbiConstructor? constructor)
    {
        Functions = functions;
        Events = events;
        Errors = errors;
        Constructor = constructor ?? new AbiConstructor([]);
    }

    /// <summary>The functions, in ABI order.</summary>
    public IReadOnlyList<AbiFunction> Functions { get; }

    /// <summary>The events, in ABI order.</summary>
    public IReadOnlyList<AbiEvent> Events { get; }

    /// <summary>The custom errors, in ABI order.</summary>
    public IReadOnlyList<AbiError> Errors { get; }

    /// <summary>The constructor (one without parameters when the ABI declares none).</summary>
    public AbiConstructor Constructor { get; }

    /// <summary>
    /// Parses a JSON ABI: the array of entries, or an object with an <c>abi</c> property holding it (a solc or Foundry
    /// artifact). <c>fallback</c> and <c>receive</c> entries are skipped.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="FormatException">The JSON is malformed or an entry is not a valid ABI entry (the message names it).</exception>
    public static ContractAbi Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxJsonLength)
        {
            throw new FormatException($"A JSON ABI of {json.Length} characters exceeds the {MaxJsonLength}-character limit.");
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            return Parse(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The ABI is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses a JSON ABI already loaded as a <see cref="JsonElement"/> (the array, or an artifact with an <c>abi</c> property).</summary>
    /// <param name="root">The JSON.</param>
    /// <exception cref="FormatException">An entry is not a valid ABI entry.</exception>
    public static ContractAbi Parse(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("abi", out var abi))
        {
            root = abi;
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("A JSON ABI is an array of entries (or an object with an \"abi\" array).");
        }

        var functions = new List<AbiFunction>();
        var events = new List<AbiEvent>();
        var errors = new List<AbiError>();
        AbiConstructor? constructor = null;
        var index = 0;
        foreach (var entry in root.EnumerateArray())
        {
            try
            {
                var type = entry.TryGetProperty("type", out var t) ? t.GetString() : "function";
                switch (type)
                {
                    case "function":
                        functions.Add(new AbiFunction(RequiredName(entry), Parameters(entry, "inputs", allowIndexed: false), Parameters(entry, "outputs", allowIndexed: false), Mutability(entry)));
                        break;
                    case "event":
                        events.Add(new AbiEvent(RequiredName(entry), Parameters(entry, "inputs", allowIndexed: true), entry.TryGetProperty("anonymous", out var anonymous) && anonymous.ValueKind == JsonValueKind.True));
                        break;
                    case "error":
                        errors.Add(new AbiError(RequiredName(entry), Parameters(entry, "inputs", allowIndexed: false)));
                        break;
                    case "constructor":
                        constructor = new AbiConstructor(Parameters(entry, "inputs", allowIndexed: false), Mutability(entry));
                        break;
                    case "fallback" or "receive":
                        break;
                    default:
                        throw new FormatException($"unknown entry type \"{type}\"");
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or KeyNotFoundException)
            {
                throw new FormatException($"ABI entry {index} ({Describe(entry)}) is invalid: {e.Message}", e);
            }

            index++;
        }

        return new ContractAbi(functions, events, errors, constructor);
    }

    /// <summary>The function named <paramref name="nameOrSignature"/>, or with that canonical signature (<c>f(uint256)</c>) when overloaded.</summary>
    /// <param name="nameOrSignature">A name, or a canonical signature.</param>
    /// <exception cref="KeyNotFoundException">No function matches.</exception>
    /// <exception cref="InvalidOperationException">The name is overloaded (the message lists the signatures to use).</exception>
    public AbiFunction GetFunction(string nameOrSignature) => Find(Functions, nameOrSignature, f => f.Name, f => f.Signature, "function");

    /// <summary>The event named <paramref name="nameOrSignature"/>, or with that canonical signature.</summary>
    /// <param name="nameOrSignature">A name, or a canonical signature.</param>
    /// <exception cref="KeyNotFoundException">No event matches.</exception>
    /// <exception cref="InvalidOperationException">The name is overloaded.</exception>
    public AbiEvent GetEvent(string nameOrSignature) => Find(Events, nameOrSignature, e => e.Name, e => e.Signature, "event");

    /// <summary>The error named <paramref name="nameOrSignature"/>, or with that canonical signature.</summary>
    /// <param name="nameOrSignature">A name, or a canonical signature.</param>
    /// <exception cref="KeyNotFoundException">No error matches.</exception>
    /// <exception cref="InvalidOperationException">The name is overloaded.</exception>
    public AbiError GetError(string nameOrSignature) => Find(Errors, nameOrSignature, e => e.Name, e => e.Signature, "error");

    /// <summary>The function whose selector starts <paramref name="calldata"/>, or <see langword="null"/>.</summary>
    /// <param name="calldata">Calldata (at least the 4 selector bytes).</param>
    public AbiFunction? FindFunction(ReadOnlySpan<byte> calldata)
    {
        if (calldata.Length < 4)
        {
            return null;
        }

        foreach (var function in Functions)
        {
            if (calldata[..4].SequenceEqual(function.Selector))
            {
                return function;
            }
        }

        return null;
    }

    /// <summary>The custom error whose selector starts <paramref name="revertData"/>, or <see langword="null"/>.</summary>
    /// <param name="revertData">Revert data.</param>
    public AbiError? FindError(ReadOnlySpan<byte> revertData)
    {
        foreach (var error in Errors)
        {
            if (error.Matches(revertData))
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>The non-anonymous event whose topic 0 is <paramref name="topic0"/>, or <see langword="null"/>.</summary>
    /// <param name="topic0">A log's first topic.</param>
    public AbiEvent? FindEvent(Bytes32 topic0)
    {
        foreach (var e in Events)
        {
            if (!e.Anonymous && e.Topic0 == topic0)
            {
                return e;
            }
        }

        return null;
    }

    private static T Find<T>(IReadOnlyList<T> items, string key, Func<T, string> name, Func<T, string> signature, string what)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Contains('(', StringComparison.Ordinal))
        {
            var wanted = key.Replace(" ", string.Empty, StringComparison.Ordinal);
            return items.FirstOrDefault(i => signature(i) == wanted)
                ?? throw new KeyNotFoundException($"The ABI has no {what} with signature {wanted}.");
        }

        var matches = items.Where(i => name(i) == key).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new KeyNotFoundException($"The ABI has no {what} named {key}."),
            _ => throw new InvalidOperationException($"The {what} {key} is overloaded; ask for one of: {string.Join(", ", matches.Select(signature))}."),
        };
    }

    private static string RequiredName(JsonElement entry) =>
        entry.TryGetProperty("name", out var name) && name.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException("the entry has no name");

    private static string Mutability(JsonElement entry)
    {
        if (entry.TryGetProperty("stateMutability", out var mutability) && mutability.GetString() is { } text)
        {
            return text;
        }

        // ABIs from solc before 0.5 give constant/payable flags instead.
        if (entry.TryGetProperty("constant", out var constant) && constant.ValueKind == JsonValueKind.True)
        {
            return "view";
        }

        return entry.TryGetProperty("payable", out var payable) && payable.ValueKind == JsonValueKind.True ? "payable" : "nonpayable";
    }

    private static AbiParameter[] Parameters(JsonElement entry, string property, bool allowIndexed)
    {
        if (!entry.TryGetProperty(property, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"\"{property}\" must be an array");
        }

        var parameters = new List<AbiParameter>();
        foreach (var item in list.EnumerateArray())
        {
            var indexed = item.TryGetProperty("indexed", out var flag) && flag.ValueKind == JsonValueKind.True;
            if (indexed && !allowIndexed)
            {
                throw new FormatException("only event parameters can be indexed");
            }

            parameters.Add(new AbiParameter(item.TryGetProperty("name", out var name) ? name.GetString() ?? string.Empty : string.Empty, ParameterType(item, 0), indexed));
        }

        return [.. parameters];
    }

    // "tuple", "tuple[]", "tuple[2][]" take their components from "components"; every other type is parsed as text.
    private static AbiParameterType ParameterType(JsonElement item, int depth)
    {
        if (depth > AbiParameterType.MaxDepth)
        {
            throw new FormatException($"types nest deeper than {AbiParameterType.MaxDepth}");
        }

        var text = item.TryGetProperty("type", out var type) ? type.GetString() : null;
        if (string.IsNullOrEmpty(text))
        {
            throw new FormatException("a parameter has no type");
        }

        if (!text.StartsWith("tuple", StringComparison.Ordinal))
        {
            return AbiParameterType.Parse(text);
        }

        if (!item.TryGetProperty("components", out var componentList) || componentList.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{text} has no components");
        }

        var components = new List<AbiParameter>();
        foreach (var component in componentList.EnumerateArray())
        {
            components.Add(new AbiParameter(component.TryGetProperty("name", out var name) ? name.GetString() ?? string.Empty : string.Empty, ParameterType(component, depth + 1)));
        }

        var tuple = AbiParameterType.Tuple([.. components]);

        // The suffix is parsed on a placeholder element and replayed on the tuple.
        var suffix = text["tuple".Length..];
        if (suffix.Length == 0)
        {
            return tuple;
        }

        var shape = AbiParameterType.Parse("bool" + suffix);
        return Rebuild(shape, tuple);
    }

    private static AbiParameterType Rebuild(AbiParameterType shape, AbiParameterType element) => shape.Kind switch
    {
        AbiKind.Array => AbiParameterType.ArrayOf(Rebuild(shape.Element!, element)),
        AbiKind.FixedArray => AbiParameterType.FixedArrayOf(Rebuild(shape.Element!, element), shape.Size),
        _ => element,
    };

    private static string Describe(JsonElement entry) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()!
            : "unnamed";
}
