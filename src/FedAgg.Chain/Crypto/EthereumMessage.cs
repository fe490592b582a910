using System.Globalization;
using System.Text;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Crypto;

/// <summary>EIP-191 version 0x45 ("personal_sign") messages: what wallets, <c>eth_sign</c> and <c>cast wallet sign</c> sign.</summary>
public static class EthereumMessage
{
    private static readonly byte[] Prefix = "\u0019Ethereum Signed Message:\n"u8.ToArray();

    /// <summary>keccak256("\x19Ethereum Signed Message:\n" + decimal length + message).</summary>
    /// <param name="message">The message bytes.</param>
    public static byte[] PersonalMessageHash(ReadOnlySpan<byte> message)
    {
        var length = message.Length.ToString(CultureInfo.InvariantCulture);
        var buffer = new byte[Prefix.Length + length.Length + message.Length];
        Prefix.CopyTo(buffer, 0);
        Encoding.ASCII.GetBytes(length, buffer.AsSpan(Prefix.Length));
        message.CopyTo(buffer.AsSpan(Prefix.Length + length.Length));
        return Keccak256.Hash(buffer);
    }

    /// <summary>Signs <paramref name="message"/> as <c>personal_sign</c> does (the signature's <see cref="Secp256k1Signature.ToBytes65"/> is the wallet's output).</summary>
    /// <param name="key">The signer.</param>
    /// <param name="message">The message bytes.</param>
    public static Secp256k1Signature Sign(Secp256k1PrivateKey key, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.SignHash(PersonalMessageHash(message));
    }

    /// <summary>The address that signed <paramref name="message"/> with <paramref name="signature"/> (<c>personal_ecRecover</c>).</summary>
    /// <param name="message">The message bytes.</param>
    /// <param name="signature">The signature.</param>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The signature is invalid.</exception>
    public static EthereumAddress RecoverSigner(ReadOnlySpan<byte> message, Secp256k1Signature signature) =>
        Secp256k1.RecoverAddress(PersonalMessageHash(message), signature);
}
