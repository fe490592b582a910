using System.Numerics;

namespace FedAgg.Chain.Sending;

/// <summary>What to send; the sender fills in nonce, fees and (unless given) the gas limit.</summary>
/// <param name="To">The recipient contract, or null to create a contract from <paramref name="Data"/>.</param>
/// <param name="Data">Calldata, or creation code with its ABI-encoded constructor arguments.</param>
/// <param name="Value">Wei to send along.</param>
/// <param name="GasLimit">A fixed gas limit, or null to estimate it (with the configured headroom).</param>
public sealed record TransactionRequest(EthereumAddress? To, ReadOnlyMemory<byte> Data, BigInteger Value = default, ulong? GasLimit = null);
