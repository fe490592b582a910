using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// A contract event: topic 0 is keccak256 of the canonical signature (absent for anonymous events), indexed parameters
/// follow as topics (dynamic ones as the keccak256 of their encoding, which cannot be reversed), the rest are
/// <c>abi.encode</c>d in the data.
/// </summary>
public sealed class AbiEvent
{
    /// <summary>Creates an event from its parts.</summary>
    /// <param name="name">The name.</param>
    /// <param name="inputs">The parameters, with <see cref="AbiParameter.Indexed"/> set on topics.</param>
    /// <param name="anonymous">Whether the signature topic is left out.</param>
    public AbiEvent(string name, IReadOnlyList<AbiParameter> inputs, bool anonymous = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputs);
        Name = name;
        Inputs = [.. inputs];
        Anonymous = anonymous;
        var indexed = Inputs.Count(i => i.Indexed);
        if (indexed > (anonymous ? 4 : 3))
        {
            throw new ArgumentException($"Event {name} has {indexed} indexed parameters; at most {(anonymous ? 4 : 3)} fit in the topics.", nameof(inputs));
        }

        Signature = AbiFunction.BuildSignature(name, Inputs);
        Topic0 = Keccak256.HashToBytes32(Encoding.ASCII.GetBytes(Signature));
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The parameters in declaration order.</summary>
    public IReadOnlyList<AbiParameter> Inputs { get; }

    /// <summary>Whether the event has no signature topic.</summary>
    public bool Anonymous { get; }

    /// <summary>The canonical signature, <c>Name(type1,type2)</c>.</summary>
    public string Signature { get; }

    /// <summary>keccak256 of <see cref="Signature"/>: the first topic of a non-anonymous event's logs.</summary>
    public Bytes32 Topic0 { get; }

    /// <summary>Parses <c>[event] Name(type [indexed] [name], …) [anonymous]</c>.</summary>
    /// <param name="signature">The signature.</param>
    /// <exception cref="FormatException">The text is not an event signature.</exception>
    public static AbiEvent Parse(string signature)
    {
        var parsed = AbiSignatureParser.ParseSignature(signature);
        if (parsed.Keyword is not (null or "event") || parsed.Outputs.Count > 0)
        {
            throw new FormatException($"\"{signature}\" is not an event signature.");
        }

        return new AbiEvent(parsed.Name, parsed.Inputs, parsed.Anonymous);
    }

    /// <summary>
    /// Decodes a log of this event into its parameters, in declaration order: indexed value types from their topics,
    /// indexed dynamic types as the <see cref="Bytes32"/> hash in the topic, the rest from the data (no trailing bytes).
    /// </summary>
    /// <param name="topics">The log's topics.</param>
    /// <param name="data">The log's data.</param>
    /// <exception cref="AbiDecodingException">The topic count or topic 0 differs, or a value does not decode.</exception>
    public AbiValues Decode(IReadOnlyList<Bytes32> topics, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var expected = (Anonymous ? 0 : 1) + Inputs.Count(i => i.Indexed);
        if (topics.Count != expected)
        {
            throw new AbiDecodingException($"{Signature} logs have {expected} topic(s), got {topics.Count}.");
        }

        if (!Anonymous && topics[0] != Topic0)
        {
            throw new AbiDecodingException($"Topic 0 is {topics[0]}, not {Signature}'s {Topic0}.");
        }

        var dataParameters = Inputs.Where(i => !i.Indexed).ToArray();
        var dataValues = AbiCodec.Decode(dataParameters, data);
        var values = new object?[Inputs.Count];
        var topic = Anonymous ? 0 : 1;
        var dataIndex = 0;
        for (var i = 0; i < Inputs.Count; i++)
        {
            var input = Inputs[i];
            if (!input.Indexed)
            {
                values[i] = dataValues[dataIndex++];
            }
            else if (IsHashedInTopic(input.Type))
            {
                values[i] = topics[topic++];
            }
            else
            {
                values[i] = AbiCodec.DecodeWord(input.Type, topics[topic].AsSpan(), topic);
                topic++;
            }
        }

        return new AbiValues(Inputs, values);
    }

    /// <summary>The topics and data of a log of this event with the given values (for tests and filters).</summary>
    /// <param name="values">One value per parameter, in declaration order; for indexed dynamic types, the <see cref="Bytes32"/> hash.</param>
    /// <exception cref="ArgumentException">The count is wrong or a value does not fit its type.</exception>
    public (Bytes32[] Topics, byte[] Data) Encode(params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != Inputs.Count)
        {
            throw new ArgumentException($"Expected {Inputs.Count} value(s), got {values.Length}.", nameof(values));
        }

        var topics = new List<Bytes32>();
        if (!Anonymous)
        {
            topics.Add(Topic0);
        }

        var dataTypes = new List<AbiParameterType>();
        var dataValues = new List<object?>();
        for (var i = 0; i < Inputs.Count; i++)
        {
            var input = Inputs[i];
            if (!input.Indexed)
            {
                dataTypes.Add(input.Type);
                dataValues.Add(values[i]);
            }
            else if (IsHashedInTopic(input.Type))
            {
                topics.Add(values[i] is Bytes32 hash ? hash : throw new ArgumentException($"Indexed {input.Type} parameter {i} is given as its Bytes32 hash."));
            }
            else
            {
                topics.Add(new Bytes32(AbiCodec.Encode([input.Type], [values[i]])));
            }
        }

        return ([.. topics], AbiCodec.Encode(dataTypes, dataValues));
    }

    /// <summary>The signature with <c>indexed</c> markers and names.</summary>
    public override string ToString() => $"{Name}({string.Join(", ", Inputs)}){(Anonymous ? " anonymous" : string.Empty)}";

    private static bool IsHashedInTopic(AbiParameterType type) =>
        type.IsDynamic || type.Kind is AbiKind.Tuple or AbiKind.FixedArray;
}
