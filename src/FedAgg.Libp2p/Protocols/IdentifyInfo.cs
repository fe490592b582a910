using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Protocols;

/// <summary>What a peer said about itself over identify (<c>/ipfs/id/1.0.0</c>).</summary>
public sealed class IdentifyInfo
{
    internal IdentifyInfo(
        string? protocolVersion,
        string? agentVersion,
        Ed25519PublicKey? publicKey,
        IReadOnlyList<Multiaddress> listenAddresses,
        int unsupportedListenAddressCount,
        IReadOnlyList<string> protocols,
        Multiaddress? observedAddress,
        bool hasSignedPeerRecord)
    {
        ProtocolVersion = protocolVersion;
        AgentVersion = agentVersion;
        PublicKey = publicKey;
        ListenAddresses = listenAddresses;
        UnsupportedListenAddressCount = unsupportedListenAddressCount;
        Protocols = protocols;
        ObservedAddress = observedAddress;
        HasSignedPeerRecord = hasSignedPeerRecord;
    }

    /// <summary>The protocol version, e.g. <c>ipfs/0.1.0</c>; <c>null</c> when not sent.</summary>
    public string? ProtocolVersion { get; }

    /// <summary>The agent, e.g. <c>fedagg/1.0.0</c> or <c>js-libp2p/3.3.11 …</c>; <c>null</c> when not sent.</summary>
    public string? AgentVersion { get; }

    /// <summary>The peer's identity key, when it sent one (always the connection's authenticated key).</summary>
    public Ed25519PublicKey? PublicKey { get; }

    /// <summary>The listen addresses FedAgg can represent (IP/DNS + TCP); others (QUIC, WebSockets…) are counted in <see cref="UnsupportedListenAddressCount"/>.</summary>
    public IReadOnlyList<Multiaddress> ListenAddresses { get; }

    /// <summary>How many listen addresses used protocols this stack does not parse.</summary>
    public int UnsupportedListenAddressCount { get; }

    /// <summary>The protocols the peer serves.</summary>
    public IReadOnlyList<string> Protocols { get; }

    /// <summary>Our address as the peer sees it, when it sent a parseable one.</summary>
    public Multiaddress? ObservedAddress { get; }

    /// <summary>Whether the peer sent a signed peer record (not verified by this stack).</summary>
    public bool HasSignedPeerRecord { get; }

    /// <summary>The agent and protocol count.</summary>
    public override string ToString() => $"{AgentVersion ?? "(no agent)"} with {Protocols.Count} protocols";
}
