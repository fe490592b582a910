using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;

namespace FedAgg.Libp2p;

/// <summary>
/// A multiaddr (multiformats self-describing address) limited to what FedAgg dials and listens on:
/// <c>/ip4</c> (code 4), <c>/ip6</c> (41), <c>/dns</c> (53), <c>/dns4</c> (54), <c>/dns6</c> (55), <c>/tcp</c> (6) and
/// <c>/p2p</c> (421, also read as <c>/ipfs</c>). Text and binary forms are parsed strictly (canonical addresses, ports
/// 0–65535, valid peer IDs, no trailing bytes) and are immutable; two addresses are equal when their binary forms are.
/// </summary>
public sealed class Multiaddress : IEquatable<Multiaddress>
{
    /// <summary>The longest text or binary form accepted.</summary>
    public const int MaxLength = 1024;

    private const int MaxDnsNameLength = 253;

    private readonly MultiaddressComponent[] _components;
    private byte[]? _bytes;
    private string? _text;

    private Multiaddress(MultiaddressComponent[] components) => _components = components;

    /// <summary>The components in order.</summary>
    public IReadOnlyList<MultiaddressComponent> Components => _components;

    /// <summary>The peer ID of a final <c>/p2p/…</c> component, or <c>null</c>.</summary>
    public PeerId? PeerId => _components.Length > 0 && _components[^1].Protocol == MultiaddressProtocol.P2p
        ? Core.Identity.PeerId.TryFromMultihash(_components[^1].RawValue.Span, out var peerId) ? peerId : null
        : null;

    /// <summary>Parses the text form, e.g. <c>/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…</c>.</summary>
    /// <exception cref="FormatException">The text is not a supported multiaddr; the message says why.</exception>
    public static Multiaddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address : throw new FormatException($"Invalid multiaddr '{Shorten(text)}': {error}.");

    /// <summary>Parses the text form; never throws.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Multiaddress? address) =>
        TryParse(text, out address, out _);

