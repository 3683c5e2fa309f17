using System;
using System.Net;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dns;

/// <summary>
/// A real authoritative DNS server for the MX tests: NSD (Debian package <c>nsd</c>) on 127.0.53.1 port 10053
/// (<see cref="TestAddresses.Dns"/>), serving the zone <c>dm.test</c> (<see cref="DmTest"/>; every case of issue 3 has
/// its own name) and a deliberately broken zone <c>servfail.dm.test</c> (NSD answers SERVFAIL for it; names outside
/// both zones get REFUSED), started by <see cref="NsdServer"/> and killed on dispose. Nothing here leaves the loopback
/// interface.
/// </summary>
public sealed class DnsServerFixture : IDisposable
{
    public const string Zone = "dm.test";

    public static readonly IPAddress Address = TestAddresses.Dns.NameServer.Address;

    public const int Port = TestAddresses.DnsPort;

    public static readonly IPEndPoint EndPoint = TestAddresses.Dns.NameServer;

    private readonly NsdServer _nsd = new(
        EndPoint,
        [DmTest(), ServfailDmTest()],
        readyWhenAnswering: [Zone]); // servfail.dm.test never answers

    /// <summary>
    /// The zone <c>dm.test</c>. Addresses are documentation ranges (RFC 5737, RFC 3849) unless a test needs a particular
    /// scope: nothing here is ever connected to.
    /// </summary>
    public static NsdZone DmTest()
    {
        var zone = new ZoneBuilder(Zone).WithNameServer(Address)
            // One MX host with an IPv4 and an IPv6 address.
            .Mx("single", 10, "mx.single").A("mx.single", "192.0.2.10").Aaaa("mx.single", "2001:db8::10")

            // Different preferences, listed out of order: 30, 10, 20.
            .Mx("ordered", 30, "c.ordered").Mx("ordered", 10, "a.ordered").Mx("ordered", 20, "b.ordered")
            .A("a.ordered", "192.0.2.11").A("b.ordered", "192.0.2.12").A("c.ordered", "192.0.2.13")

            // Three hosts of equal preference 10 and a backup at 20 (the statistical shuffle test).
            .Mx("equal", 10, "a.equal").Mx("equal", 10, "b.equal").Mx("equal", 10, "c.equal").Mx("equal", 20, "backup.equal")
            .A("a.equal", "192.0.2.21").A("b.equal", "192.0.2.22").A("c.equal", "192.0.2.23").A("backup.equal", "192.0.2.24")

            // No MX (NODATA): the domain's own A and AAAA are the implicit MX.
            .A("implicit", "192.0.2.30").Aaaa("implicit", "2001:db8::30")

            // No MX and no address: nothing to deliver to.
            .Txt("noaddress", "no MX, no A, no AAAA")

            // Null MX (RFC 7505). The A record is a trap: it must never be used.
            .NullMx("nullmx").A("nullmx", "192.0.2.40")

            // MX host that is a CNAME, and one whose chain is too long (c1 -> ... -> c10).
            .Mx("cname", 10, "alias.cname").Cname("alias.cname", "real.cname").A("real.cname", "192.0.2.50")
            .Mx("deepcname", 10, "c1.deepcname");
        for (var i = 1; i < 10; i++)
        {
            zone.Cname($"c{i}.deepcname", $"c{i + 1}.deepcname");
        }

        zone.A("c10.deepcname", "192.0.2.51")

            // A host that does not exist beside a good one.
            .Mx("partial", 10, "missing.partial").Mx("partial", 20, "good.partial").A("good.partial", "192.0.2.60")

            // Every host missing: permanent.
            .Mx("allmissing", 10, "missing1.allmissing").Mx("allmissing", 20, "missing2.allmissing")

            // One host missing, the other in a zone that answers SERVFAIL: transient.
            .Mx("halfbroken", 10, "missing.halfbroken").Mx("halfbroken", 20, $"mx.servfail.{Zone}.")

            // An MX target written as an IP address, beside a good host; and as the only host.
            .Mx("iplit", 10, "192.0.2.70.").Mx("iplit", 20, "good.iplit").A("good.iplit", "192.0.2.71")
            .Mx("iponly", 10, "192.0.2.72.")

            // An internationalised domain: bücher.dm.test.
            .Mx("xn--bcher-kva", 10, "mx.xn--bcher-kva").A("mx.xn--bcher-kva", "192.0.2.80")

            // Addresses of every scope, on one host (data: nothing connects to them).
            .Mx("scopes", 10, "mx.scopes")
            .A("mx.scopes", "127.0.0.1").A("mx.scopes", "10.1.2.3").A("mx.scopes", "100.64.0.1").A("mx.scopes", "169.254.1.1")
            .A("mx.scopes", "203.0.113.9").A("mx.scopes", "8.8.8.8")
            .Aaaa("mx.scopes", "::1").Aaaa("mx.scopes", "fe80::1").Aaaa("mx.scopes", "fd00::1")

            // Address families: one dual-stack host, one IPv4-only host.
            .Mx("dual", 10, "mx.dual").A("mx.dual", "192.0.2.90").Aaaa("mx.dual", "2001:db8::90")
            .Mx("v4only", 10, "mx.v4only").A("mx.v4only", "192.0.2.91")

            // Many addresses on one host (the MaxAddresses limit, 5 by default).
            .Mx("manyaddr", 10, "mx.manyaddr");
        for (var i = 201; i <= 208; i++)
        {
            zone.A("mx.manyaddr", $"192.0.2.{i}");
        }

        // TTLs for the cache: MX 120 s, the host's A 40 s: kept 40 s.
        zone.Mx("ttl", 10, "mx.ttl", ttl: 120).A("mx.ttl", "192.0.2.95", ttl: 40);

        // 24 MX records with long names: the answer is larger than NSD's UDP limit (1232 octets), so it comes back
        // truncated (TC) over UDP and must be asked again over TCP.
        for (var i = 1; i <= 24; i++)
        {
            zone.Mx("many", i, ManyHost(i));
        }

        for (var i = 1; i <= 24; i++)
        {
            zone.A(ManyHost(i), $"192.0.2.{100 + i}");
        }

        return zone.Build();

        static string ManyHost(int i) => $"mx{i:D2}-long-label-to-make-the-answer-exceed-the-udp-sizexxx.many";
    }

    /// <summary>
    /// Deliberately broken: NSD fails to load this zone and answers SERVFAIL for every name in servfail.dm.test, which is
    /// how the tests get a real SERVFAIL (no SOA, and the one line is not a record).
    /// </summary>
    public static NsdZone ServfailDmTest() => new ZoneBuilder("servfail." + Zone).WithoutApexRecords().Raw("this line is not a resource record").Build();

    /// <summary>Options that ask this server only (never the system resolver), with short timeouts.</summary>
    public static MxResolverOptions Options(Action<MxResolverOptions>? configure = null)
    {
        var options = new MxResolverOptions
        {
            NameServers = [EndPoint],
            QueryTimeout = TimeSpan.FromSeconds(2),
            Retries = 1,
        };
        configure?.Invoke(options);
        return options;
    }

    public void Dispose() => _nsd.Dispose();
}

[CollectionDefinition(Name)]
public sealed class DnsServerCollection : ICollectionFixture<DnsServerFixture>
{
    public const string Name = "DNS server (NSD on 127.0.53.1:10053)";
}
