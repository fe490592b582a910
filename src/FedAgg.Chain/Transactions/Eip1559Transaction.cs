using System.Numerics;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Rlp;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Transactions;

/// <summary>
/// An unsigned EIP-1559 (type 2) transaction. Its signing hash is
/// <c>keccak256(0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList]))</c>;
/// the chain id inside the payload gives the replay protection EIP-155 gives legacy transactions.
/// </summary>
/// <param name="ChainId">The chain id.</param>
/// <param name="Nonce">The sender's nonce.</param>
/// <param name="MaxPriorityFeePerGas">The tip per gas, in wei (0 to 2^256 − 1).</param>
/// <param name="MaxFeePerGas">The fee cap per gas, in wei (0 to 2^256 − 1; nodes require at least the tip).</param>
/// <param name="GasLimit">The gas limit.</param>
/// <param name="To">The recipient, or <see langword="null"/> to create a contract from <paramref name="Data"/>.</param>
/// <param name="Value">The wei sent (0 to 2^256 − 1).</param>
/// <param name="Data">The calldata (or init code for a creation).</param>
public sealed record Eip1559Transaction(
    ulong ChainId,
    ulong Nonce,
    BigInteger MaxPriorityFeePerGas,
    BigInteger MaxFeePerGas,
    ulong GasLimit,
    EthereumAddress? To,
    BigInteger Value,
    ReadOnlyMemory<byte> Data)
{
    /// <summary>The EIP-2718 type byte: 0x02.</summary>
    public const byte TransactionType = 0x02;

    /// <summary>The EIP-2930 access list; empty by default (the field is always encoded).</summary>
    public IReadOnlyList<AccessListEntry> AccessList { get; init; } = [];

    /// <summary>The hash the sender signs: keccak256(0x02 || rlp(the nine fields)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A fee or the value is negative or above 2^256 − 1.</exception>
    public byte[] GetSigningHash() => Keccak256.Hash(EncodeUnsigned());

    /// <summary>0x02 || rlp(the nine fields): the bytes whose hash is signed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A fee or the value is negative or above 2^256 − 1.</exception>
    public byte[] EncodeUnsigned() => Encode(null);

    /// <summary>Signs the transaction (deterministic, low s).</summary>
    /// <param name="key">The sender's key.</param>
    /// <exception cref="ArgumentOutOfRangeException">A fee or the value is negative or above 2^256 − 1.</exception>
    public SignedTransaction Sign(Secp256k1PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signature = key.SignHash(GetSigningHash());
        return new SignedTransaction(this, signature, Encode(signature));
    }

    // 0x02 || rlp([fields…]) or, with a signature, rlp([fields…, yParity, r, s]).
    internal byte[] Encode(Secp256k1Signature? signature)
    {
        CheckUint256(MaxPriorityFeePerGas, nameof(MaxPriorityFeePerGas));
        CheckUint256(MaxFeePerGas, nameof(MaxFeePerGas));
        CheckUint256(Value, nameof(Value));
        var data = Data.Span;
        var accessListPayload = GetAccessListPayloadLength();
        var payload = RlpEncoder.GetIntegerLength(ChainId)
            + RlpEncoder.GetIntegerLength(Nonce)
            + RlpEncoder.GetIntegerLength(MaxPriorityFeePerGas)
            + RlpEncoder.GetIntegerLength(MaxFeePerGas)
            + RlpEncoder.GetIntegerLength(GasLimit)
            + (To is null ? 1 : 1 + EthereumAddress.Size)
            + RlpEncoder.GetIntegerLength(Value)
            + RlpEncoder.GetStringLength(data)
            + RlpEncoder.GetListLength(accessListPayload);
        if (signature is { } sig)
        {
            payload += RlpEncoder.GetIntegerLength((ulong)sig.YParity)
                + RlpEncoder.GetIntegerLength(sig.R)
                + RlpEncoder.GetIntegerLength(sig.S);
        }

        var encoded = new byte[1 + RlpEncoder.GetListLength(payload)];
        encoded[0] = TransactionType;
        var writer = new RlpWriter(encoded.AsSpan(1));
        writer.WriteListHeader(payload);
        writer.WriteInteger(ChainId);
        writer.WriteInteger(Nonce);
        writer.WriteInteger(MaxPriorityFeePerGas);
        writer.WriteInteger(MaxFeePerGas);
        writer.WriteInteger(GasLimit);
        writer.WriteString(To is { } to ? to.AsSpan() : []);
        writer.WriteInteger(Value);
        writer.WriteString(data);
        writer.WriteListHeader(accessListPayload);
        foreach (var entry in AccessList)
        {
            writer.WriteListHeader(GetEntryPayloadLength(entry));
            writer.WriteString(entry.Address.AsSpan());
            writer.WriteListHeader(GetKeysPayloadLength(entry));
            foreach (var storageKey in entry.StorageKeys)
            {
                writer.WriteString(storageKey.AsSpan());
            }
        }

        if (signature is { } s)
        {
            writer.WriteInteger((ulong)s.YParity);
            writer.WriteInteger(s.R);
            writer.WriteInteger(s.S);
        }

        return encoded;
    }

    private int GetAccessListPayloadLength()
    {
        var length = 0;
        foreach (var entry in AccessList)
        {
            length = checked(length + RlpEncoder.GetListLength(GetEntryPayloadLength(entry)));
        }

        return length;
    }

    private static int GetEntryPayloadLength(AccessListEntry entry) =>
        1 + EthereumAddress.Size + RlpEncoder.GetListLength(GetKeysPayloadLength(entry));

    private static int GetKeysPayloadLength(AccessListEntry entry) => checked(entry.StorageKeys.Count * (1 + Bytes32.Size));

    private static void CheckUint256(BigInteger value, string name)
    {
        if (value.Sign < 0 || value.GetBitLength() > 256)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be from 0 to 2^256 - 1.");
        }
    }
}
