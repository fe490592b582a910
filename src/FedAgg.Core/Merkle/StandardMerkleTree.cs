using System.Buffers;
using System.Collections.ObjectModel;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace FedAgg.Core.Merkle;

/// <summary>
/// A Merkle tree laid out, hashed and dumped exactly like <c>StandardMerkleTree</c> of
/// <c>@openzeppelin/merkle-tree</c>, so its roots and proofs verify with OpenZeppelin's <c>MerkleProof.sol</c>.
/// Each value is a row of static ABI values; its leaf is <c>keccak256(bytes.concat(keccak256(abi.encode(row))))</c>.
/// Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// Like OpenZeppelin: duplicate values are allowed (each gets its own leaf); with <c>sortLeaves</c> the leaves are
/// sorted by hash, ties keeping input order; <see cref="IndexOf"/> finds the last of equal values.
/// </remarks>
public sealed class StandardMerkleTree
{
    /// <summary>The dump format this class reads and writes: <c>standard-v1</c>.</summary>
    public const string DumpFormat = "standard-v1";

    // Rows up to this many words are ABI-encoded on the stack.
    private const int StackEncodedWords = 16;

    private readonly AbiType[] _leafEncoding;
    private readonly Bytes32[] _tree;
    private readonly AbiValue[] _values;
    private readonly int[] _treeIndices;
    private Dictionary<Bytes32, int>? _valueIndexByLeafHash;

    private StandardMerkleTree(AbiType[] leafEncoding, Bytes32[] tree, AbiValue[] values, int[] treeIndices)
    {
        _leafEncoding = leafEncoding;
        _tree = tree;
        _values = values;
        _treeIndices = treeIndices;
        LeafEncoding = Array.AsReadOnly(leafEncoding);
    }

    /// <summary>The leaf encoding of update commitments: <c>(bytes32 updateId, bytes32 signerPublicKey)</c>.</summary>
    public static ReadOnlyCollection<AbiType> UpdateLeafEncoding { get; } = Array.AsReadOnly([AbiType.Bytes32, AbiType.Bytes32]);

    /// <summary>The leaf encoding of credit commitments: <c>(address account, uint256 cumulativeAmount)</c>.</summary>
    public static ReadOnlyCollection<AbiType> CreditLeafEncoding { get; } = Array.AsReadOnly([AbiType.Address, AbiType.Uint256]);

    /// <summary>The root: <c>tree[0]</c>, which for a single value is its leaf hash.</summary>
    public Bytes32 Root => _tree[0];

    /// <summary>The number of values.</summary>
    public int Count => _treeIndices.Length;

    /// <summary>The ABI types of each value's elements.</summary>
    public ReadOnlyCollection<AbiType> LeafEncoding { get; }

    /// <summary>All 2n − 1 nodes: the root first, leaves at the end (the <c>tree</c> array of the dump).</summary>
    public ReadOnlySpan<Bytes32> Tree => _tree;

    /// <summary>
    /// Builds a tree of <paramref name="values"/> (OpenZeppelin's <c>StandardMerkleTree.of</c>).
    /// </summary>
    /// <param name="values">The rows; each must have one value per leaf-encoding type, of that type.</param>
    /// <param name="leafEncoding">The ABI type of each element of a row.</param>
    /// <param name="sortLeaves">Sort leaves by hash (OpenZeppelin's default and what multiproofs on chain expect); default <see langword="true"/>.</param>
    /// <exception cref="ArgumentException">There are no values, or a row does not match <paramref name="leafEncoding"/>.</exception>
    public static StandardMerkleTree Of(IEnumerable<IReadOnlyList<AbiValue>> values, IReadOnlyList<AbiType> leafEncoding, bool sortLeaves = true)
    {
        ArgumentNullException.ThrowIfNull(values);
        var encoding = CheckEncoding(leafEncoding);
        var flat = new List<AbiValue>();
        var row = 0;
        foreach (var value in values)
        {
            if (value is null)
            {
                throw new ArgumentException($"Value {row} is null.", nameof(values));
            }

            if (value.Count != encoding.Length)
            {
                throw new ArgumentException($"Value {row} has {value.Count} elements, the leaf encoding {encoding.Length}.", nameof(values));
            }

            for (var j = 0; j < encoding.Length; j++)
            {
                if (value[j].Type != encoding[j])
                {
                    throw new ArgumentException($"Value {row} element {j} is a {value[j].Type}, the leaf encoding says {encoding[j]}.", nameof(values));
                }

                flat.Add(value[j]);
            }

            row++;
        }

        return Build(encoding, [.. flat], row, sortLeaves);
    }

