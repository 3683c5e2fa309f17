using System;
using System.Net;
using System.Net.Sockets;

namespace DirectMail.Dns;

/// <summary>
/// Classifies addresses into <see cref="AddressScope"/>s with a table in the shape of the IANA IPv4 and IPv6
/// special-purpose address registries (RFC 6890, as updated to 2024), one row per registry entry, plus the multicast
/// blocks. The most specific row that contains the address decides. An IPv6 address that carries an IPv4 address
/// (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4, Teredo) is judged by that IPv4 address as well: it is public
/// only when the form itself is globally reachable and the IPv4 address it leads to is public.
/// </summary>
internal static class AddressScopes
{
    /// <summary>The registries as rows: network, scope when the address is the network's own, and the IPv4 address it embeds.</summary>
    private static readonly Row[] Table =
    [
        // IPv4 special-purpose address registry.
        V4("0.0.0.0/8", AddressScope.Reserved),           // "this network" (RFC 791)
        V4("0.0.0.0/32", AddressScope.Unspecified),       // "this host on this network" (RFC 1122)
        V4("10.0.0.0/8", AddressScope.Private),           // RFC 1918
        V4("100.64.0.0/10", AddressScope.SharedCgnat),    // RFC 6598
        V4("127.0.0.0/8", AddressScope.Loopback),         // RFC 1122
        V4("169.254.0.0/16", AddressScope.LinkLocal),     // RFC 3927
        V4("172.16.0.0/12", AddressScope.Private),        // RFC 1918
        V4("192.0.0.0/24", AddressScope.Reserved),        // IETF protocol assignments (RFC 6890); its anycast /32s are no mail servers
        V4("192.0.2.0/24", AddressScope.Documentation),   // TEST-NET-1 (RFC 5737)
        V4("192.31.196.0/24", AddressScope.Public),       // AS112-v4 (RFC 7535): globally reachable
        V4("192.52.193.0/24", AddressScope.Public),       // AMT (RFC 7450): globally reachable
        V4("192.88.99.0/24", AddressScope.Reserved),      // deprecated 6to4 relay anycast (RFC 7526)
        V4("192.168.0.0/16", AddressScope.Private),       // RFC 1918
        V4("192.175.48.0/24", AddressScope.Public),       // AS112 direct delegation (RFC 7534): globally reachable
        V4("198.18.0.0/15", AddressScope.Reserved),       // benchmarking (RFC 2544)
        V4("198.51.100.0/24", AddressScope.Documentation), // TEST-NET-2 (RFC 5737)
        V4("203.0.113.0/24", AddressScope.Documentation), // TEST-NET-3 (RFC 5737)
        V4("224.0.0.0/4", AddressScope.Multicast),        // multicast address space registry (RFC 5771)
        V4("240.0.0.0/4", AddressScope.Reserved),         // reserved (RFC 1112)
        V4("255.255.255.255/32", AddressScope.Reserved),  // limited broadcast (RFC 919)

        // IPv6 special-purpose address registry. Rows that carry an IPv4 address give where it is.
        V6("::/128", AddressScope.Unspecified),                           // RFC 4291
        V6("::1/128", AddressScope.Loopback),                             // RFC 4291
        V6("::/96", AddressScope.Reserved, Embedded.Last32),              // IPv4-compatible, deprecated (RFC 4291 section 2.5.5.1)
        V6("::ffff:0:0/96", AddressScope.Public, Embedded.Last32),        // IPv4-mapped (RFC 4291): reaches the IPv4 host on dual-stack sockets
        V6("::ffff:0:0:0/96", AddressScope.Reserved, Embedded.Last32),    // IPv4-translated, SIIT (RFC 2765, RFC 7915)
        V6("64:ff9b::/96", AddressScope.Public, Embedded.Last32),         // NAT64 well-known prefix (RFC 6052): globally reachable
        V6("64:ff9b:1::/48", AddressScope.Reserved, Embedded.Last32),     // NAT64 local-use prefix (RFC 8215): not globally reachable
        V6("100::/64", AddressScope.Reserved),                            // discard-only (RFC 6666)
        V6("100:0:0:1::/64", AddressScope.Reserved),                      // dummy prefix (RFC 9780)
        V6("2001::/23", AddressScope.Reserved),                           // IETF protocol assignments (RFC 2928)
        V6("2001::/32", AddressScope.Public, Embedded.Teredo),            // Teredo (RFC 4380)
        V6("2001:1::1/128", AddressScope.Public),                         // PCP anycast (RFC 7723): globally reachable
        V6("2001:1::2/128", AddressScope.Public),                         // TURN anycast (RFC 8155): globally reachable
        V6("2001:1::3/128", AddressScope.Public),                         // DNS-SD SRP anycast (RFC 9665): globally reachable
        V6("2001:2::/48", AddressScope.Reserved),                         // benchmarking (RFC 5180)
        V6("2001:3::/32", AddressScope.Public),                           // AMT (RFC 7450): globally reachable
        V6("2001:4:112::/48", AddressScope.Public),                       // AS112-v6 (RFC 7535): globally reachable
        V6("2001:10::/28", AddressScope.Reserved),                        // ORCHID, deprecated (RFC 4843)
        V6("2001:20::/28", AddressScope.Public),                          // ORCHIDv2 (RFC 7343): globally reachable
        V6("2001:30::/28", AddressScope.Public),                          // DRIP DETs (RFC 9374): globally reachable
        V6("2001:db8::/32", AddressScope.Documentation),                  // RFC 3849
        V6("2002::/16", AddressScope.Public, Embedded.SixToFour),         // 6to4 (RFC 3056)
        V6("2620:4f:8000::/48", AddressScope.Public),                     // AS112 direct delegation (RFC 7534): globally reachable
        V6("3fff::/20", AddressScope.Documentation),                      // RFC 9637
        V6("5f00::/16", AddressScope.Reserved),                           // segment routing SIDs (RFC 9602): not globally reachable
        V6("fc00::/7", AddressScope.Private),                             // unique local (RFC 4193)
        V6("fe80::/10", AddressScope.LinkLocal),                          // RFC 4291
        V6("fec0::/10", AddressScope.Reserved),                           // site-local, deprecated (RFC 3879)
        V6("ff00::/8", AddressScope.Multicast),                           // RFC 4291
    ];

