namespace FedAgg.Core.Identity;

/// <summary>The libp2p <c>KeyType</c> enum of the <c>PublicKey</c>/<c>PrivateKey</c> protobufs.</summary>
public enum KeyType
{
    /// <summary>RSA (not supported for FedAgg identities).</summary>
    Rsa = 0,

    /// <summary>Ed25519, the only key type FedAgg signs and verifies with.</summary>
    Ed25519 = 1,

    /// <summary>secp256k1 (not supported for FedAgg identities).</summary>
    Secp256k1 = 2,

    /// <summary>ECDSA (not supported for FedAgg identities).</summary>
    Ecdsa = 3,
}
