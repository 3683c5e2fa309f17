using System;
using System.Net;
using System.Net.Sockets;

namespace DirectMail.Dns;

/// <summary>
/// Where an address can be reached, from the IANA special-purpose address registries (RFC 6890). Only
/// <see cref="Public"/> addresses belong to mail servers on the Internet; the delivery layer refuses the others
/// unless told to, so that a hostile MX record cannot point a sender at its own network (SSRF).
/// </summary>
public enum AddressScope
{
    /// <summary>A globally routable unicast address.</summary>
    Public = 0,

    /// <summary><c>0.0.0.0</c> or <c>::</c>: no address at all; connecting to it reaches the local host on many systems.</summary>
    Unspecified,

    /// <summary><c>127.0.0.0/8</c> or <c>::1</c>: this host.</summary>
    Loopback,

    /// <summary><c>10.0.0.0/8</c>, <c>172.16.0.0/12</c>, <c>192.168.0.0/16</c> (RFC 1918) or <c>fc00::/7</c> (RFC 4193 unique local).</summary>
    Private,

    /// <summary><c>169.254.0.0/16</c> (RFC 3927) or <c>fe80::/10</c>: the local link only.</summary>
    LinkLocal,

    /// <summary><c>100.64.0.0/10</c>: shared address space of carrier-grade NAT (RFC 6598).</summary>
    SharedCgnat,

    /// <summary><c>224.0.0.0/4</c> or <c>ff00::/8</c>: not a host.</summary>
    Multicast,

    /// <summary><c>192.0.2.0/24</c>, <c>198.51.100.0/24</c>, <c>203.0.113.0/24</c> (RFC 5737) or <c>2001:db8::/32</c> (RFC 3849): examples, never routed.</summary>
    Documentation,

    /// <summary>
    /// Any other special-purpose range that is not globally reachable: <c>0.0.0.0/8</c>, <c>192.0.0.0/24</c>,
    /// <c>198.18.0.0/15</c> (benchmarking), <c>240.0.0.0/4</c> and the broadcast address, <c>100::/64</c> (discard),
    /// <c>2001:2::/48</c> (benchmarking), <c>fec0::/10</c> (deprecated site-local).
    /// </summary>
    Reserved,
}

/// <summary>Classifies addresses into <see cref="AddressScope"/>s.</summary>
public static class AddressScopes
{
    /// <summary>Returns the scope of <paramref name="address"/>. An IPv4-mapped IPv6 address is classified as the IPv4 address it carries.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    public static AddressScope Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return ClassifyV4(v4);
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return AddressScope.Reserved;
        }

        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);

        // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d on dual-stack sockets: judge it as that host.
        if (b[..10].IndexOfAnyExcept((byte)0) < 0 && b[10] == 0xff && b[11] == 0xff)
        {
            return ClassifyV4(b[12..]);
        }

        if (b[..15].IndexOfAnyExcept((byte)0) < 0)
        {
            return b[15] switch
            {
                0 => AddressScope.Unspecified,
                1 => AddressScope.Loopback,
                _ => AddressScope.Reserved, // the rest of ::/96, including deprecated IPv4-compatible addresses
            };
        }

        if (b[0] == 0xff)
        {
            return AddressScope.Multicast;
        }

        if (b[0] == 0xfe)
        {
            return (b[1] & 0xc0) switch
            {
                0x80 => AddressScope.LinkLocal, // fe80::/10
                0xc0 => AddressScope.Reserved,  // fec0::/10, site-local, deprecated by RFC 3879
                _ => AddressScope.Public,
            };
        }

        if ((b[0] & 0xfe) == 0xfc)
        {
            return AddressScope.Private; // fc00::/7
        }

        if (b[0] == 0x20 && b[1] == 0x01)
        {
            if (b[2] == 0x0d && b[3] == 0xb8)
            {
                return AddressScope.Documentation; // 2001:db8::/32
            }

            if (b[2] == 0x00 && b[3] == 0x02 && b[4] == 0 && b[5] == 0)
            {
                return AddressScope.Reserved; // 2001:2::/48, benchmarking
            }
        }

        if (b[0] == 0x01 && b[1] == 0x00 && b[2..8].IndexOfAnyExcept((byte)0) < 0)
        {
            return AddressScope.Reserved; // 100::/64, discard-only
        }

        return AddressScope.Public;
    }

    private static AddressScope ClassifyV4(ReadOnlySpan<byte> a)
    {
        switch (a[0])
        {
            case 0:
                return a[1] == 0 && a[2] == 0 && a[3] == 0 ? AddressScope.Unspecified : AddressScope.Reserved;
            case 10:
                return AddressScope.Private;
            case 100 when (a[1] & 0xc0) == 64:
                return AddressScope.SharedCgnat; // 100.64.0.0/10
            case 127:
                return AddressScope.Loopback;
            case 169 when a[1] == 254:
                return AddressScope.LinkLocal;
            case 172 when (a[1] & 0xf0) == 16:
                return AddressScope.Private; // 172.16.0.0/12
            case 192 when a[1] == 168:
                return AddressScope.Private;
            case 192 when a[1] == 0 && a[2] == 0:
                return AddressScope.Reserved; // 192.0.0.0/24, IETF protocol assignments
            case 192 when a[1] == 0 && a[2] == 2:
            case 198 when a[1] == 51 && a[2] == 100:
            case 203 when a[1] == 0 && a[2] == 113:
                return AddressScope.Documentation;
            case 198 when (a[1] & 0xfe) == 18:
                return AddressScope.Reserved; // 198.18.0.0/15, benchmarking
        }

        if (a[0] >= 240)
        {
            return AddressScope.Reserved; // 240.0.0.0/4 and 255.255.255.255
        }

        return a[0] >= 224 ? AddressScope.Multicast : AddressScope.Public;
    }
}
