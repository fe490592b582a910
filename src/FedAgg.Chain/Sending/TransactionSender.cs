using System.Numerics;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Transactions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Chain.Sending;

/// <summary>
/// Sends EIP-1559 transactions from one key and owns that key's nonces: concurrent callers never race for a nonce,
/// because nonces are assigned and broadcast under one lock, in order. Each transaction's gas is estimated with
/// headroom (a call that would revert fails here, before anything is sent), and <see cref="SendAsync"/> returns only
/// when the transaction has the configured confirmations. A transaction that stays unmined is re-broadcast (a
/// restarted node may have lost its pool) and re-priced (both fees up by <see cref="TransactionSenderOptions.FeeBumpPercent"/>).
/// Transient RPC failures while waiting (a node restarting) are ridden out until the confirmation timeout.
/// </summary>
public sealed class TransactionSender : IDisposable
{
    private readonly EthereumRpcClient _rpc;
    private readonly Secp256k1PrivateKey _key;
    private readonly TransactionSenderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _nonceLock = new(1, 1);
    private ulong? _chainId;
    private ulong? _nextNonce;

    /// <summary>Creates a sender for <paramref name="key"/>; the key is used, not copied or disposed.</summary>
    /// <param name="rpc">The node to send through.</param>
    /// <param name="key">The account's key.</param>
    /// <param name="options">Pricing and confirmation settings; defaults when null.</param>
    /// <param name="logger">Where sends, bumps and confirmations are logged (never the key).</param>
    /// <param name="timeProvider">The clock for polling and re-submission; the system clock when null.</param>
    public TransactionSender(
        EthereumRpcClient rpc,
        Secp256k1PrivateKey key,
        TransactionSenderOptions? options = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentNullException.ThrowIfNull(key);
        _rpc = rpc;
        _key = key;
        _options = options ?? new TransactionSenderOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The sending account.</summary>
    public EthereumAddress Address => _key.Address;

    /// <summary>The RPC client this sender uses.</summary>
    public EthereumRpcClient Rpc => _rpc;

    /// <summary>
    /// Prices, signs and broadcasts <paramref name="request"/>, then waits for its confirmations. Returns the receipt
    /// of a successful transaction; throws <see cref="ChainException"/> when the gas estimate reverts (nothing sent),
    /// when the mined transaction reverted (with the decoded reason), or when it was not confirmed in time.
    /// </summary>
    public async Task<TransactionReceipt> SendAsync(TransactionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chainId = _chainId ??= await _rpc.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
        var gasLimit = request.GasLimit ?? await EstimateGasLimitAsync(request, cancellationToken).ConfigureAwait(false);
        var (tip, maxFee) = await GetFeesAsync(cancellationToken).ConfigureAwait(false);

        SignedTransaction signed;
        await _nonceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            signed = await BroadcastNextAsync(chainId, request, gasLimit, tip, maxFee, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _nonceLock.Release();
        }

        return await ConfirmAsync(request, signed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets the cached nonce, so the next send asks the node (after the key was used elsewhere).</summary>
    public async Task ResynchronizeNonceAsync(CancellationToken cancellationToken)
    {
        await _nonceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        _nextNonce = null;
        _nonceLock.Release();
    }

    /// <inheritdoc />
    public void Dispose() => _nonceLock.Dispose();

    private async Task<ulong> EstimateGasLimitAsync(TransactionRequest request, CancellationToken cancellationToken)
    {
        var estimate = await _rpc.EstimateGasAsync(new CallRequest(request.To, request.Data, Address, request.Value), cancellationToken).ConfigureAwait(false);
        return checked(estimate + (estimate * (ulong)_options.GasHeadroomPercent / 100));
    }

    private async Task<(BigInteger Tip, BigInteger MaxFee)> GetFeesAsync(CancellationToken cancellationToken)
    {
        BigInteger tip;
        try
        {
            tip = await _rpc.GetMaxPriorityFeePerGasAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChainException exception) when (!exception.IsTransient)
        {
            tip = _options.FallbackPriorityFeePerGas;
        }

        var block = await _rpc.GetBlockAsync(null, cancellationToken).ConfigureAwait(false)
            ?? throw new ChainException("The node returned no latest block.", null, isTransient: true);
        var baseFee = block.BaseFeePerGas ?? BigInteger.Zero;
        var maxFee = (baseFee * 2) + tip;
        if (_options.MaxFeePerGasCap is { } cap)
        {
            if (cap < baseFee + tip)
            {
                throw new ChainException(
                    $"The fee cap of {cap} wei per gas is below the current base fee {baseFee} plus tip {tip}; raise {nameof(TransactionSenderOptions.MaxFeePerGasCap)} or wait for lower fees.",
                    null,
                    isTransient: true);
            }

            maxFee = BigInteger.Min(maxFee, cap);
            tip = BigInteger.Min(tip, maxFee);
        }

        return (tip, maxFee);
    }

    private async Task<SignedTransaction> BroadcastNextAsync(
        ulong chainId, TransactionRequest request, ulong gasLimit, BigInteger tip, BigInteger maxFee, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var nonce = _nextNonce ??= await _rpc.GetTransactionCountAsync(Address, pending: true, cancellationToken).ConfigureAwait(false);
            var signed = new Eip1559Transaction(chainId, nonce, tip, maxFee, gasLimit, request.To, request.Value, request.Data).Sign(_key);
            try
            {
                await BroadcastAsync(signed, cancellationToken).ConfigureAwait(false);
                _nextNonce = nonce + 1;
                Log.TransactionSent(_logger, signed.Hash, nonce, gasLimit, maxFee);
                return signed;
            }
            catch (ChainException exception) when (attempt < 3 && IsNonceConflict(exception))
            {
                // Someone else used this key, or the node lost or rewound state: ask the node again.
                Log.NonceResynchronized(_logger, nonce, exception.NodeMessage ?? exception.Message);
                _nextNonce = null;
            }
            catch
            {
                // The transaction may or may not have reached the pool; the node is the judge of the next nonce.
                _nextNonce = null;
                throw;
            }
        }
    }

    private async Task BroadcastAsync(SignedTransaction signed, CancellationToken cancellationToken)
    {
        try
        {
            var hash = await _rpc.SendRawTransactionAsync(signed.RawTransaction, cancellationToken).ConfigureAwait(false);
            if (hash != signed.Hash)
            {
                throw new ChainException($"The node computed transaction hash {hash}, but the signed transaction hashes to {signed.Hash}.", null, isTransient: false);
            }
        }
        catch (ChainException exception) when (IsAlreadyKnown(exception))
        {
            // A retried or re-broadcast send the node already has: that is success.
        }
    }

    private async Task<TransactionReceipt> ConfirmAsync(TransactionRequest request, SignedTransaction first, CancellationToken cancellationToken)
    {
        var attempts = new List<SignedTransaction> { first };
        var deadline = _time.GetTimestamp() + (long)(_options.ConfirmationTimeout.TotalSeconds * _time.TimestampFrequency);
        var lastBroadcast = _time.GetTimestamp();
        var bumps = 0;
        ChainException? lastTransient = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                foreach (var attempt in attempts)
                {
                    if (await _rpc.GetTransactionReceiptAsync(attempt.Hash, cancellationToken).ConfigureAwait(false) is { } receipt
                        && await WaitForConfirmationsAsync(receipt, deadline, cancellationToken).ConfigureAwait(false) is { } confirmed)
                    {
                        return confirmed.Succeeded ? confirmed : throw await RevertedAsync(request, confirmed, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (_time.GetElapsedTime(lastBroadcast) >= _options.ResubmitAfter)
                {
                    var latest = attempts[^1];
                    var mined = await _rpc.GetTransactionCountAsync(Address, pending: false, cancellationToken).ConfigureAwait(false);
                    if (mined > latest.Transaction.Nonce)
                    {
                        // The nonce was used; one of our attempts should have a receipt by the next poll. If none
                        // does after another resubmission interval, something else consumed the nonce.
                        if (_time.GetElapsedTime(lastBroadcast) >= _options.ResubmitAfter * 2)
                        {
                            throw new ChainException(
                                $"Nonce {latest.Transaction.Nonce} of {Address} was consumed by a transaction that is none of ours ({string.Join(", ", attempts.Select(a => a.Hash))}).",
                                null,
                                isTransient: false);
                        }
                    }
                    else if (!await _rpc.IsTransactionKnownAsync(latest.Hash, cancellationToken).ConfigureAwait(false))
                    {
                        Log.TransactionRebroadcast(_logger, latest.Hash, latest.Transaction.Nonce);
                        await BroadcastAsync(latest, cancellationToken).ConfigureAwait(false);
                        lastBroadcast = _time.GetTimestamp();
                    }
                    else if (bumps < _options.MaxFeeBumps)
                    {
                        var bumped = await BumpAsync(latest, cancellationToken).ConfigureAwait(false);
                        if (bumped is not null)
                        {
                            attempts.Add(bumped);
                            bumps++;
                        }

                        lastBroadcast = _time.GetTimestamp();
                    }
                    else
                    {
                        await BroadcastAsync(latest, cancellationToken).ConfigureAwait(false);
                        lastBroadcast = _time.GetTimestamp();
                    }
                }

                lastTransient = null;
            }
            catch (ChainException exception) when (exception.IsTransient)
            {
                lastTransient = exception;
            }

            if (_time.GetTimestamp() >= deadline)
            {
                throw new ChainException(
                    $"Transaction {attempts[^1].Hash} (nonce {first.Transaction.Nonce}) was not confirmed within {_options.ConfirmationTimeout}.",
                    lastTransient,
                    isTransient: true);
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<SignedTransaction?> BumpAsync(SignedTransaction latest, CancellationToken cancellationToken)
    {
        var previous = latest.Transaction;
        var (currentTip, currentMaxFee) = await GetFeesAsync(cancellationToken).ConfigureAwait(false);
        var factor = 100 + _options.FeeBumpPercent;
        var tip = BigInteger.Max((previous.MaxPriorityFeePerGas * factor / 100) + 1, currentTip);
        var maxFee = BigInteger.Max((previous.MaxFeePerGas * factor / 100) + 1, currentMaxFee);
        if (_options.MaxFeePerGasCap is { } cap && maxFee > cap)
        {
            Log.FeeCapReached(_logger, latest.Hash, cap);
            await BroadcastAsync(latest, cancellationToken).ConfigureAwait(false);
            return null;
        }

        tip = BigInteger.Min(tip, maxFee);
        var bumped = (previous with { MaxPriorityFeePerGas = tip, MaxFeePerGas = maxFee }).Sign(_key);
        try
        {
            await BroadcastAsync(bumped, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainException exception) when (IsNonceConflict(exception))
        {
            // The original was mined meanwhile; its receipt shows up on the next poll.
            return null;
        }

        Log.TransactionBumped(_logger, latest.Hash, bumped.Hash, previous.Nonce, maxFee);
        return bumped;
    }

    private async Task<TransactionReceipt?> WaitForConfirmationsAsync(TransactionReceipt receipt, long deadline, CancellationToken cancellationToken)
    {
        var target = receipt.BlockNumber + (ulong)_options.Confirmations - 1;
        while (await _rpc.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false) < target)
        {
            if (_time.GetTimestamp() >= deadline)
            {
                return null;
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }

        // A reorganisation may have moved or dropped it while we waited.
        var again = await _rpc.GetTransactionReceiptAsync(receipt.TransactionHash, cancellationToken).ConfigureAwait(false);
        if (again is null || again.BlockHash != receipt.BlockHash)
        {
            return null;
        }

        Log.TransactionConfirmed(_logger, again.TransactionHash, again.BlockNumber, again.GasUsed, again.Succeeded);
        return again;
    }

    private async Task<ChainException> RevertedAsync(TransactionRequest request, TransactionReceipt receipt, CancellationToken cancellationToken)
    {
        // Replaying the call on the parent state recovers the revert data the receipt does not carry.
        try
        {
            await _rpc.CallAsync(new CallRequest(request.To, request.Data, Address, request.Value), receipt.BlockNumber - 1, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainException exception) when (exception.RevertData is not null || exception.RpcErrorCode is not null)
        {
            return new ChainException(
                $"Transaction {receipt.TransactionHash} reverted in block {receipt.BlockNumber}: {exception.RevertReason ?? exception.NodeMessage}",
                exception,
                isTransient: false,
                exception.RpcErrorCode,
                exception.NodeMessage,
                exception.RevertData,
                exception.RevertReason);
        }

        return new ChainException(
            $"Transaction {receipt.TransactionHash} reverted in block {receipt.BlockNumber} (gas used {receipt.GasUsed}); replaying it did not reproduce the revert.",
            null,
            isTransient: false);
    }

    private static bool IsNonceConflict(ChainException exception) =>
        exception.NodeMessage is { } message
        && (message.Contains("nonce too low", StringComparison.OrdinalIgnoreCase)
            || message.Contains("nonce too high", StringComparison.OrdinalIgnoreCase)
            || message.Contains("replacement transaction underpriced", StringComparison.OrdinalIgnoreCase)
            || message.Contains("already imported", StringComparison.OrdinalIgnoreCase));

    private static bool IsAlreadyKnown(ChainException exception) =>
        exception.NodeMessage is { } message
        && (message.Contains("already known", StringComparison.OrdinalIgnoreCase)
            || message.Contains("known transaction", StringComparison.OrdinalIgnoreCase)
            || message.Contains("transaction already exists", StringComparison.OrdinalIgnoreCase));
}
