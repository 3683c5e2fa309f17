using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Net;

namespace DirectMail.Dns;

/// <summary>
/// Settings of <see cref="MxResolver"/>. Each property says why it has its default. The resolver copies the
/// settings when it is created; later changes to this object do not affect it.
/// </summary>
public sealed class MxResolverOptions
{
    private const int DnsPort = 53;

    /// <summary>
    /// The name servers to ask (address and port), which must be recursive resolvers. Empty (the default) uses the
    /// system's resolvers (<c>/etc/resolv.conf</c>, or the network adapters' settings on Windows).
    /// </summary>
    public IReadOnlyList<IPEndPoint> NameServers { get; set; } = Array.Empty<IPEndPoint>();

    /// <summary>Time allowed for one DNS query to one server. Default 5 seconds, the usual stub resolver timeout (resolv.conf's default).</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many times a query that got no answer (timeout, network error) is sent again to the same server before
    /// the next one is tried. Default 2 (three tries): UDP datagrams get lost. SERVFAIL and REFUSED are answers and
    /// are not retried on the same server.
    /// </summary>
    public int Retries { get; set; } = 2;

    /// <summary>
    /// Keep resolutions for as long as the DNS records allow (the smallest TTL of the records used). Default true:
    /// a sender with many messages for one domain then asks once per TTL.
    /// </summary>
    public bool UseCache { get; set; } = true;

    /// <summary>
    /// The longest a successful resolution is kept, whatever the TTLs say. Default 1 hour: a domain that moves its
    /// mail reaches long-running senders within an hour even with a TTL of days.
    /// </summary>
    public TimeSpan MaxCacheTime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest a negative answer (no such domain, no MX, no address for an MX host) is kept; the time is the SOA's
    /// negative TTL (RFC 2308 section 5) bounded by this. Default 5 minutes: a domain being set up is seen soon, while
    /// a burst of mail to a mistyped domain costs one query.
    /// </summary>
    public TimeSpan MaxNegativeCacheTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a transient failure (SERVFAIL, REFUSED, timeout) is kept, so that a queue full of mail for a broken
    /// domain does not query it for each message. Default 30 seconds; RFC 2308 section 7.1 allows at most 5 minutes.
    /// <see cref="TimeSpan.Zero"/> keeps none.
    /// </summary>
    public TimeSpan TransientFailureCacheTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most domains kept in the cache. Default 10,000: enough for a busy sender, bounded for a hostile recipient list. When full, expired entries are dropped, then new ones are not kept.</summary>
    public int MaxCacheEntries { get; set; } = 10_000;

    /// <summary>
    /// The most MX hosts in a result, lowest preference first. Default 10. Hosts tied in preference at the cut are all
    /// looked up (at most 100 hosts in all) so that the random order among them stays fair; the cut is made after
    /// shuffling.
    /// </summary>
    public int MaxMxHosts { get; set; } = 10;

    /// <summary>
    /// The most addresses in a result, over all hosts together, in the order they would be tried. Default 5, as
    /// Postfix's <c>smtp_mx_address_limit</c>: a sender that gets no answer from five addresses should queue and retry
    /// rather than walk a long list.
    /// </summary>
    public int MaxAddresses { get; set; } = 5;

    /// <summary>Which address families are used, and which first. Default <see cref="AddressFamilyPreference.PreferIPv4"/>.</summary>
    public AddressFamilyPreference AddressFamilyPreference { get; set; } = AddressFamilyPreference.PreferIPv4;

    /// <summary>
    /// Use an MX target written as an IPv4 address (<c>MX 10 192.0.2.1.</c>) as that address. Default false: RFC 5321
    /// section 5.1 requires a host name there, and such records are mistakes or tricks; they are skipped with a
    /// warning in <see cref="MxResolution.Warnings"/>.
    /// </summary>
    public bool AllowIpLiteralMxTargets { get; set; }

    /// <summary>
    /// The most CNAME records followed from one name (an MX domain or an MX host). Default 8: real chains have one
    /// or two links; a longer one is a loop or a mistake.
    /// </summary>
    public int MaxCnameDepth { get; set; } = 8;

    /// <summary>
    /// Whether the name servers validate DNSSEC, so that the AD (authenticated data) bit of their answers can be
    /// believed: MX and address records marked authenticated, and DANE TLSA records (RFC 7672) used. Null (the default)
    /// believes it only when every name server (the configured ones, or the system's) is a loopback address, as
    /// Postfix and mox do: the bit travels unsigned, and only a resolver on this host is out of reach of the network
    /// path. True: the name servers validate and the path to them is trusted (a validating resolver on a protected
    /// LAN); false: never believe it, and DANE is off.
    /// </summary>
    public bool? ResolverValidatesDnssec { get; set; }

