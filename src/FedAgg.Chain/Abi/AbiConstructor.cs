namespace FedAgg.Chain.Abi;

/// <summary>A contract constructor: deployment data is the creation bytecode followed by <c>abi.encode(args…)</c>.</summary>
public sealed class AbiConstructor
{
    /// <summary>Creates a constructor with <paramref name="inputs"/>.</summary>
    /// <param name="inputs">The parameters.</param>
    /// <param name="stateMutability"><c>nonpayable</c> or <c>payable</c>.</param>
    public AbiConstructor(IReadOnlyList<AbiParameter> inputs, string stateMutability = "nonpayable")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Inputs = [.. inputs];
        StateMutability = stateMutability;
    }

    /// <summary>The parameters.</summary>
    public IReadOnlyList<AbiParameter> Inputs { get; }

    /// <summary><c>nonpayable</c> or <c>payable</c>.</summary>
    public string StateMutability { get; }

    /// <summary>The data of a creation transaction: <paramref name="bytecode"/> || <c>abi.encode(args…)</c>.</summary>
    /// <param name="bytecode">The creation bytecode.</param>
    /// <param name="args">One value per input.</param>
    /// <exception cref="ArgumentException">The count is wrong or a value does not fit its type.</exception>
    public byte[] EncodeDeployment(ReadOnlySpan<byte> bytecode, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return AbiCodec.Encode([.. Inputs.Select(i => i.Type)], args, bytecode);
    }
}
