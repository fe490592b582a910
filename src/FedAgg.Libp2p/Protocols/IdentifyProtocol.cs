using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Protocols;

/// <summary>
/// libp2p identify (<c>/ipfs/id/1.0.0</c>): the listener writes one length-prefixed <see cref="IdentifyMessage"/> and closes;
/// the dialler reads up to <see cref="IdentifyMessage.MaxMessages"/> of them (8 KiB each) and merges them.
/// </summary>
internal static class IdentifyProtocol
{
    public const string ProtocolId = "/ipfs/id/1.0.0";

    /// <summary>The protocol version identify reports (the value every libp2p implementation sends).</summary>
    public const string ProtocolVersion = "ipfs/0.1.0";

    /// <summary>Answers an identify request and half-closes the stream.</summary>
    public static async Task ServeAsync(
        Libp2pStream stream,
        Ed25519PublicKey localKey,
        string agentVersion,
        IEnumerable<Multiaddress> listenAddresses,
        Multiaddress? observedAddress,
        IEnumerable<string> protocols,
        CancellationToken cancellationToken)
    {
        var message = new IdentifyMessage
        {
            ProtocolVersion = ProtocolVersion,
            AgentVersion = agentVersion,
            PublicKey = localKey.ToProtobuf(),
            ObservedAddress = observedAddress?.ToBytes(),
        };
        foreach (var address in listenAddresses)
        {
            message.ListenAddresses.Add(address.WithoutPeerId().ToBytes());
        }

        message.Protocols.AddRange(protocols);
        await stream.WriteMessageAsync(message.Encode(), cancellationToken).ConfigureAwait(false);
        await stream.CompleteWritesAsync().ConfigureAwait(false);
    }

    /// <summary>Reads the peer's identify answer from a stream we opened.</summary>
    /// <exception cref="Libp2pException">No message, a malformed one, or a public key that is not the connection's peer.</exception>
    public static async Task<IdentifyInfo> RequestAsync(Libp2pStream stream, PeerId expectedPeer, CancellationToken cancellationToken)
    {
        stream.MaxMessageBytes = IdentifyMessage.MaxMessageBytes;
        await stream.CompleteWritesAsync().ConfigureAwait(false);
        IdentifyMessage? merged = null;
        for (var i = 0; i < IdentifyMessage.MaxMessages; i++)
        {
            var bytes = await stream.ReadMessageAsync(cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                break;
            }

            if (!IdentifyMessage.TryDecode(bytes.Value.Span, out var message, out var error))
            {
                throw new Libp2pException($"The identify answer of {expectedPeer} is malformed: {error}.");
            }

            if (merged is null)
            {
                merged = message;
            }
            else
            {
                merged.Merge(message);
            }
        }

        if (merged is null)
        {
            throw new Libp2pException($"{expectedPeer} closed the identify stream without answering.");
        }

        return ToInfo(merged, expectedPeer);
    }

    internal static IdentifyInfo ToInfo(IdentifyMessage message, PeerId expectedPeer)
    {
        Ed25519PublicKey? key = null;
        if (message.PublicKey is not null)
        {
            if (!Ed25519PublicKey.TryFromProtobuf(message.PublicKey, out key, out _) || !key.PeerId.Equals(expectedPeer))
            {
                throw new Libp2pException($"The identify answer of {expectedPeer} carries a public key of another peer.");
            }
        }

        var addresses = new List<Multiaddress>();
        var unsupported = 0;
        foreach (var raw in message.ListenAddresses)
        {
            if (Multiaddress.TryFromBytes(raw, out var address, out _))
            {
                addresses.Add(address);
            }
            else
            {
                unsupported++;
            }
        }

        Multiaddress? observed = null;
        if (message.ObservedAddress is not null)
        {
            _ = Multiaddress.TryFromBytes(message.ObservedAddress, out observed, out _);
        }

        return new IdentifyInfo(
            message.ProtocolVersion,
            message.AgentVersion,
            key,
            addresses,
            unsupported,
            message.Protocols.ToArray(),
            observed,
            message.SignedPeerRecord is not null);
    }
}
