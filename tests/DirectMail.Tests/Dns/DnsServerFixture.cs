using System;
using System.Net;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dns;

/// <summary>
/// A real authoritative DNS server for the MX tests: NSD (Debian package <c>nsd</c>) on 127.0.53.1 port 10053, serving
/// the zone <c>dm.test</c> from <c>Dns/zones/dm.test.zone</c> and a deliberately broken zone <c>servfail.dm.test</c>
/// (NSD answers SERVFAIL for it; names outside both zones get REFUSED), started by <see cref="NsdServer"/> and killed
/// on dispose. Nothing here leaves the loopback interface.
/// </summary>
public sealed class DnsServerFixture : IDisposable
{
    public const string Zone = "dm.test";

    /// <summary>The test addresses live in 127.0.53.0/24; other suites use other ranges.</summary>
    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.1");

    public const int Port = 10053;

    public static readonly IPEndPoint EndPoint = new(Address, Port);

    private readonly NsdServer _nsd = new(
        EndPoint,
        [NsdZone.FromOutput("Dns", Zone), NsdZone.FromOutput("Dns", "servfail." + Zone)],
        readyWhenAnswering: [Zone]); // servfail.dm.test never answers

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
