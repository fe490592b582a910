using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// A contract function: its canonical signature <c>name(type1,type2)</c>, the 4-byte selector (the first bytes of
/// keccak256 of the signature), calldata encoding and return-data decoding.
/// </summary>
public sealed class AbiFunction
{
    private readonly byte[] _selector;

    /// <summary>Creates a function from its parts.</summary>
    /// <param name="name">The name.</param>
    /// <param name="inputs">The parameters.</param>
    /// <param name="outputs">The return values.</param>
    /// <param name="stateMutability"><c>pure</c>, <c>view</c>, <c>nonpayable</c> or <c>payable</c>.</param>
    public AbiFunction(string name, IReadOnlyList<AbiParameter> inputs, IReadOnlyList<AbiParameter> outputs, string stateMutability = "nonpayable")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        Name = name;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        StateMutability = stateMutability;
        Signature = BuildSignature(name, Inputs);
        _selector = Keccak256.Hash(Encoding.ASCII.GetBytes(Signature))[..4];
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The parameters.</summary>
    public IReadOnlyList<AbiParameter> Inputs { get; }

    /// <summary>The return values.</summary>
    public IReadOnlyList<AbiParameter> Outputs { get; }

    /// <summary><c>pure</c>, <c>view</c>, <c>nonpayable</c> or <c>payable</c>.</summary>
    public string StateMutability { get; }

    /// <summary>Whether calling it changes no state (<c>view</c> or <c>pure</c>).</summary>
    public bool IsReadOnly => StateMutability is "view" or "pure";

    /// <summary>The canonical signature, <c>name(type1,type2)</c>, whose hash gives the selector.</summary>
    public string Signature { get; }

    /// <summary>The 4-byte selector (a new copy each time).</summary>
    public byte[] Selector => (byte[])_selector.Clone();

    /// <summary>The selector as 0x and 8 hex digits.</summary>
    public string SelectorHex => string.Concat("0x", Convert.ToHexStringLower(_selector));

    /// <summary>
    /// Parses a human-readable signature: <c>anchorRound(bytes32,uint64)</c>,
    /// <c>function balanceOf(address owner) view returns (uint256)</c>, or cast's <c>balanceOf(address)(uint256)</c>.
    /// </summary>
    /// <param name="signature">The signature.</param>
    /// <exception cref="FormatException">The text is not a function signature.</exception>
    public static AbiFunction Parse(string signature)
    {
        var parsed = AbiSignatureParser.ParseSignature(signature);
        if (parsed.Keyword is not (null or "function"))
        {
            throw new FormatException($"\"{signature}\" declares {parsed.Keyword}, not a function.");
        }

        if (parsed.Inputs.Any(p => p.Indexed))
        {
            throw new FormatException($"\"{signature}\": function parameters cannot be indexed.");
        }

        return new AbiFunction(parsed.Name, parsed.Inputs, parsed.Outputs, parsed.StateMutability ?? "nonpayable");
    }

    /// <summary>Calldata: the selector, then <c>abi.encode(args…)</c>.</summary>
    /// <param name="args">One value per input (see <see cref="AbiCodec"/> for the accepted .NET types).</param>
    /// <exception cref="ArgumentException">The count is wrong or a value does not fit its type (the message names it).</exception>
    public byte[] EncodeCall(params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return AbiCodec.Encode(InputTypes(), args, _selector);
    }

    /// <summary>Decodes calldata made for this function (selector checked; no trailing bytes).</summary>
    /// <param name="calldata">The calldata.</param>
    /// <exception cref="AbiDecodingException">The selector differs or the arguments do not decode.</exception>
    public AbiValues DecodeCall(ReadOnlySpan<byte> calldata)
    {
        if (calldata.Length < 4 || !calldata[..4].SequenceEqual(_selector))
        {
            throw new AbiDecodingException(0, $"calldata does not start with {Signature}'s selector {SelectorHex}");
        }

        return AbiCodec.Decode(Inputs, calldata[4..]);
    }

    /// <summary>Decodes return data into the outputs (bytes after the encoding are ignored, as Solidity does).</summary>
    /// <param name="returnData">What <c>eth_call</c> returned.</param>
    /// <exception cref="AbiDecodingException">The data does not decode as the outputs.</exception>
    public AbiValues DecodeOutput(ReadOnlySpan<byte> returnData) => AbiCodec.Decode(Outputs, returnData, allowTrailingBytes: true);

    /// <summary><c>abi.encode</c> of return values (for tests and mocks).</summary>
    /// <param name="values">One value per output.</param>
    public byte[] EncodeOutput(params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return AbiCodec.Encode([.. Outputs.Select(o => o.Type)], values);
    }

    /// <summary>The signature with the outputs, <c>name(inputs)(outputs)</c>.</summary>
    public override string ToString() => Outputs.Count == 0 ? Signature : $"{Signature}({string.Join(',', Outputs.Select(o => o.Type.CanonicalName))})";

    internal static string BuildSignature(string name, IReadOnlyList<AbiParameter> parameters) =>
        $"{name}({string.Join(',', parameters.Select(p => p.Type.CanonicalName))})";

    private AbiParameterType[] InputTypes() => [.. Inputs.Select(i => i.Type)];
}