    /// <summary>Parses the text form; never throws. <paramref name="error"/> says why it failed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Multiaddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"longer than {MaxLength} characters";
            return false;
        }

        if (text[0] != '/')
        {
            error = "must start with '/'";
            return false;
        }

        var parts = text.Split('/');
        // A single trailing '/' is tolerated as js-multiaddr does; empty parts elsewhere are not.
        var count = parts.Length;
        if (count > 1 && parts[^1].Length == 0)
        {
            count--;
        }

        var components = new List<MultiaddressComponent>();
        var i = 1;
        while (i < count)
        {
            var name = parts[i];
            if (!TryGetProtocol(name, out var protocol))
            {
                error = name.Length == 0 ? "empty component" : $"unsupported protocol '{Shorten(name)}'";
                return false;
            }

            if (i + 1 >= count)
            {
                error = $"'/{name}' needs a value";
                return false;
            }

            var value = parts[i + 1];
            if (!TryParseValue(protocol, value, out var raw, out error))
            {
                return false;
            }

            components.Add(new MultiaddressComponent(protocol, raw));
            i += 2;
        }

        if (components.Count == 0)
        {
            error = "no components";
            return false;
        }

        return TryCreate(components.ToArray(), out address, out error);
    }

    /// <summary>Decodes the binary form (varint protocol code, then the value) with no trailing bytes.</summary>
    /// <exception cref="FormatException">The bytes are not a supported multiaddr.</exception>
    public static Multiaddress FromBytes(ReadOnlySpan<byte> bytes) =>
        TryFromBytes(bytes, out var address, out var error) ? address : throw new FormatException($"Invalid binary multiaddr: {error}.");

    /// <summary>Decodes the binary form; never throws.</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out Multiaddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (bytes.IsEmpty || bytes.Length > MaxLength)
        {
            error = bytes.IsEmpty ? "empty" : $"longer than {MaxLength} bytes";
            return false;
        }

        var components = new List<MultiaddressComponent>();
        var rest = bytes;
        while (!rest.IsEmpty)
        {
            if (UnsignedVarint.TryRead(rest, out var code, out var codeLength) != VarintStatus.Done)
            {
                error = "bad protocol code varint";
                return false;
            }

            rest = rest[codeLength..];
            if (code > int.MaxValue || !Enum.IsDefined((MultiaddressProtocol)(int)code))
            {
                error = $"unsupported protocol code {code}";
                return false;
            }

            var protocol = (MultiaddressProtocol)(int)code;
            var fixedLength = FixedLength(protocol);
            int length;
            if (fixedLength >= 0)
            {
                length = fixedLength;
            }
            else
            {
                if (UnsignedVarint.TryRead(rest, out var declared, out var lengthLength) != VarintStatus.Done || declared > MaxLength)
                {
                    error = $"bad length for /{Name(protocol)}";
                    return false;
                }

                rest = rest[lengthLength..];
                length = (int)declared;
            }

            if (rest.Length < length)
            {
                error = $"truncated /{Name(protocol)} value";
                return false;
            }

            var value = rest[..length].ToArray();
            rest = rest[length..];
            if (!ValidateRaw(protocol, value, out error))
            {
                return false;
            }

            components.Add(new MultiaddressComponent(protocol, value));
        }

        return TryCreate(components.ToArray(), out address, out error);
    }

    /// <summary>The address of a TCP endpoint: <c>/ip4/…/tcp/…</c> or <c>/ip6/…/tcp/…</c>.</summary>
    public static Multiaddress FromTcpEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var ip = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var ipComponent = ip.AddressFamily == AddressFamily.InterNetwork
            ? new MultiaddressComponent(MultiaddressProtocol.Ip4, ip.GetAddressBytes())
            : new MultiaddressComponent(MultiaddressProtocol.Ip6, ip.GetAddressBytes());
        var port = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)endPoint.Port);
        return new Multiaddress([ipComponent, new MultiaddressComponent(MultiaddressProtocol.Tcp, port)]);
    }

    /// <summary>This address with <c>/p2p/<paramref name="peerId"/></c> appended (replacing an existing final one).</summary>
    public Multiaddress WithPeerId(PeerId peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        var baseComponents = WithoutPeerId()._components;
        var components = new MultiaddressComponent[baseComponents.Length + 1];
        baseComponents.CopyTo(components, 0);
        components[^1] = new MultiaddressComponent(MultiaddressProtocol.P2p, peerId.Multihash.ToArray());
        return new Multiaddress(components);
    }

    /// <summary>This address without a final <c>/p2p/…</c> component.</summary>
    public Multiaddress WithoutPeerId() =>
        _components.Length > 1 && _components[^1].Protocol == MultiaddressProtocol.P2p ? new Multiaddress(_components[..^1]) : this;

    /// <summary>
    /// The host (IP address text or DNS name), its protocol and the TCP port, when this is a TCP address
    /// (<c>/ip4|ip6|dns|dns4|dns6/…/tcp/…</c>, optionally followed by <c>/p2p/…</c>).
    /// </summary>
    public bool TryGetTcpTarget([NotNullWhen(true)] out string? host, out MultiaddressProtocol hostProtocol, out int port)
    {
        host = null;
        hostProtocol = default;
        port = 0;
        var count = _components.Length - (_components[^1].Protocol == MultiaddressProtocol.P2p ? 1 : 0);
        if (count != 2 || _components[1].Protocol != MultiaddressProtocol.Tcp)
        {
            return false;
        }

        hostProtocol = _components[0].Protocol;
        if (hostProtocol is not (MultiaddressProtocol.Ip4 or MultiaddressProtocol.Ip6 or MultiaddressProtocol.Dns or MultiaddressProtocol.Dns4 or MultiaddressProtocol.Dns6))
        {
            return false;
        }

        host = _components[0].Value;
        port = BinaryPrimitives.ReadUInt16BigEndian(_components[1].RawValue.Span);
        return true;
    }

    /// <summary>The IP endpoint of an <c>/ip4|ip6/…/tcp/…</c> address (DNS names are not resolved here).</summary>
    public bool TryGetIPEndPoint([NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (!TryGetTcpTarget(out _, out var protocol, out var port) || protocol is not (MultiaddressProtocol.Ip4 or MultiaddressProtocol.Ip6))
        {
            return false;
        }

        endPoint = new IPEndPoint(new IPAddress(_components[0].RawValue.Span), port);
        return true;
    }

    /// <summary>The binary form.</summary>
    public byte[] ToBytes() => (byte[])GetBytes().Clone();

    /// <summary>The canonical text form.</summary>
    public override string ToString() => _text ??= BuildText();

    /// <inheritdoc />
    public bool Equals(Multiaddress? other) => other is not null && GetBytes().AsSpan().SequenceEqual(other.GetBytes());

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Multiaddress);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(GetBytes());
        return hash.ToHashCode();
    }

    internal static string Name(MultiaddressProtocol protocol) => protocol switch
    {
        MultiaddressProtocol.Ip4 => "ip4",
        MultiaddressProtocol.Tcp => "tcp",
        MultiaddressProtocol.Ip6 => "ip6",
        MultiaddressProtocol.Dns => "dns",
        MultiaddressProtocol.Dns4 => "dns4",
        MultiaddressProtocol.Dns6 => "dns6",
        MultiaddressProtocol.P2p => "p2p",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };

    internal static string FormatValue(MultiaddressProtocol protocol, ReadOnlySpan<byte> raw) => protocol switch
    {
        MultiaddressProtocol.Ip4 or MultiaddressProtocol.Ip6 => new IPAddress(raw).ToString(),
        MultiaddressProtocol.Tcp => BinaryPrimitives.ReadUInt16BigEndian(raw).ToString(CultureInfo.InvariantCulture),
        MultiaddressProtocol.Dns or MultiaddressProtocol.Dns4 or MultiaddressProtocol.Dns6 => Encoding.UTF8.GetString(raw),
        MultiaddressProtocol.P2p => Base58.Encode(raw),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };

    private static bool TryCreate(MultiaddressComponent[] components, [NotNullWhen(true)] out Multiaddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        for (var i = 0; i < components.Length; i++)
        {
            if (components[i].Protocol == MultiaddressProtocol.P2p && i != components.Length - 1)
            {
                error = "/p2p must be the last component";
                return false;
            }
        }

        address = new Multiaddress(components);
        if (address.GetBytes().Length > MaxLength)
        {
            address = null;
            error = $"longer than {MaxLength} bytes";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryGetProtocol(string name, out MultiaddressProtocol protocol)
    {
        protocol = name switch
        {
            "ip4" => MultiaddressProtocol.Ip4,
            "tcp" => MultiaddressProtocol.Tcp,
            "ip6" => MultiaddressProtocol.Ip6,
            "dns" => MultiaddressProtocol.Dns,
            "dns4" => MultiaddressProtocol.Dns4,
            "dns6" => MultiaddressProtocol.Dns6,
            "p2p" or "ipfs" => MultiaddressProtocol.P2p,
            _ => 0,
        };
        return protocol != 0;
    }

    private static int FixedLength(MultiaddressProtocol protocol) => protocol switch
    {
        MultiaddressProtocol.Ip4 => 4,
        MultiaddressProtocol.Tcp => 2,
        MultiaddressProtocol.Ip6 => 16,
        _ => -1,
    };

    private static bool TryParseValue(MultiaddressProtocol protocol, string value, [NotNullWhen(true)] out byte[]? raw, [NotNullWhen(false)] out string? error)
    {
        raw = null;
        switch (protocol)
        {
            case MultiaddressProtocol.Ip4:
                if (!TryParseIPv4(value, out raw))
                {
                    error = $"'{Shorten(value)}' is not an IPv4 address";
                    return false;
                }

                break;
            case MultiaddressProtocol.Ip6:
                if (value.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(value, out var ip6) || ip6.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    error = $"'{Shorten(value)}' is not an IPv6 address";
                    return false;
                }

                raw = ip6.GetAddressBytes();
                break;
            case MultiaddressProtocol.Tcp:
                if (value.Length is 0 or > 5 || !value.All(char.IsAsciiDigit) || (value.Length > 1 && value[0] == '0')
                    || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > ushort.MaxValue)
                {
                    error = $"'{Shorten(value)}' is not a TCP port (0-65535)";
                    return false;
                }

                raw = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(raw, (ushort)port);
                break;
            case MultiaddressProtocol.Dns or MultiaddressProtocol.Dns4 or MultiaddressProtocol.Dns6:
                raw = Encoding.UTF8.GetBytes(value);
                break;
            case MultiaddressProtocol.P2p:
                if (!Core.Identity.PeerId.TryParse(value, out var peerId))
                {
                    error = $"'{Shorten(value)}' is not a peer ID";
                    return false;
                }

                raw = peerId.Multihash.ToArray();
                break;
            default:
                error = "unsupported protocol";
                return false;
        }

        return ValidateRaw(protocol, raw, out error);
    }

    private static bool ValidateRaw(MultiaddressProtocol protocol, byte[] raw, [NotNullWhen(false)] out string? error)
    {
        error = null;
        switch (protocol)
        {
            case MultiaddressProtocol.Dns or MultiaddressProtocol.Dns4 or MultiaddressProtocol.Dns6:
                string name;
                try
                {
                    name = new UTF8Encoding(false, true).GetString(raw);
                }
                catch (DecoderFallbackException)
                {
                    error = "DNS name is not UTF-8";
                    return false;
                }

                if (name.Length is 0 or > MaxDnsNameLength || name.Any(c => c == '/' || char.IsWhiteSpace(c) || char.IsControl(c)))
                {
                    error = $"'{Shorten(name)}' is not a DNS name";
                    return false;
                }

                return true;
            case MultiaddressProtocol.P2p:
                if (!Core.Identity.PeerId.TryFromMultihash(raw, out _))
                {
                    error = "the /p2p value is not a peer ID multihash";
                    return false;
                }

                return true;
            default:
                return true;
        }
    }

    private static bool TryParseIPv4(string text, [NotNullWhen(true)] out byte[]? raw)
    {
        raw = null;
        var octets = text.Split('.');
        if (octets.Length != 4)
        {
            return false;
        }

        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var octet = octets[i];
            if (octet.Length is 0 or > 3 || !octet.All(char.IsAsciiDigit) || (octet.Length > 1 && octet[0] == '0'))
            {
                return false;
            }

            var value = int.Parse(octet, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                return false;
            }

            bytes[i] = (byte)value;
        }

        raw = bytes;
        return true;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";

    private byte[] GetBytes()
    {
        if (_bytes is not null)
        {
            return _bytes;
        }

        var size = 0;
        foreach (var component in _components)
        {
            size += UnsignedVarint.GetLength((ulong)component.Protocol) + component.RawValue.Length;
            if (FixedLength(component.Protocol) < 0)
            {
                size += UnsignedVarint.GetLength((ulong)component.RawValue.Length);
            }
        }

        var bytes = new byte[size];
        var offset = 0;
        foreach (var component in _components)
        {
            offset += UnsignedVarint.Write((ulong)component.Protocol, bytes.AsSpan(offset));
            if (FixedLength(component.Protocol) < 0)
            {
                offset += UnsignedVarint.Write((ulong)component.RawValue.Length, bytes.AsSpan(offset));
            }

            component.RawValue.Span.CopyTo(bytes.AsSpan(offset));
            offset += component.RawValue.Length;
        }

        return _bytes = bytes;
    }

    private string BuildText()
    {
        var builder = new StringBuilder();
        foreach (var component in _components)
        {
            builder.Append('/').Append(Name(component.Protocol)).Append('/').Append(component.Value);
        }

        return builder.ToString();
    }
}

/// <summary>The multiaddr protocols FedAgg understands, by multicodec code.</summary>
public enum MultiaddressProtocol
{
    /// <summary><c>/ip4</c>: 4 bytes.</summary>
    Ip4 = 4,

    /// <summary><c>/tcp</c>: a 2-byte big-endian port.</summary>
    Tcp = 6,

    /// <summary><c>/ip6</c>: 16 bytes.</summary>
    Ip6 = 41,

    /// <summary><c>/dns</c>: a length-prefixed name.</summary>
    Dns = 53,

    /// <summary><c>/dns4</c>: a length-prefixed name resolved to IPv4.</summary>
    Dns4 = 54,

    /// <summary><c>/dns6</c>: a length-prefixed name resolved to IPv6.</summary>
    Dns6 = 55,

    /// <summary><c>/p2p</c>: a length-prefixed peer ID multihash.</summary>
    P2p = 421,
}

/// <summary>One <c>/protocol/value</c> part of a <see cref="Multiaddress"/>.</summary>
public sealed class MultiaddressComponent
{
    internal MultiaddressComponent(MultiaddressProtocol protocol, byte[] rawValue)
    {
        Protocol = protocol;
        RawValue = rawValue;
        Value = Multiaddress.FormatValue(protocol, rawValue);
    }

    /// <summary>The protocol.</summary>
    public MultiaddressProtocol Protocol { get; }

    /// <summary>The value in its binary form (without a length prefix).</summary>
    public ReadOnlyMemory<byte> RawValue { get; }

    /// <summary>The value in its text form.</summary>
    public string Value { get; }

    /// <summary>The <c>/name/value</c> text.</summary>
    public override string ToString() => $"/{Multiaddress.Name(Protocol)}/{Value}";
}
