using FedAgg.Chain.Crypto;
using FedAgg.Chain.Rlp;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Transactions;

/// <summary>
/// A signed EIP-1559 transaction: <see cref="RawTransaction"/> = 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
/// maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s]), what <c>eth_sendRawTransaction</c> takes;
/// <see cref="Hash"/> = keccak256 of it, the transaction hash.
/// </summary>
public sealed class SignedTransaction
{
    /// <summary>The largest raw transaction <see cref="Decode"/> accepts: 1 MiB (nodes cap transactions at 128 KiB).</summary>
    public const int MaxRawLength = 1024 * 1024;

    private readonly byte[] _raw;

    internal SignedTransaction(Eip1559Transaction transaction, Secp256k1Signature signature, byte[] raw)
    {
        Transaction = transaction;
        Signature = signature;
        _raw = raw;
        Hash = Keccak256.HashToBytes32(raw);
    }

    /// <summary>The transaction fields.</summary>
    public Eip1559Transaction Transaction { get; }

    /// <summary>The sender's signature over <see cref="Eip1559Transaction.GetSigningHash"/>.</summary>
    public Secp256k1Signature Signature { get; }

    /// <summary>The signed encoding (a new copy each time).</summary>
    public byte[] RawTransaction => (byte[])_raw.Clone();

    /// <summary>The signed encoding, without copying.</summary>
    public ReadOnlySpan<byte> RawTransactionSpan => _raw;

    /// <summary>The transaction hash: keccak256(<see cref="RawTransaction"/>).</summary>
    public Bytes32 Hash { get; }

    /// <summary>0x and the hex of <see cref="RawTransaction"/> (the <c>eth_sendRawTransaction</c> parameter).</summary>
    public string ToHex() => string.Concat("0x", Convert.ToHexStringLower(_raw));

    /// <summary>The sender, recovered from the signature.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The signature does not recover a key.</exception>
    public EthereumAddress RecoverSender() => Secp256k1.RecoverAddress(Transaction.GetSigningHash(), Signature);

    /// <summary>
    /// Decodes a signed EIP-1559 transaction strictly: the type byte must be 0x02, the RLP canonical with nothing
    /// after it, exactly twelve fields, integers minimal and in range (chain id, nonce and gas limit 64-bit; fees and
    /// value 256-bit), <c>to</c> empty or 20 bytes, yParity 0 or 1, r and s from 1 to n − 1 and s at most n / 2 (EIP-2).
    /// </summary>
    /// <param name="raw">The raw transaction.</param>
    /// <exception cref="RlpException">The RLP is malformed or a field is out of range (the message names the offset).</exception>
    /// <exception cref="FormatException">The input is empty, too long or not a type-2 transaction.</exception>
    public static SignedTransaction Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            throw new FormatException("A raw transaction cannot be empty.");
        }

        if (raw.Length > MaxRawLength)
        {
            throw new FormatException($"A raw transaction of {raw.Length} bytes exceeds the {MaxRawLength}-byte limit.");
        }

        var type = raw[0];
        if (type != Eip1559Transaction.TransactionType)
        {
            throw new FormatException(type switch
            {
                >= 0xC0 => "This is a legacy (untyped) transaction; only EIP-1559 (type 0x02) transactions are supported.",
                <= 0x7F => $"This is a type 0x{type:x2} transaction; only EIP-1559 (type 0x02) transactions are supported.",
                _ => $"0x{type:x2} is not a transaction type byte; only EIP-1559 (type 0x02) transactions are supported.",
            });
        }

        // Offsets in errors count from the type byte.
        var outer = new RlpReader(raw[1..], baseOffset: 1, maxDepth: 4);
        var fields = outer.ReadList();
        outer.EnsureAtEnd();

        var chainId = fields.ReadUInt64();
        var nonce = fields.ReadUInt64();
        var tip = fields.ReadBigInteger();
        var maxFee = fields.ReadBigInteger();
        var gasLimit = fields.ReadUInt64();
        var toOffset = fields.Offset;
        var toBytes = fields.ReadString();
        EthereumAddress? to = toBytes.Length switch
        {
            0 => null,
            EthereumAddress.Size => EthereumAddress.FromBytes(toBytes),
            _ => throw new RlpException(toOffset, $"'to' must be empty or {EthereumAddress.Size} bytes, got {toBytes.Length}"),
        };
        var value = fields.ReadBigInteger();
        var data = fields.ReadString().ToArray();
        var accessList = ReadAccessList(ref fields);
        var parityOffset = fields.Offset;
        var yParity = fields.ReadUInt64();
        if (yParity > 1)
        {
            throw new RlpException(parityOffset, $"yParity must be 0 or 1, got {yParity}");
        }

        var signatureOffset = fields.Offset;
        var r = fields.ReadBigInteger();
        var s = fields.ReadBigInteger();
        if (!fields.IsAtEnd)
        {
            throw new RlpException(fields.Offset, "more than the twelve fields of a signed EIP-1559 transaction");
        }

        var signature = new Secp256k1Signature(r, s, (byte)yParity);
        if (signature.Validate() is { } problem)
        {
            throw new RlpException(signatureOffset, problem);
        }

        if (!signature.IsLowS)
        {
            throw new RlpException(signatureOffset, "signature s is above n / 2 (EIP-2 requires low s)");
        }

        var transaction = new Eip1559Transaction(chainId, nonce, tip, maxFee, gasLimit, to, value, data) { AccessList = accessList };
        return new SignedTransaction(transaction, signature, raw.ToArray());
    }

    private static List<AccessListEntry> ReadAccessList(ref RlpReader fields)
    {
        var list = fields.ReadList();
        var entries = new List<AccessListEntry>();
        while (!list.IsAtEnd)
        {
            var entry = list.ReadList();
            var addressOffset = entry.Offset;
            var address = entry.ReadString();
            if (address.Length != EthereumAddress.Size)
            {
                throw new RlpException(addressOffset, $"access-list address must be {EthereumAddress.Size} bytes, got {address.Length}");
            }

            var keys = entry.ReadList();
            var storageKeys = new List<Bytes32>();
            while (!keys.IsAtEnd)
            {
                var keyOffset = keys.Offset;
                var key = keys.ReadString();
                if (key.Length != Bytes32.Size)
                {
                    throw new RlpException(keyOffset, $"access-list storage key must be {Bytes32.Size} bytes, got {key.Length}");
                }

                storageKeys.Add(new Bytes32(key));
            }

            entry.EnsureAtEnd();
            entries.Add(new AccessListEntry(EthereumAddress.FromBytes(address), storageKeys));
        }

        return entries;
    }
}
