using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Abi;

/// <summary>
/// A Solidity custom error (or the built-in <c>Error(string)</c> and <c>Panic(uint256)</c>): revert data is its 4-byte
/// selector followed by <c>abi.encode(args…)</c>.
/// </summary>
public sealed class AbiError
{
    private readonly byte[] _selector;

    /// <summary>Creates an error from its parts.</summary>
    /// <param name="name">The name.</param>
    /// <param name="inputs">The parameters.</param>
    public AbiError(string name, IReadOnlyList<AbiParameter> inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputs);
        Name = name;
        Inputs = [.. inputs];
        Signature = AbiFunction.BuildSignature(name, Inputs);
        _selector = Keccak256.Hash(Encoding.ASCII.GetBytes(Signature))[..4];
    }

    /// <summary><c>Error(string)</c>: what <c>require(cond, "reason")</c> and <c>revert("reason")</c> raise.</summary>
    public static AbiError ErrorString { get; } = new("Error", [new AbiParameter("message", AbiParameterType.String)]);

    /// <summary><c>Panic(uint256)</c>: what failed assertions, overflow, division by zero and the like raise.</summary>
    public static AbiError Panic { get; } = new("Panic", [new AbiParameter("code", AbiParameterType.Uint256)]);

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The parameters.</summary>
    public IReadOnlyList<AbiParameter> Inputs { get; }

    /// <summary>The canonical signature, <c>Name(type1,type2)</c>.</summary>
    public string Signature { get; }

    /// <summary>The 4-byte selector (a new copy each time).</summary>
    public byte[] Selector => (byte[])_selector.Clone();

    /// <summary>The selector as 0x and 8 hex digits.</summary>
    public string SelectorHex => string.Concat("0x", Convert.ToHexStringLower(_selector));

    /// <summary>Parses <c>[error] Name(type [name], …)</c>.</summary>
    /// <param name="signature">The signature.</param>
    /// <exception cref="FormatException">The text is not an error signature.</exception>
    public static AbiError Parse(string signature)
    {
        var parsed = AbiSignatureParser.ParseSignature(signature);
        if (parsed.Keyword is not (null or "error") || parsed.Outputs.Count > 0 || parsed.Inputs.Any(p => p.Indexed))
        {
            throw new FormatException($"\"{signature}\" is not an error signature.");
        }

        return new AbiError(parsed.Name, parsed.Inputs);
    }

    /// <summary>Whether <paramref name="revertData"/> starts with this error's selector.</summary>
    /// <param name="revertData">The revert data.</param>
    public bool Matches(ReadOnlySpan<byte> revertData) => revertData.Length >= 4 && revertData[..4].SequenceEqual(_selector);

    /// <summary>Decodes revert data of this error (selector checked; no trailing bytes).</summary>
    /// <param name="revertData">The revert data, selector included.</param>
    /// <exception cref="AbiDecodingException">The selector differs or the arguments do not decode.</exception>
    public AbiValues Decode(ReadOnlySpan<byte> revertData)
    {
        if (!Matches(revertData))
        {
            throw new AbiDecodingException(0, $"revert data does not start with {Signature}'s selector {SelectorHex}");
        }

        return AbiCodec.Decode(Inputs, revertData[4..]);
    }

    /// <summary>Revert data for this error (for tests and mocks).</summary>
    /// <param name="args">One value per parameter.</param>
    public byte[] Encode(params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return AbiCodec.Encode([.. Inputs.Select(i => i.Type)], args, _selector);
    }

    /// <summary>Readable text for decoded arguments: <c>RoundOutOfOrder(expected: 3, got: 5)</c>.</summary>
    /// <param name="arguments">Values from <see cref="Decode"/>.</param>
    public string Format(AbiValues arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return Name + arguments;
    }

    /// <summary>The signature with names.</summary>
    public override string ToString() => $"{Name}({string.Join(", ", Inputs)})";
}
