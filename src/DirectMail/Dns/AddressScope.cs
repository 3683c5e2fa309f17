using System.Net;

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

    /// <summary><c>192.0.2.0/24</c>, <c>198.51.100.0/24</c>, <c>203.0.113.0/24</c> (RFC 5737) or <c>2001:db8::/32</c> (RFC 3849) or <c>3fff::/20</c> (RFC 9637): examples, never routed.</summary>
    Documentation,

    /// <summary>
    /// Any other special-purpose range that is not globally reachable: <c>0.0.0.0/8</c>, <c>192.0.0.0/24</c>,
    /// <c>198.18.0.0/15</c> (benchmarking), <c>240.0.0.0/4</c> and the broadcast address, <c>100::/64</c> (discard),
    /// <c>2001:2::/48</c> (benchmarking), <c>fec0::/10</c> (deprecated site-local), and IPv6 forms that carry a public
    /// IPv4 address but are not globally reachable themselves (IPv4-compatible <c>::/96</c>, SIIT <c>::ffff:0:0:0/96</c>,
    /// the NAT64 local-use prefix <c>64:ff9b:1::/48</c>).
    /// </summary>
    Reserved,
}
