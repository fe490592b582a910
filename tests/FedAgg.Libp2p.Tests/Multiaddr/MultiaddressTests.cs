using System.Net;
using FedAgg.Core.Identity;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Libp2p.Tests.Multiaddr;

public sealed class MultiaddressTests
{
    // Expected bytes and canonical text produced by js-libp2p's @multiformats/multiaddr (the independent implementation).
    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1", "/ip4/127.0.0.1/tcp/4001")]
    [InlineData("/ip4/0.0.0.0/tcp/0", "0400000000060000", "/ip4/0.0.0.0/tcp/0")]
    [InlineData("/ip6/::1/tcp/3217", "2900000000000000000000000000000001060c91", "/ip6/::1/tcp/3217")]
    [InlineData("/ip6/2001:db8::8a2e:370:7334/tcp/65535", "2920010db80000000000008a2e0370733406ffff", "/ip6/2001:db8::8a2e:370:7334/tcp/65535")]
    [InlineData("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb", "/dns4/example.com/tcp/443")]
    [InlineData("/dns/localhost/tcp/80", "35096c6f63616c686f7374060050", "/dns/localhost/tcp/80")]
    [InlineData("/dns6/ipv6.example/tcp/1", "370c697076362e6578616d706c65060001", "/dns6/ipv6.example/tcp/1")]
    [InlineData("/ip4/127.0.0.1/tcp/4001/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC", "047f000001060fa1a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b", "/ip4/127.0.0.1/tcp/4001/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")]
    [InlineData("/ip4/1.2.3.4/tcp/5/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", "0401020304060005a503260024080112202ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b", "/ip4/1.2.3.4/tcp/5/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")]
    [InlineData("/ip4/127.0.0.1/tcp/4001/ipfs/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC", "047f000001060fa1a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b", "/ip4/127.0.0.1/tcp/4001/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")]
    public void Parse_JsVectors_MatchBinaryAndCanonicalText(string text, string hex, string canonical)
    {
        var address = Multiaddress.Parse(text);
        Assert.Equal(hex, Convert.ToHexStringLower(address.ToBytes()));
        Assert.Equal(canonical, address.ToString());

        var decoded = Multiaddress.FromBytes(Convert.FromHexString(hex));
        Assert.Equal(address, decoded);
        Assert.Equal(canonical, decoded.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ip4/1.2.3.4/tcp/1")]
    [InlineData("/ip4/256.0.0.1/tcp/1")]
    [InlineData("/ip4/1.2.3/tcp/1")]
    [InlineData("/ip4/01.2.3.4/tcp/1")]
    [InlineData("/ip4/1.2.3.4/tcp/65536")]
    [InlineData("/ip4/1.2.3.4/tcp/-1")]
    [InlineData("/ip4/1.2.3.4/tcp/08")]
    [InlineData("/ip4/1.2.3.4/tcp")]
    [InlineData("/ip6/1.2.3.4/tcp/1")]
    [InlineData("/ip6/fe80::1%eth0/tcp/1")]
    [InlineData("/udp/1")]
    [InlineData("/ip4/1.2.3.4//tcp/1")]
    [InlineData("/p2p/notapeer")]
    [InlineData("/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/tcp/1")]
    [InlineData("/dns4/has space/tcp/1")]
    public void TryParse_Invalid_ReturnsFalseWithReason(string text)
    {
        Assert.False(Multiaddress.TryParse(text, out var address, out var error));
        Assert.Null(address);
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Throws<FormatException>(() => Multiaddress.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("04")]
    [InlineData("047f0000")]
    [InlineData("047f000001060fa100")]
    [InlineData("047f000001060f")]
    [InlineData("9102")]
    [InlineData("0680")]
    [InlineData("a50302ffff")]
    [InlineData("36ff01")]
    public void TryFromBytes_Invalid_ReturnsFalse(string hex)
    {
        Assert.False(Multiaddress.TryFromBytes(Convert.FromHexString(hex), out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void PeerId_WithAndWithoutSuffix_Roundtrips()
    {
        var peer = Ed25519PrivateKey.Generate().PeerId;
        var plain = Multiaddress.Parse("/ip4/10.0.0.1/tcp/9000");
        Assert.Null(plain.PeerId);

        var full = plain.WithPeerId(peer);
        Assert.Equal(peer, full.PeerId);
        Assert.Equal($"/ip4/10.0.0.1/tcp/9000/p2p/{peer}", full.ToString());
        Assert.Equal(plain, full.WithoutPeerId());
        Assert.Equal(full, full.WithPeerId(peer));
        Assert.True(full.TryGetIPEndPoint(out var endPoint));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 9000), endPoint);
    }

    [Fact]
    public void TryGetTcpTarget_Dns_GivesNameAndPort()
    {
        var address = Multiaddress.Parse("/dns4/example.com/tcp/443");
        Assert.True(address.TryGetTcpTarget(out var host, out var protocol, out var port));
        Assert.Equal(("example.com", MultiaddressProtocol.Dns4, 443), (host, protocol, port));
        Assert.False(address.TryGetIPEndPoint(out _));
        Assert.False(Multiaddress.Parse("/ip4/1.2.3.4").TryGetTcpTarget(out _, out _, out _));
    }

    [Fact]
    public void FromTcpEndPoint_IPv4MappedAddress_IsWrittenAsIp4()
    {
        var address = Multiaddress.FromTcpEndPoint(new IPEndPoint(IPAddress.Parse("::ffff:192.168.1.2"), 77));
        Assert.Equal("/ip4/192.168.1.2/tcp/77", address.ToString());
    }

    [Fact]
    public void Roundtrip_RandomIpAndPort_TextAndBinaryAgree()
    {
        var generator =
            from ip in Gen.ArrayOf(Gen.Choose(0, 255), 4)
            from v6 in Gen.ArrayOf(Gen.Choose(0, 255), 16)
            from useV6 in Gen.Elements(false, true)
            from port in Gen.Choose(0, 65535)
            select (useV6 ? new IPAddress(v6.Select(b => (byte)b).ToArray()) : new IPAddress(ip.Select(b => (byte)b).ToArray()), port);
        Prop.ForAll(generator.ToArbitrary(), sample =>
        {
            var (ip, port) = sample;
            if (ip.IsIPv4MappedToIPv6)
            {
                return true;
            }

            var address = Multiaddress.FromTcpEndPoint(new IPEndPoint(ip, port));
            var reparsed = Multiaddress.Parse(address.ToString());
            var decoded = Multiaddress.FromBytes(address.ToBytes());
            return reparsed.Equals(address) && decoded.Equals(address)
                && address.TryGetIPEndPoint(out var endPoint) && endPoint.Address.Equals(ip) && endPoint.Port == port;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryFromBytes_RandomBytes_NeverThrows()
    {
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).ToArbitrary(), bytes =>
        {
            if (Multiaddress.TryFromBytes(bytes, out var address, out _))
            {
                return address.ToBytes().AsSpan().SequenceEqual(bytes) && Multiaddress.Parse(address.ToString()).Equals(address);
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
