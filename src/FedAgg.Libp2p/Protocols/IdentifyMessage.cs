using System.Diagnostics.CodeAnalysis;
using System.Text;
using FedAgg.Core.Codecs;

namespace FedAgg.Libp2p.Protocols;

/// <summary>
/// The identify protobuf: <c>publicKey = 1, listenAddrs = 2 (repeated), protocols = 3 (repeated), observedAddr = 4,
/// protocolVersion = 5, agentVersion = 6, signedPeerRecord = 8</c>. Every field is optional.
/// </summary>
internal sealed class IdentifyMessage
{
    /// <summary>The largest identify message accepted or sent (js-libp2p and go-libp2p use 8 KiB).</summary>
    public const int MaxMessageBytes = 8 * 1024;

    /// <summary>The most identify messages read from one stream (js-libp2p and go-libp2p read up to 10 and merge them).</summary>
    public const int MaxMessages = 10;

    public string? ProtocolVersion { get; set; }

    public string? AgentVersion { get; set; }

    public byte[]? PublicKey { get; set; }

    public List<byte[]> ListenAddresses { get; } = [];

    public byte[]? ObservedAddress { get; set; }

    public List<string> Protocols { get; } = [];

    public byte[]? SignedPeerRecord { get; set; }

    public byte[] Encode()
    {
        var protocolVersion = Utf8(ProtocolVersion);
        var agentVersion = Utf8(AgentVersion);
        var protocols = Protocols.Select(Encoding.UTF8.GetBytes).ToArray();
        var size = ProtoWriter.SizeBytes(1, PublicKey?.Length ?? 0)
            + ListenAddresses.Sum(a => ProtoWriter.SizeBytes(2, a.Length))
            + protocols.Sum(p => ProtoWriter.SizeBytes(3, p.Length))
            + ProtoWriter.SizeBytes(4, ObservedAddress?.Length ?? 0)
            + ProtoWriter.SizeBytes(5, protocolVersion.Length)
            + ProtoWriter.SizeBytes(6, agentVersion.Length)
            + ProtoWriter.SizeBytes(8, SignedPeerRecord?.Length ?? 0);
        var bytes = new byte[size];
        var writer = new ProtoWriter(bytes);
        writer.WriteBytes(1, PublicKey);
        foreach (var address in ListenAddresses)
        {
            writer.WriteBytes(2, address);
        }

        foreach (var protocol in protocols)
        {
            writer.WriteBytes(3, protocol);
        }

        writer.WriteBytes(4, ObservedAddress);
        writer.WriteBytes(5, protocolVersion);
        writer.WriteBytes(6, agentVersion);
        writer.WriteBytes(8, SignedPeerRecord);
        return bytes;
    }

    /// <summary>Decodes one message; unknown fields are skipped.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out IdentifyMessage? message, [NotNullWhen(false)] out string? error)
    {
        message = null;
        if (bytes.Length > MaxMessageBytes)
        {
            error = $"longer than {MaxMessageBytes} bytes";
            return false;
        }

        var result = new IdentifyMessage();
        var reader = new ProtoReader(bytes);
        var strict = new UTF8Encoding(false, true);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                error = "malformed protobuf tag";
                return false;
            }

            if (field is 1 or 2 or 3 or 4 or 5 or 6 or 8 && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadBytes(MaxMessageBytes, out var value))
                {
                    error = $"malformed field {field}";
                    return false;
                }

                try
                {
                    switch (field)
                    {
                        case 1:
                            result.PublicKey = value.ToArray();
                            break;
                        case 2:
                            result.ListenAddresses.Add(value.ToArray());
                            break;
                        case 3:
                            result.Protocols.Add(strict.GetString(value));
                            break;
                        case 4:
                            result.ObservedAddress = value.ToArray();
                            break;
                        case 5:
                            result.ProtocolVersion = strict.GetString(value);
                            break;
                        case 6:
                            result.AgentVersion = strict.GetString(value);
                            break;
                        default:
                            result.SignedPeerRecord = value.ToArray();
                            break;
                    }
                }
                catch (DecoderFallbackException)
                {
                    error = $"field {field} is not UTF-8";
                    return false;
                }
            }
            else if (!reader.TrySkip(wireType))
            {
                error = $"malformed field {field}";
                return false;
            }
        }

        message = result;
        error = null;
        return true;
    }

    /// <summary>Merges later messages into this one as js-libp2p does: later scalars win, lists accumulate.</summary>
    public void Merge(IdentifyMessage later)
    {
        ProtocolVersion = later.ProtocolVersion ?? ProtocolVersion;
        AgentVersion = later.AgentVersion ?? AgentVersion;
        PublicKey = later.PublicKey ?? PublicKey;
        ObservedAddress = later.ObservedAddress ?? ObservedAddress;
        SignedPeerRecord = later.SignedPeerRecord ?? SignedPeerRecord;
        ListenAddresses.AddRange(later.ListenAddresses);
        foreach (var protocol in later.Protocols)
        {
            if (!Protocols.Contains(protocol))
            {
                Protocols.Add(protocol);
            }
        }
    }

    private static byte[] Utf8(string? text) => text is null ? [] : Encoding.UTF8.GetBytes(text);
}
