using Microsoft.Extensions.Logging;

namespace FedAgg.Chain;

/// <summary>Every log message of FedAgg.Chain (event ids 5000–5099: 5000–5019 RPC, 5020–5069 sending, 5070–5099 local chain and ledger).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "RPC attempt {Attempt} failed; retrying in {DelayMs} ms: {Reason}")]
    public static partial void RpcRetry(ILogger logger, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Sent transaction {Hash} (nonce {Nonce}, gas limit {GasLimit}, max fee {MaxFeePerGas} wei/gas)")]
    public static partial void TransactionSent(ILogger logger, FedAgg.Core.Merkle.Bytes32 hash, ulong nonce, ulong gasLimit, System.Numerics.BigInteger maxFeePerGas);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "Nonce {Nonce} was refused ({Reason}); asking the node for the account's next nonce")]
    public static partial void NonceResynchronized(ILogger logger, ulong nonce, string reason);

    [LoggerMessage(EventId = 5022, Level = LogLevel.Warning, Message = "Transaction {Hash} (nonce {Nonce}) is unknown to the node; broadcasting it again")]
    public static partial void TransactionRebroadcast(ILogger logger, FedAgg.Core.Merkle.Bytes32 hash, ulong nonce);

    [LoggerMessage(EventId = 5023, Level = LogLevel.Warning, Message = "Transaction {OldHash} (nonce {Nonce}) is stuck; replaced by {NewHash} at max fee {MaxFeePerGas} wei/gas")]
    public static partial void TransactionBumped(ILogger logger, FedAgg.Core.Merkle.Bytes32 oldHash, FedAgg.Core.Merkle.Bytes32 newHash, ulong nonce, System.Numerics.BigInteger maxFeePerGas);

    [LoggerMessage(EventId = 5024, Level = LogLevel.Warning, Message = "Transaction {Hash} is stuck but the fee cap of {Cap} wei/gas allows no higher price; broadcasting it again")]
    public static partial void FeeCapReached(ILogger logger, FedAgg.Core.Merkle.Bytes32 hash, System.Numerics.BigInteger cap);

    [LoggerMessage(EventId = 5025, Level = LogLevel.Information, Message = "Transaction {Hash} confirmed in block {Block} (gas used {GasUsed}, success {Succeeded})")]
    public static partial void TransactionConfirmed(ILogger logger, FedAgg.Core.Merkle.Bytes32 hash, ulong block, ulong gasUsed, bool succeeded);

    [LoggerMessage(EventId = 5070, Level = LogLevel.Information, Message = "Local chain (anvil, pid {ProcessId}) answering on {RpcUrl}, chain id {ChainId}, state saved to {StatePath}")]
    public static partial void LocalChainStarted(ILogger logger, Uri rpcUrl, ulong chainId, string statePath, int processId);

    [LoggerMessage(EventId = 5071, Level = LogLevel.Information, Message = "Local chain on {RpcUrl} stopped")]
    public static partial void LocalChainStopped(ILogger logger, Uri rpcUrl);

    [LoggerMessage(EventId = 5072, Level = LogLevel.Information, Message = "FedAggLedger deployed at {Ledger} by {Transaction} ({GasUsed} gas)")]
    public static partial void LedgerDeployed(ILogger logger, EthereumAddress ledger, FedAgg.Core.Merkle.Bytes32 transaction, ulong gasUsed);
}
