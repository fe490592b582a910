using System.Globalization;
using System.Numerics;

namespace FedAgg.Chain.Abi;

/// <summary>What kind of revert data a <see cref="RevertReason"/> describes.</summary>
public enum RevertKind
{
    /// <summary>The call reverted with no data (<c>revert()</c>, a failed <c>require</c> without a message, out of gas…).</summary>
    Empty,

    /// <summary><c>Error(string)</c>: <c>require(cond, "message")</c> or <c>revert("message")</c>.</summary>
    ErrorString,

    /// <summary><c>Panic(uint256)</c>: a failed <c>assert</c>, overflow, division by zero, bad array index…</summary>
    Panic,

    /// <summary>A custom error found in the contract ABI.</summary>
    CustomError,

    /// <summary>Data that matches nothing known (or does not decode as what its selector names).</summary>
    Unknown,
}

/// <summary>Decoded revert data.</summary>
/// <param name="Kind">What the data is.</param>
/// <param name="Message">
/// Readable text: the message of <c>Error(string)</c>; <c>Panic(0x11: arithmetic overflow or underflow)</c>;
/// <c>RoundOutOfOrder(expected: 3, got: 5)</c>; or a description of empty or unknown data.
/// </param>
/// <param name="Error">The error definition, for the three decoded kinds.</param>
/// <param name="Arguments">The decoded arguments, for the three decoded kinds.</param>
public sealed record RevertReason(RevertKind Kind, string Message, AbiError? Error, AbiValues? Arguments)
{
    /// <summary>The readable text.</summary>
    public override string ToString() => Message;
}

/// <summary>Turns revert data into readable text: <c>Error(string)</c>, <c>Panic(uint256)</c> with its meaning, or a custom error from a contract ABI.</summary>
public static class RevertDecoder
{
    /// <summary>Decodes revert data.</summary>
    /// <param name="revertData">The revert data (what <c>eth_call</c>/<c>eth_estimateGas</c> return in the error's <c>data</c>).</param>
    /// <param name="abi">The contract's ABI, for custom errors; optional.</param>
    public static RevertReason Decode(ReadOnlySpan<byte> revertData, ContractAbi? abi = null)
    {
        if (revertData.IsEmpty)
        {
            return new RevertReason(RevertKind.Empty, "reverted without data", null, null);
        }

        try
        {
            if (AbiError.ErrorString.Matches(revertData))
            {
                var values = AbiError.ErrorString.Decode(revertData);
                return new RevertReason(RevertKind.ErrorString, (string)values[0]!, AbiError.ErrorString, values);
            }

            if (AbiError.Panic.Matches(revertData))
            {
                var values = AbiError.Panic.Decode(revertData);
                var code = (BigInteger)values[0]!;
                return new RevertReason(RevertKind.Panic, $"Panic(0x{code.ToString("x2", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(2, '0')}: {PanicMeaning(code)})", AbiError.Panic, values);
            }

            if (abi?.FindError(revertData) is { } error)
            {
                var values = error.Decode(revertData);
                return new RevertReason(RevertKind.CustomError, error.Format(values), error, values);
            }
        }
        catch (AbiDecodingException e)
        {
            return new RevertReason(RevertKind.Unknown, $"undecodable revert data 0x{Convert.ToHexStringLower(revertData[..Math.Min(4, revertData.Length)])}… ({revertData.Length} bytes): {e.Message}", null, null);
        }

        var selector = Convert.ToHexStringLower(revertData[..Math.Min(4, revertData.Length)]);
        return new RevertReason(RevertKind.Unknown, $"unknown error 0x{selector} ({revertData.Length} bytes of revert data: 0x{Convert.ToHexStringLower(revertData[..Math.Min(68, revertData.Length)])}{(revertData.Length > 68 ? "…" : string.Empty)})", null, null);
    }

    /// <summary>The readable text of <see cref="Decode"/>.</summary>
    /// <param name="revertData">The revert data.</param>
    /// <param name="abi">The contract's ABI, for custom errors; optional.</param>
    public static string Describe(ReadOnlySpan<byte> revertData, ContractAbi? abi = null) => Decode(revertData, abi).Message;

    /// <summary>What a Solidity panic code means.</summary>
    /// <param name="code">The <c>Panic(uint256)</c> argument.</param>
    public static string PanicMeaning(BigInteger code) => (int)BigInteger.Min(code, 0x1000) switch
    {
        0x00 => "generic compiler panic",
        0x01 => "assertion failed",
        0x11 => "arithmetic overflow or underflow",
        0x12 => "division or modulo by zero",
        0x21 => "invalid enum value",
        0x22 => "incorrectly encoded storage byte array",
        0x31 => "pop() on an empty array",
        0x32 => "array index out of bounds",
        0x41 => "too much memory allocated",
        0x51 => "call to a zero-initialized internal function",
        _ => "unknown panic code",
    };
}
