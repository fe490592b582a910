using System.Security.Cryptography;
using System.Text;
using FedAgg.Chain.Crypto;
using FedAgg.Core.Identity;

namespace FedAgg.Chain;

/// <summary>
/// Ethereum account key files: the 32-byte secp256k1 key as <c>0x</c>-prefixed hex and a newline (the form
/// <c>cast wallet new</c> prints and <c>--private-key</c> accepts), created owner-only (0600) and never overwritten.
/// </summary>
public static class EthereumKeyFile
{
    private const int MaxFileLength = 256;

    /// <summary>Writes <paramref name="key"/> to a new file at <paramref name="path"/> (0600).</summary>
    /// <exception cref="KeyFileException">The file exists or cannot be written.</exception>
    public static void Write(string path, Secp256k1PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> raw = stackalloc byte[Secp256k1PrivateKey.Size];
        var text = new byte[2 + (2 * Secp256k1PrivateKey.Size) + 1];
        try
        {
            key.ExportTo(raw);
            text[0] = (byte)'0';
            text[1] = (byte)'x';
            Convert.TryToHexStringLower(raw, text.AsSpan(2, 2 * Secp256k1PrivateKey.Size), out _);
            text[^1] = (byte)'\n';
            KeyFile.WriteSecret(path, text, "an Ethereum key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
            CryptographicOperations.ZeroMemory(text);
        }
    }

    /// <summary>Loads the key in <paramref name="path"/>; <paramref name="warning"/> is set when others can read the file.</summary>
    /// <exception cref="KeyFileException">The file is missing, unreadable or does not hold a valid secp256k1 key.</exception>
    public static Secp256k1PrivateKey Load(string path, out string? warning)
    {
        var content = KeyFile.ReadSecret(path, MaxFileLength, $"Create one with: fedagg chain keygen --out {path}", out warning);
        try
        {
            var text = Encoding.ASCII.GetString(content).Trim();
            try
            {
                return Secp256k1PrivateKey.FromHex(text);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                // The parser's message (and so the inner exception) may quote the input: never chain key material.
                throw new KeyFileException($"{path} does not hold a secp256k1 private key as 64 hex digits (0 < key < n).");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }
}