    /// <inheritdoc cref="Of(IEnumerable{IReadOnlyList{AbiValue}}, IReadOnlyList{AbiType}, bool)"/>
    /// <exception cref="FormatException">A leaf-encoding type name is not a supported static type.</exception>
    public static StandardMerkleTree Of(IEnumerable<IReadOnlyList<AbiValue>> values, IReadOnlyList<string> leafEncoding, bool sortLeaves = true)
    {
        ArgumentNullException.ThrowIfNull(leafEncoding);
        var types = new AbiType[leafEncoding.Count];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = AbiType.Parse(leafEncoding[i]);
        }

        return Of(values, types, sortLeaves);
    }

    /// <summary>A sorted tree of update commitments, leaves <c>(bytes32 updateId, bytes32 signerPublicKey)</c>.</summary>
    /// <param name="updates">The updates; each id and key exactly 32 bytes.</param>
    /// <exception cref="ArgumentException">There are no updates, or an id or key is not 32 bytes.</exception>
    public static StandardMerkleTree ForUpdates(IEnumerable<(ReadOnlyMemory<byte> UpdateId, ReadOnlyMemory<byte> SignerPublicKey)> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var flat = new List<AbiValue>();
        foreach (var (updateId, signerPublicKey) in updates)
        {
            flat.Add(AbiValue.FromBytes32(updateId.Span));
            flat.Add(AbiValue.FromBytes32(signerPublicKey.Span));
        }

        return Build([.. UpdateLeafEncoding], [.. flat], flat.Count / 2, sortLeaves: true);
    }

    /// <inheritdoc cref="ForUpdates(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}})"/>
    public static StandardMerkleTree ForUpdates(IEnumerable<(Bytes32 UpdateId, Bytes32 SignerPublicKey)> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var flat = new List<AbiValue>();
        foreach (var (updateId, signerPublicKey) in updates)
        {
            flat.Add(AbiValue.FromBytes32(updateId));
            flat.Add(AbiValue.FromBytes32(signerPublicKey));
        }

        return Build([.. UpdateLeafEncoding], [.. flat], flat.Count / 2, sortLeaves: true);
    }

    /// <summary>A sorted tree of credit commitments, leaves <c>(address account, uint256 cumulativeAmount)</c>.</summary>
    /// <param name="credits">The credits; each address exactly 20 bytes, each amount from 0 to 2^256 − 1.</param>
    /// <exception cref="ArgumentException">There are no credits, or an address is not 20 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An amount is negative or at least 2^256.</exception>
    public static StandardMerkleTree ForCredits(IEnumerable<(ReadOnlyMemory<byte> Address, BigInteger CumulativeAmount)> credits)
    {
        ArgumentNullException.ThrowIfNull(credits);
        var flat = new List<AbiValue>();
        foreach (var (address, amount) in credits)
        {
            flat.Add(AbiValue.FromAddress(address.Span));
            flat.Add(AbiValue.FromUint256(amount));
        }

        return Build([.. CreditLeafEncoding], [.. flat], flat.Count / 2, sortLeaves: true);
    }

    /// <summary>The leaf hash of a row: <c>keccak256(bytes.concat(keccak256(abi.encode(values…))))</c>.</summary>
    /// <param name="values">The row.</param>
    /// <exception cref="ArgumentException">A value is <see langword="default"/>.</exception>
    public static Bytes32 LeafHash(ReadOnlySpan<AbiValue> values)
    {
        var length = AbiEncoding.GetEncodedLength(values.Length);
        byte[]? rented = null;
        var encoded = values.Length <= StackEncodedWords
            ? stackalloc byte[StackEncodedWords * AbiEncoding.WordSize]
            : rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            AbiEncoding.Encode(values, encoded);
            Span<byte> hash = stackalloc byte[Keccak256.HashSize];
            Keccak256.Hash(encoded[..length], hash);
            Keccak256.Hash(hash, hash);
            return new Bytes32(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Whether <paramref name="proof"/> leads from <paramref name="leafHash"/> to <paramref name="root"/> (OpenZeppelin's <c>MerkleProof.verify</c>).</summary>
    /// <param name="root">The expected root.</param>
    /// <param name="leafHash">The leaf hash (<see cref="LeafHash"/>).</param>
    /// <param name="proof">The sibling hashes from the leaf up.</param>
    public static bool Verify(Bytes32 root, Bytes32 leafHash, ReadOnlySpan<Bytes32> proof) => MerkleProof.Verify(root, leafHash, proof);

    /// <summary>Whether <paramref name="proof"/> proves the row <paramref name="leaf"/> under <paramref name="root"/> (OpenZeppelin's <c>StandardMerkleTree.verify</c>).</summary>
    /// <param name="root">The expected root.</param>
    /// <param name="leaf">The row.</param>
    /// <param name="proof">The sibling hashes from the leaf up.</param>
    /// <exception cref="ArgumentException">A value is <see langword="default"/>.</exception>
    public static bool Verify(Bytes32 root, ReadOnlySpan<AbiValue> leaf, ReadOnlySpan<Bytes32> proof) => MerkleProof.Verify(root, LeafHash(leaf), proof);

    /// <summary>Whether <paramref name="multiProof"/> leads to <paramref name="root"/>; <see langword="false"/> for a malformed proof.</summary>
    /// <param name="root">The expected root.</param>
    /// <param name="multiProof">The multiproof; its leaves are leaf hashes.</param>
    public static bool VerifyMultiProof(Bytes32 root, MerkleMultiProof multiProof) => MerkleProof.VerifyMultiProof(root, multiProof);

    /// <summary>The row at <paramref name="valueIndex"/> (input order).</summary>
    /// <param name="valueIndex">From 0 to <see cref="Count"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valueIndex"/> is out of range.</exception>
    public ReadOnlySpan<AbiValue> GetValue(int valueIndex)
    {
        CheckValueIndex(valueIndex);
        return _values.AsSpan(valueIndex * _leafEncoding.Length, _leafEncoding.Length);
    }

    /// <summary>Where the leaf of value <paramref name="valueIndex"/> sits in <see cref="Tree"/>.</summary>
    /// <param name="valueIndex">From 0 to <see cref="Count"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valueIndex"/> is out of range.</exception>
    public int GetTreeIndex(int valueIndex)
    {
        CheckValueIndex(valueIndex);
        return _treeIndices[valueIndex];
    }

    /// <summary>The leaf hash of value <paramref name="valueIndex"/>.</summary>
    /// <param name="valueIndex">From 0 to <see cref="Count"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valueIndex"/> is out of range.</exception>
    public Bytes32 GetLeafHash(int valueIndex) => _tree[GetTreeIndex(valueIndex)];

    /// <summary>The index of a value equal to <paramref name="leaf"/> (the last one, as OpenZeppelin's lookup), or −1.</summary>
    /// <param name="leaf">The row.</param>
    /// <exception cref="ArgumentException"><paramref name="leaf"/> does not match <see cref="LeafEncoding"/>.</exception>
    public int IndexOf(ReadOnlySpan<AbiValue> leaf)
    {
        CheckRow(leaf, nameof(leaf));
        var lookup = _valueIndexByLeafHash;
        if (lookup is null)
        {
            lookup = new Dictionary<Bytes32, int>(Count);
            for (var i = 0; i < Count; i++)
            {
                lookup[_tree[_treeIndices[i]]] = i;
            }

            _valueIndexByLeafHash = lookup;
        }

        return lookup.TryGetValue(LeafHash(leaf), out var index) ? index : -1;
    }

    /// <summary>The sibling hashes from the leaf of value <paramref name="valueIndex"/> up to the root (OpenZeppelin's <c>getProof</c>).</summary>
    /// <param name="valueIndex">From 0 to <see cref="Count"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valueIndex"/> is out of range.</exception>
    public Bytes32[] GetProof(int valueIndex) => MerkleTreeLayout.GetProof(_tree, GetTreeIndex(valueIndex));

    /// <summary>The proof of the value equal to <paramref name="leaf"/> (the last one when there are several).</summary>
    /// <param name="leaf">The row.</param>
    /// <exception cref="ArgumentException"><paramref name="leaf"/> is not in the tree or does not match <see cref="LeafEncoding"/>.</exception>
    public Bytes32[] GetProof(ReadOnlySpan<AbiValue> leaf)
    {
        var index = IndexOf(leaf);
        return index >= 0 ? GetProof(index) : throw new ArgumentException("Leaf is not in tree.", nameof(leaf));
    }

    /// <summary>Whether <paramref name="proof"/> proves value <paramref name="valueIndex"/> under <see cref="Root"/>.</summary>
    /// <param name="valueIndex">From 0 to <see cref="Count"/> − 1.</param>
    /// <param name="proof">The sibling hashes from the leaf up.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valueIndex"/> is out of range.</exception>
    public bool Verify(int valueIndex, ReadOnlySpan<Bytes32> proof) => MerkleProof.Verify(Root, GetLeafHash(valueIndex), proof);

    /// <summary>A multiproof of the given values (OpenZeppelin's <c>getMultiProof</c>); an empty set proves just the root.</summary>
    /// <param name="valueIndices">Distinct value indices, in any order.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    /// <exception cref="ArgumentException">An index appears twice.</exception>
    public StandardMerkleMultiProof GetMultiProof(IEnumerable<int> valueIndices)
    {
        ArgumentNullException.ThrowIfNull(valueIndices);
        var treeIndices = new List<int>();
        foreach (var valueIndex in valueIndices)
        {
            treeIndices.Add(GetTreeIndex(valueIndex));
        }

        treeIndices.Sort(static (a, b) => b.CompareTo(a));
        for (var i = 1; i < treeIndices.Count; i++)
        {
            if (treeIndices[i] == treeIndices[i - 1])
            {
                throw new ArgumentException("Cannot prove duplicated index.", nameof(valueIndices));
            }
        }

        var valueIndexByTreeIndex = new Dictionary<int, int>(Count);
        for (var i = 0; i < Count; i++)
        {
            valueIndexByTreeIndex[_treeIndices[i]] = i;
        }

        var leaves = new Bytes32[treeIndices.Count];
        var leafValueIndices = new int[treeIndices.Count];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = _tree[treeIndices[i]];
            leafValueIndices[i] = valueIndexByTreeIndex[treeIndices[i]];
        }

        var (proof, flags) = MerkleTreeLayout.GetMultiProof(_tree, [.. treeIndices]);
        return new StandardMerkleMultiProof(leafValueIndices, leaves, proof, flags);
    }

    /// <summary>
    /// The JSON dump OpenZeppelin's <c>JSON.stringify(tree.dump())</c> writes:
    /// <c>{"format":"standard-v1","leafEncoding":[…],"tree":["0x…"],"values":[{"value":[…],"treeIndex":N}]}</c>,
    /// values in their text form (<see cref="AbiValue.ToString"/>; booleans as JSON booleans).
    /// </summary>
    public string Dump()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Dump(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the dump of <see cref="Dump()"/> as one JSON object.</summary>
    /// <param name="writer">Where to write.</param>
    public void Dump(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("format", DumpFormat);
        writer.WriteStartArray("leafEncoding");
        foreach (var type in _leafEncoding)
        {
            writer.WriteStringValue(type.ToString());
        }

        writer.WriteEndArray();
        writer.WriteStartArray("tree");
        Span<char> hex = stackalloc char[2 + (2 * Bytes32.Size)];
        foreach (var node in _tree)
        {
            node.TryFormat(hex, out _, default, null);
            writer.WriteStringValue(hex);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("values");
        for (var i = 0; i < Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteStartArray("value");
            foreach (var value in GetValue(i))
            {
                if (value.Type.Kind == AbiTypeKind.Bool)
                {
                    writer.WriteBooleanValue(!value.ToBigInteger().IsZero);
                }
                else
                {
                    writer.WriteStringValue(value.ToString());
                }
            }

            writer.WriteEndArray();
            writer.WriteNumber("treeIndex", _treeIndices[i]);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads a dump (OpenZeppelin's <c>StandardMerkleTree.load</c>) and checks it as OpenZeppelin does: the format,
    /// every value's leaf hash at its tree index, and every inner node. Values may be written as OpenZeppelin's
    /// encoder accepts the common forms: hex strings of the exact length (either case) for <c>address</c> and
    /// <c>bytesN</c>; decimal or <c>0x</c>-hex strings or JSON integers for numbers; JSON or string booleans.
    /// </summary>
    /// <param name="json">The dump.</param>
    /// <exception cref="FormatException">The dump is not valid JSON, not <c>standard-v1</c>, malformed, or its tree is inconsistent (the message says where).</exception>
    public static StandardMerkleTree Load(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"Merkle tree dump: not valid JSON ({exception.Message})", exception);
        }

        using (document)
        {
            return Load(document.RootElement);
        }
    }

    /// <inheritdoc cref="Load(string)"/>
    /// <param name="dump">The dump's JSON object.</param>
    public static StandardMerkleTree Load(JsonElement dump)
    {
        if (dump.ValueKind != JsonValueKind.Object)
        {
            throw Malformed($"expected a JSON object, got {dump.ValueKind}");
        }

        var format = dump.TryGetProperty("format", out var formatElement) && formatElement.ValueKind == JsonValueKind.String
            ? formatElement.GetString()
            : null;
        if (format != DumpFormat)
        {
            throw Malformed($"unknown format '{format ?? formatElement.ToString()}', expected '{DumpFormat}'");
        }

        var encoding = ReadLeafEncoding(dump);
        var tree = ReadTree(dump);
        var (values, treeIndices) = ReadValues(dump, encoding, tree.Length);

        var loaded = new StandardMerkleTree(encoding, tree, values, treeIndices);
        for (var i = 0; i < treeIndices.Length; i++)
        {
            if (LeafHash(loaded.GetValue(i)) != tree[treeIndices[i]])
            {
                throw Malformed($"the tree does not contain the expected value: values[{i}] does not hash to tree[{treeIndices[i]}]");
            }
        }

        var inconsistent = MerkleTreeLayout.FindInconsistentNode(tree);
        if (inconsistent >= 0)
        {
            throw Malformed($"the Merkle tree is invalid: tree[{inconsistent}] is not the hash of its children");
        }

        return loaded;
    }

    private static StandardMerkleTree Build(AbiType[] encoding, AbiValue[] values, int count, bool sortLeaves)
    {
        if (count == 0)
        {
            throw new ArgumentException("Expected non-zero number of leaves.", nameof(values));
        }

        var width = encoding.Length;
        var hashes = new Bytes32[count];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = LeafHash(values.AsSpan(i * width, width));
        }

        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        if (sortLeaves)
        {
            // Ties by input position make the unstable sort give the order of JavaScript's stable one.
            Array.Sort(order, (a, b) => hashes[a].CompareTo(hashes[b]) is var byHash and not 0 ? byHash : a.CompareTo(b));
        }

        var leaves = new Bytes32[count];
        var treeIndices = new int[count];
        var treeLength = (2 * count) - 1;
        for (var i = 0; i < count; i++)
        {
            leaves[i] = hashes[order[i]];
            treeIndices[order[i]] = treeLength - 1 - i;
        }

        return new StandardMerkleTree(encoding, MerkleTreeLayout.Build(leaves), values, treeIndices);
    }

    private static AbiType[] CheckEncoding(IReadOnlyList<AbiType> leafEncoding)
    {
        ArgumentNullException.ThrowIfNull(leafEncoding);
        var encoding = new AbiType[leafEncoding.Count];
        for (var i = 0; i < encoding.Length; i++)
        {
            encoding[i] = leafEncoding[i].Kind != AbiTypeKind.None
                ? leafEncoding[i]
                : throw new ArgumentException($"Leaf encoding element {i} has no type (a default {nameof(AbiType)}).", nameof(leafEncoding));
        }

        return encoding;
    }

    private void CheckValueIndex(int valueIndex)
    {
        if ((uint)valueIndex >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(valueIndex), valueIndex, $"The tree has {Count} values.");
        }
    }

    private void CheckRow(ReadOnlySpan<AbiValue> row, string parameterName)
    {
        if (row.Length != _leafEncoding.Length)
        {
            throw new ArgumentException($"The row has {row.Length} values, the leaf encoding {_leafEncoding.Length}.", parameterName);
        }

        for (var j = 0; j < row.Length; j++)
        {
            if (row[j].Type != _leafEncoding[j])
            {
                throw new ArgumentException($"Element {j} is a {row[j].Type}, the leaf encoding says {_leafEncoding[j]}.", parameterName);
            }
        }
    }

    private static AbiType[] ReadLeafEncoding(JsonElement dump)
    {
        if (!dump.TryGetProperty("leafEncoding", out var element) || element.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("expected leafEncoding, an array of ABI type names");
        }

        var encoding = new AbiType[element.GetArrayLength()];
        var i = 0;
        foreach (var name in element.EnumerateArray())
        {
            if (name.ValueKind != JsonValueKind.String || !AbiType.TryParse(name.GetString(), out encoding[i]))
            {
                throw Malformed($"leafEncoding[{i}] is {name.GetRawText()}, not a supported static ABI type (address, bool, uintN, intN, bytesN)");
            }

            i++;
        }

        return encoding;
    }

    private static Bytes32[] ReadTree(JsonElement dump)
    {
        if (!dump.TryGetProperty("tree", out var element) || element.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("expected tree, an array of 32-byte hex strings");
        }

        var length = element.GetArrayLength();
        if (length % 2 == 0)
        {
            throw Malformed($"the Merkle tree is invalid: it has {length} nodes, a complete tree has an odd number");
        }

        var tree = new Bytes32[length];
        var i = 0;
        foreach (var node in element.EnumerateArray())
        {
            if (node.ValueKind != JsonValueKind.String || !Bytes32.TryParse(node.GetString(), out tree[i]))
            {
                throw Malformed($"tree[{i}] is {Shorten(node.GetRawText())}, not 32 bytes of hex");
            }

            i++;
        }

        return tree;
    }

    private static (AbiValue[] Values, int[] TreeIndices) ReadValues(JsonElement dump, AbiType[] encoding, int treeLength)
    {
        if (!dump.TryGetProperty("values", out var element) || element.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("expected values, an array of {\"value\": [...], \"treeIndex\": N}");
        }

        var count = element.GetArrayLength();
        var values = new AbiValue[count * encoding.Length];
        var treeIndices = new int[count];
        var i = 0;
        foreach (var entry in element.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object
                || !entry.TryGetProperty("value", out var row) || row.ValueKind != JsonValueKind.Array
                || !entry.TryGetProperty("treeIndex", out var treeIndex) || treeIndex.ValueKind != JsonValueKind.Number)
            {
                throw Malformed($"values[{i}] is not {{\"value\": [...], \"treeIndex\": N}}");
            }

            if (!treeIndex.TryGetInt32(out treeIndices[i]) || !MerkleTreeLayout.IsLeaf(treeLength, treeIndices[i]))
            {
                throw Malformed($"values[{i}].treeIndex is {Shorten(treeIndex.GetRawText())}, not a leaf position of a {treeLength}-node tree");
            }

            if (row.GetArrayLength() != encoding.Length)
            {
                throw Malformed($"values[{i}].value has {row.GetArrayLength()} elements, the leaf encoding {encoding.Length}");
            }

            var j = 0;
            foreach (var item in row.EnumerateArray())
            {
                var error = ReadValue(item, encoding[j], out values[(i * encoding.Length) + j]);
                if (error is not null)
                {
                    throw Malformed($"values[{i}].value[{j}]: {error}");
                }

                j++;
            }

            i++;
        }

        return (values, treeIndices);
    }

    private static string? ReadValue(JsonElement item, AbiType type, out AbiValue value)
    {
        value = default;
        switch (item.ValueKind)
        {
            case JsonValueKind.String:
                return AbiValue.TryParseCore(type, item.GetString(), out value);
            case JsonValueKind.Number when type.Kind is AbiTypeKind.Uint or AbiTypeKind.Int:
                var text = item.GetRawText();
                return text.AsSpan().ContainsAny('.', 'e', 'E')
                    ? $"{Shorten(text)} is not an integer"
                    : AbiValue.TryParseCore(type, text, out value);
            case JsonValueKind.True or JsonValueKind.False when type.Kind == AbiTypeKind.Bool:
                value = AbiValue.FromBool(item.ValueKind == JsonValueKind.True);
                return null;
            default:
                return $"{Shorten(item.GetRawText())} is not a {type} value";
        }
    }

    private static FormatException Malformed(string problem) => new($"Merkle tree dump: {problem}.");

    private static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..80]}…";
}
