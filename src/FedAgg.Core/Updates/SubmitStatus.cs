namespace FedAgg.Core.Updates;

/// <summary>The <c>SubmitReceipt.status</c> codes of <c>/fedagg/submit/1.0.0</c> (docs/PROTOCOL.md).</summary>
public enum SubmitStatus : uint
{
    /// <summary>Durably stored; it will be in the round's updates tree unless the manifest says why not.</summary>
    Accepted = 0,

    /// <summary>The same updateId again: the original receipt is returned, so retries are safe.</summary>
    Duplicate = 1,

    /// <summary>The Ed25519 signature over the preimage does not verify.</summary>
    BadSignature = 2,

    /// <summary>The round named in the preimage is not open.</summary>
    RoundNotOpen = 3,

    /// <summary>The peer is not admitted to the task (or is banned).</summary>
    NotAdmitted = 4,

    /// <summary>The request or the preimage cannot be decoded.</summary>
    Malformed = 5,

    /// <summary>The update was computed from another model than the open round's base model.</summary>
    StaleBaseModel = 6,

    /// <summary>The preimage's <c>expiresUnixMs</c> has passed.</summary>
    Expired = 7,

    /// <summary>The header or payload exceeds the server's limits.</summary>
    TooLarge = 8,

    /// <summary>The payload's SHA-256 differs from the signed <c>payloadSha256</c>, or the payload ended early.</summary>
    PayloadHashMismatch = 9,

    /// <summary>The peer submits too often; try later.</summary>
    RateLimited = 10,

    /// <summary>The server cannot take the update now (storage, shutdown); try later.</summary>
    Unavailable = 11,

    /// <summary>The same payload bytes as another participant's update in this task.</summary>
    CopiedPayload = 12,

    /// <summary>The task named in the preimage does not exist.</summary>
    UnknownTask = 13,

    /// <summary>The peer already has a different update in this round; the first one stands.</summary>
    AlreadySubmitted = 14,

    /// <summary>Protocol 1.1: the signing key is not the key of the connection's authenticated peer.</summary>
    PeerMismatch = 15,

    /// <summary>Protocol 1.1: the preimage names another chain ID or ledger address than the server's.</summary>
    WrongChain = 16,

    /// <summary>Protocol 1.1: the codec or element count is not the task model's.</summary>
    ShapeMismatch = 17,
}
