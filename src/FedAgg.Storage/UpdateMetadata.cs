namespace FedAgg.Storage;

/// <summary>
/// What the store keeps about an update besides its payload. The store does not parse or verify any of it (the ingest
/// layer does); it checks lengths, the payload hash, and uniqueness.
/// </summary>
/// <param name="UpdateId">SHA-256 of the preimage: exactly <see cref="UpdateLimits.HashBytes"/> bytes.</param>
/// <param name="PayloadSha256">SHA-256 of the payload bytes as received: exactly <see cref="UpdateLimits.HashBytes"/> bytes.</param>
/// <param name="SignerPublicKey">The signer's libp2p PublicKey protobuf: 1 to <see cref="UpdateLimits.MaxSignerPublicKeyBytes"/> bytes.</param>
/// <param name="Preimage">The signed preimage: 1 to <see cref="UpdateLimits.MaxPreimageBytes"/> bytes.</param>
/// <param name="Signature">The signature over the preimage: exactly <see cref="UpdateLimits.SignatureBytes"/> bytes.</param>
public sealed record UpdateMetadata(
    ReadOnlyMemory<byte> UpdateId,
    ReadOnlyMemory<byte> PayloadSha256,
    ReadOnlyMemory<byte> SignerPublicKey,
    ReadOnlyMemory<byte> Preimage,
    ReadOnlyMemory<byte> Signature)
{
    /// <summary>When the update arrived (Unix milliseconds); null (the default) lets the store take its clock's time at commit.</summary>
    public long? ReceivedUnixMs { get; init; }
}

/// <summary>The bounds the update store enforces on identifiers and metadata.</summary>
public static class UpdateLimits
{
    /// <summary>The longest task id, in UTF-8 bytes (the shortest is 1).</summary>
    public const int MaxTaskIdBytes = 128;

    /// <summary>The length of an update id and of a payload hash (SHA-256).</summary>
    public const int HashBytes = 32;

    /// <summary>The length of a signature (Ed25519).</summary>
    public const int SignatureBytes = 64;

    /// <summary>The longest signer public key (libp2p PublicKey protobuf), in bytes.</summary>
    public const int MaxSignerPublicKeyBytes = 128;

    /// <summary>The longest preimage, in bytes.</summary>
    public const int MaxPreimageBytes = 1024;
}
