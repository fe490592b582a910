using System.Numerics;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Rpc;

/// <summary>A mined transaction's receipt as <c>eth_getTransactionReceipt</c> returns it.</summary>
/// <param name="TransactionHash">The transaction's hash.</param>
/// <param name="BlockNumber">The block that includes it.</param>
/// <param name="BlockHash">That block's hash.</param>
/// <param name="Succeeded">Status 1 (success) or 0 (reverted).</param>
/// <param name="GasUsed">Gas the transaction used, intrinsic cost included.</param>
/// <param name="EffectiveGasPrice">The price per gas actually paid (base fee + tip), in wei.</param>
/// <param name="From">The sender.</param>
/// <param name="To">The recipient, or null for a contract creation.</param>
/// <param name="ContractAddress">The created contract, for a creation.</param>
/// <param name="Logs">The events it emitted, in order.</param>
public sealed record TransactionReceipt(
    Bytes32 TransactionHash,
    ulong BlockNumber,
    Bytes32 BlockHash,
    bool Succeeded,
    ulong GasUsed,
    BigInteger EffectiveGasPrice,
    EthereumAddress From,
    EthereumAddress? To,
    EthereumAddress? ContractAddress,
    IReadOnlyList<EventLog> Logs);

/// <summary>One event log.</summary>
/// <param name="Address">The contract that emitted it.</param>
/// <param name="Topics">Topic 0 (the event's signature hash, unless anonymous) then the indexed arguments.</param>
/// <param name="Data">The ABI-encoded non-indexed arguments.</param>
/// <param name="BlockNumber">The block that holds it.</param>
/// <param name="TransactionHash">The transaction that emitted it.</param>
/// <param name="LogIndex">Its index in the block.</param>
/// <param name="Removed">True when a reorganisation removed it (filters report this).</param>
public sealed record EventLog(
    EthereumAddress Address,
    IReadOnlyList<Bytes32> Topics,
    byte[] Data,
    ulong BlockNumber,
    Bytes32 TransactionHash,
    uint LogIndex,
    bool Removed);

/// <summary>The parts of a block header FedAgg uses.</summary>
/// <param name="Number">The block number.</param>
/// <param name="Hash">The block hash.</param>
/// <param name="Timestamp">Seconds since the Unix epoch.</param>
/// <param name="BaseFeePerGas">The EIP-1559 base fee in wei (null before London).</param>
/// <param name="GasLimit">The block's gas limit.</param>
public sealed record BlockHeader(ulong Number, Bytes32 Hash, ulong Timestamp, BigInteger? BaseFeePerGas, ulong GasLimit);

/// <summary>A message call or gas estimate (<c>eth_call</c>, <c>eth_estimateGas</c>).</summary>
/// <param name="To">The contract called, or null to estimate a creation.</param>
/// <param name="Data">The calldata (or creation code).</param>
/// <param name="From">The caller, if it matters (role checks do).</param>
/// <param name="Value">Wei sent along.</param>
public sealed record CallRequest(EthereumAddress? To, ReadOnlyMemory<byte> Data, EthereumAddress? From = null, BigInteger Value = default);

/// <summary>An <c>eth_getLogs</c> filter.</summary>
/// <param name="Address">The emitting contract.</param>
/// <param name="Topics">Per position, the topic that must match (null = any).</param>
/// <param name="FromBlock">The first block searched.</param>
/// <param name="ToBlock">The last block searched, or null for the latest.</param>
public sealed record LogFilter(EthereumAddress Address, IReadOnlyList<Bytes32?> Topics, ulong FromBlock, ulong? ToBlock = null);