    /// <summary>
    /// Reads a name server written as text, the one way configuration (<c>DirectMail:NameServers</c>), the CLI's
    /// <c>--dns</c> and the sender doctor take it: an IP address with an optional port, port 53 when none is given.
    /// Surrounding white space is ignored. Accepted: <c>192.0.2.53</c>, <c>192.0.2.53:5353</c>, <c>2001:db8::53</c>
    /// (a bare IPv6 address, whose last group is never read as a port), <c>[2001:db8::53]</c> and
    /// <c>[2001:db8::53]:5353</c>. Refused: a host name (a name server is given by address), an empty, zero or
    /// out-of-range port (<c>192.0.2.53:</c>, <c>192.0.2.53:0</c>, <c>192.0.2.53:65536</c>).
    /// </summary>
    /// <param name="text">The name server.</param>
    /// <param name="endPoint">The address and port; null when <paramref name="text"/> is not a name server.</param>
    /// <returns>True when <paramref name="text"/> is read.</returns>
    public static bool TryParseNameServer([NotNullWhen(true)] string? text, [NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (text is null)
        {
            return false;
        }

        var span = text.AsSpan().Trim();

        // A port is written [IPv6]:PORT or IPv4:PORT; a bare IPv6 address has several colons and no brackets.
        var colon = span.IndexOf(':');
        var hasPort = span.Length > 0 && span[0] == '[' ? span.Contains("]:", StringComparison.Ordinal) : colon >= 0 && colon == span.LastIndexOf(':');
        if (!IPEndPoint.TryParse(span, out var parsed) || (hasPort && parsed.Port == 0))
        {
            return false;
        }

        endPoint = hasPort ? parsed : new IPEndPoint(parsed.Address, DnsPort);
        return true;
    }

    /// <summary>Checks every setting and throws <see cref="ArgumentException"/> naming the first one that is wrong.</summary>
    public void Validate()
    {
        ValidateNameServers(NameServers, nameof(NameServers));
        if (QueryTimeout <= TimeSpan.Zero || QueryTimeout.TotalMilliseconds >= int.MaxValue)
        {
            throw new ArgumentException($"{nameof(QueryTimeout)} must be positive and finite; it is {QueryTimeout}.", nameof(QueryTimeout));
        }

        if (Retries is < 0 or > 10)
        {
            throw new ArgumentException($"{nameof(Retries)} must be 0 to 10; it is {Retries}.", nameof(Retries));
        }

        RequireNotNegative(MaxCacheTime, nameof(MaxCacheTime));
        RequireNotNegative(MaxNegativeCacheTime, nameof(MaxNegativeCacheTime));
        RequireNotNegative(TransientFailureCacheTime, nameof(TransientFailureCacheTime));
        if (TransientFailureCacheTime > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"{nameof(TransientFailureCacheTime)} must be at most 5 minutes (RFC 2308 section 7.1); it is {TransientFailureCacheTime}.", nameof(TransientFailureCacheTime));
        }

        if (MaxCacheEntries < 1)
        {
            throw new ArgumentException($"{nameof(MaxCacheEntries)} must be at least 1; it is {MaxCacheEntries}.", nameof(MaxCacheEntries));
        }

        if (MaxMxHosts is < 1 or > 100)
        {
            throw new ArgumentException($"{nameof(MaxMxHosts)} must be 1 to 100; it is {MaxMxHosts}.", nameof(MaxMxHosts));
        }

        if (MaxAddresses < 1)
        {
            throw new ArgumentException($"{nameof(MaxAddresses)} must be at least 1; it is {MaxAddresses}.", nameof(MaxAddresses));
        }

        if (!Enum.IsDefined(AddressFamilyPreference))
        {
            throw new ArgumentException($"{nameof(AddressFamilyPreference)} {AddressFamilyPreference} is not a defined value.", nameof(AddressFamilyPreference));
        }

        if (MaxCnameDepth is < 0 or > 32)
        {
            throw new ArgumentException($"{nameof(MaxCnameDepth)} must be 0 to 32; it is {MaxCnameDepth}.", nameof(MaxCnameDepth));
        }
    }

    /// <summary>The one check of a list of name servers (the resolver's and the doctor's): no null entry, no port 0.</summary>
    internal static void ValidateNameServers(IReadOnlyList<IPEndPoint>? servers, string name)
    {
        if (servers is null)
        {
            throw new ArgumentException($"{name} is null; use an empty list for the system resolver.", name);
        }

        for (var i = 0; i < servers.Count; i++)
        {
            if (servers[i] is null)
            {
                throw new ArgumentException($"{name}[{i}] is null.", name);
            }

            if (servers[i].Port == 0)
            {
                throw new ArgumentException($"{name}[{i}] ({servers[i]}) has port 0; DNS is port {DnsPort}.", name);
            }
        }
    }

    /// <summary>
    /// Whether the AD bit of the name servers' answers is believed (<see cref="ResolverValidatesDnssec"/>, its default
    /// decided from the name servers: the configured ones, or the system's as DnsClient finds them).
    /// </summary>
    internal bool TrustsAuthenticatedData()
    {
        if (ResolverValidatesDnssec is { } told)
        {
            return told;
        }

        var addresses = new List<IPAddress>();
        if (NameServers.Count > 0)
        {
            foreach (var server in NameServers)
            {
                addresses.Add(server.Address);
            }
        }
        else
        {
            try
            {
                foreach (var server in DnsClient.NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false))
                {
                    addresses.Add(IPAddress.TryParse(server.Address, out var address) ? address : IPAddress.None);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // No system resolver found: nothing to believe.
                return false;
            }
        }

        if (addresses.Count == 0)
        {
            return false;
        }

        foreach (var address in addresses)
        {
            if (!IPAddress.IsLoopback(address))
            {
                return false;
            }
        }

        return true;
    }

    internal MxResolverOptions Clone()
    {
        var copy = (MxResolverOptions)MemberwiseClone();
        copy.NameServers = [.. NameServers];
        return copy;
    }

    private static void RequireNotNegative(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} must not be negative; it is {value}.", name);
        }
    }
}