    /// <summary>
    /// Returns the scope of <paramref name="address"/>. An IPv6 address that carries an IPv4 address (IPv4-mapped
    /// <c>::ffff:0:0/96</c>, IPv4-compatible <c>::/96</c>, SIIT <c>::ffff:0:0:0/96</c>, NAT64 <c>64:ff9b::/96</c> and
    /// <c>64:ff9b:1::/48</c>, 6to4 <c>2002::/16</c>, Teredo <c>2001::/32</c>) has the scope of that IPv4 address
    /// when it is not public (so <c>64:ff9b::127.0.0.1</c> is <see cref="AddressScope.Loopback"/>), and
    /// <see cref="AddressScope.Reserved"/> when the form is not globally reachable although its IPv4 address is.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    public static AddressScope Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return AddressScope.Reserved;
        }

        var row = Find(address);
        if (row is null)
        {
            return AddressScope.Public;
        }

        if (row.Embedded == Embedded.None)
        {
            return row.Scope;
        }

        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        AddressScope carried;
        switch (row.Embedded)
        {
            case Embedded.Last32:
                carried = ClassifyV4(b[12..]);
                break;
            case Embedded.SixToFour:
                carried = ClassifyV4(b[2..6]); // 2002:AABB:CCDD::/48
                break;
            default:
                // Teredo: 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, the server's IPv4 address in bits 32-63, the
                // client's (where the traffic goes, through a relay) in the last 32 bits, inverted.
                Span<byte> client = stackalloc byte[4];
                for (var i = 0; i < 4; i++)
                {
                    client[i] = (byte)~b[12 + i];
                }

                carried = ClassifyV4(client);
                if (carried == AddressScope.Public)
                {
                    carried = ClassifyV4(b[4..8]);
                }

                break;
        }

        return carried != AddressScope.Public ? carried : row.Scope;
    }

    private static AddressScope ClassifyV4(ReadOnlySpan<byte> a) => Find(new IPAddress(a))?.Scope ?? AddressScope.Public;

    /// <summary>The most specific row containing <paramref name="address"/>; null for none (a public address).</summary>
    private static Row? Find(IPAddress address)
    {
        Row? best = null;
        foreach (var row in Table)
        {
            if ((best is null || row.Network.PrefixLength > best.Network.PrefixLength) && row.Network.Contains(address))
            {
                best = row;
            }
        }

        return best;
    }

    private static Row V4(string network, AddressScope scope) => new(IPNetwork.Parse(network), scope, Embedded.None);

    private static Row V6(string network, AddressScope scope, Embedded embedded = Embedded.None) => new(IPNetwork.Parse(network), scope, embedded);

    /// <summary>Where an IPv6 form carries an IPv4 address.</summary>
    private enum Embedded
    {
        None,
        Last32,
        SixToFour,
        Teredo,
    }

    /// <summary>One registry entry.</summary>
    /// <param name="Network">The block.</param>
    /// <param name="Scope">The block's own scope; for a form that carries an IPv4 address, the scope when that address is public.</param>
    /// <param name="Embedded">Where the block's addresses carry an IPv4 address.</param>
    private sealed record Row(IPNetwork Network, AddressScope Scope, Embedded Embedded);
}
