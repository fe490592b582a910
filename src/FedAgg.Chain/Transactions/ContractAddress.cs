using FedAgg.Chain.Rlp;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Transactions;

/// <summary>The addresses of contracts created by <c>CREATE</c> (and creation transactions) and <c>CREATE2</c>.</summary>
public static class ContractAddress
{
    /// <summary>The address of the contract <paramref name="sender"/> creates with nonce <paramref name="nonce"/>: keccak256(rlp([sender, nonce]))[12..].</summary>
    /// <param name="sender">The creating account (for a creation transaction, its sender).</param>
    /// <param name="nonce">The sender's nonce at creation (for a transaction, the transaction's nonce).</param>
    public static EthereumAddress ForCreate(EthereumAddress sender, ulong nonce)
    {
        var payload = 1 + EthereumAddress.Size + RlpEncoder.GetIntegerLength(nonce);
        Span<byte> encoded = stackalloc byte[RlpEncoder.GetListLength(payload)];
        var writer = new RlpWriter(encoded);
        writer.WriteListHeader(payload);
        writer.WriteString(sender.AsSpan());
        writer.WriteInteger(nonce);
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(encoded, hash);
        return EthereumAddress.FromBytes(hash[12..]);
    }

    /// <summary>The <c>CREATE2</c> address: keccak256(0xff || deployer || salt || keccak256(initCode))[12..].</summary>
    /// <param name="deployer">The creating contract.</param>
    /// <param name="salt">The salt.</param>
    /// <param name="initCodeHash">keccak256 of the init code.</param>
    public static EthereumAddress ForCreate2(EthereumAddress deployer, Bytes32 salt, Bytes32 initCodeHash)
    {
        Span<byte> buffer = stackalloc byte[1 + EthereumAddress.Size + (2 * Bytes32.Size)];
        buffer[0] = 0xFF;
        deployer.CopyTo(buffer[1..]);
        salt.CopyTo(buffer[(1 + EthereumAddress.Size)..]);
        initCodeHash.CopyTo(buffer[(1 + EthereumAddress.Size + Bytes32.Size)..]);
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(buffer, hash);
        return EthereumAddress.FromBytes(hash[12..]);
    }
}
