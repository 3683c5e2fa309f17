using System;
using System.Net;
using DirectMail.Dns;

namespace DirectMail.Tests.Dns;

/// <summary>
/// The SSRF guard's classification of IPv6 forms that carry an IPv4 address (review item 12): a hostile MX record
/// with <c>64:ff9b::127.0.0.1</c> or <c>2002:7f00:1::</c> must not be taken for a public mail server, because a NAT64
/// gateway, a 6to4 relay or a Teredo relay delivers it to the IPv4 host inside. Each row also names what it stops.
/// </summary>
public sealed class AddressScopeTableTests
{
    [Theory]
    // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291): all of ::/96, not only ::/120.
    [InlineData("::127.0.0.1", AddressScope.Loopback)]
    [InlineData("::10.0.0.1", AddressScope.Private)]
    [InlineData("::192.168.1.1", AddressScope.Private)]
    [InlineData("::169.254.169.254", AddressScope.LinkLocal)] // cloud metadata service
    [InlineData("::8.8.8.8", AddressScope.Reserved)]          // not globally reachable even with a public IPv4 inside
    // IPv4-mapped.
    [InlineData("::ffff:169.254.169.254", AddressScope.LinkLocal)]
    [InlineData("::ffff:0.0.0.0", AddressScope.Unspecified)]
    // SIIT IPv4-translated ::ffff:0:a.b.c.d.
    [InlineData("::ffff:0:127.0.0.1", AddressScope.Loopback)]
    [InlineData("::ffff:0:10.1.2.3", AddressScope.Private)]
    [InlineData("::ffff:0:8.8.8.8", AddressScope.Reserved)]
    // NAT64 well-known prefix (globally reachable when the IPv4 address is).
    [InlineData("64:ff9b::127.0.0.1", AddressScope.Loopback)]
    [InlineData("64:ff9b::10.0.0.1", AddressScope.Private)]
    [InlineData("64:ff9b::a9fe:a9fe", AddressScope.LinkLocal)]
    [InlineData("64:ff9b::100.64.0.1", AddressScope.SharedCgnat)]
    [InlineData("64:ff9b::192.0.2.1", AddressScope.Documentation)]
    [InlineData("64:ff9b::8.8.8.8", AddressScope.Public)]
    // NAT64 local-use prefix: never public.
    [InlineData("64:ff9b:1::127.0.0.1", AddressScope.Loopback)]
    [InlineData("64:ff9b:1::8.8.8.8", AddressScope.Reserved)]
    [InlineData("64:ff9b:1:abcd::1", AddressScope.Reserved)]
    // 6to4 2002:AABB:CCDD::/48.
    [InlineData("2002:7f00:1::", AddressScope.Loopback)]
    [InlineData("2002:a00:1::1", AddressScope.Private)]
    [InlineData("2002:c0a8:101::25", AddressScope.Private)]
    [InlineData("2002:a9fe:a9fe::1", AddressScope.LinkLocal)]
    [InlineData("2002:808:808::1", AddressScope.Public)]
    // Teredo 2001:0:server:flags:port:~client: the client 127.0.0.1 is 80ff:fffe inverted.
    [InlineData("2001:0:808:808:0:0:80ff:fffe", AddressScope.Loopback)]
    [InlineData("2001:0:808:808:8000:fffe:f5ff:fffe", AddressScope.Private)]   // client 10.0.0.1
    [InlineData("2001:0:7f00:1:0:0:f7f7:f7f7", AddressScope.Loopback)]         // server 127.0.0.1, client 8.8.8.8
    [InlineData("2001:0:808:808:0:0:f7f7:f7f7", AddressScope.Public)]          // both public
    [InlineData("2001:0:102:304:0:ffff:3f57:fefd", AddressScope.Private)]     // client 192.168.1.2 (bytes read in order, not from the port back)
    // The rest of the IPv6 registry.
    [InlineData("2001:2::1", AddressScope.Reserved)]
    [InlineData("2001:10::1", AddressScope.Reserved)]
    [InlineData("2001:1::1", AddressScope.Public)]
    [InlineData("2001:1::4", AddressScope.Reserved)]
    [InlineData("2001:4:112::1", AddressScope.Public)]
    [InlineData("3fff::1", AddressScope.Documentation)]
    [InlineData("5f00::1", AddressScope.Reserved)]
    [InlineData("100:0:0:1::1", AddressScope.Reserved)]
    [InlineData("2620:4f:8000::1", AddressScope.Public)]
    [InlineData("2a00:1450:4001:80b::200e", AddressScope.Public)]
    // The IPv4 registry's globally reachable entries, and the deprecated 6to4 anycast.
    [InlineData("192.31.196.1", AddressScope.Public)]
    [InlineData("192.175.48.6", AddressScope.Public)]
    [InlineData("192.88.99.1", AddressScope.Reserved)]
    [InlineData("0.0.0.1", AddressScope.Reserved)]
    public void IPv6_forms_that_carry_an_IPv4_address_are_classified_by_it(string address, AddressScope expected)
    {
        var ip = IPAddress.Parse(address);
        Assert.Equal(expected, AddressScopes.Classify(ip));
        Assert.Equal(expected == AddressScope.Public, new MxAddress(ip).IsPublic);
    }

    [Fact]
    public void A_null_address_is_an_ArgumentNullException_naming_the_argument()
    {
        Assert.Equal("address", Assert.Throws<ArgumentNullException>(() => AddressScopes.Classify(null!)).ParamName);
    }
}
