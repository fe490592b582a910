using System.Buffers.Binary;
using FedAgg.Core.Identity;

namespace FedAgg.Core.Updates;

/// <summary>
/// A participant's authorisation of the Ethereum address its credits go to: its libp2p key signs
/// <c>"FEDAGG-BIND-V1" ‖ u64 chainId ‖ ledger ‖ address</c>, so nobody can bind someone else's peer ID to their address.
/// </summary>
public static class AddressBinding
{
    /// <summary>The 14 ASCII bytes the signed bytes start with.</summary>
    public static ReadOnlySpan<byte> Magic => "FEDAGG-BIND-V1"u8;

    /// <summary>The length of the signed bytes.</summary>
    public const int SignedLength = 14 + 8 + 20 + 20;

    /// <summary>The bytes a participant signs to bind <paramref name="address"/> on the given chain and ledger.</summary>
    /// <exception cref="ArgumentException">The ledger or the address is not 20 bytes.</exception>
    public static byte[] CreateSignedBytes(ulong chainId, ReadOnlySpan<byte> ledger, ReadOnlySpan<byte> address)
    {
        if (ledger.Length != 20 || address.Length != 20)
        {
            throw new ArgumentException("The ledger and the address are 20-byte Ethereum addresses.");
        }

        var bytes = new byte[SignedLength];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(14), chainId);
        ledger.CopyTo(bytes.AsSpan(22));
        address.CopyTo(bytes.AsSpan(42));
        return bytes;
    }

    /// <summary>Signs a binding of <paramref name="address"/> with the participant's identity key.</summary>
    public static byte[] Sign(Ed25519PrivateKey key, ulong chainId, ReadOnlySpan<byte> ledger, ReadOnlySpan<byte> address)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Sign(CreateSignedBytes(chainId, ledger, address));
    }

    /// <summary>Whether <paramref name="signature"/> binds <paramref name="address"/> to <paramref name="participant"/>.</summary>
    public static bool Verify(Ed25519PublicKey participant, ulong chainId, ReadOnlySpan<byte> ledger, ReadOnlySpan<byte> address, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(participant);
        return ledger.Length == 20 && address.Length == 20 && participant.Verify(CreateSignedBytes(chainId, ledger, address), signature);
    }
}
