using System;
using System.Net;
using DirectMail.Dns;
using DirectMail.Security.TlsRpt;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// The TLS-RPT tests' authoritative DNS: NSD on 127.0.81.53 port 10053 serving <c>tlsrpt.test</c>, whose subdomains
/// publish the <c>_smtp._tls</c> records the tests need. One NSD for the run, shared by reference count as the
/// delivery tests' DNS fixture is.
/// </summary>
public sealed class TlsRptDnsFixture : IDisposable
{
    public static readonly IPEndPoint EndPoint = new(IPAddress.Parse("127.0.81.53"), 10053);

    /// <summary>Where the https destinations of the zone post to (a Kestrel server of the tests).</summary>
    public static readonly IPEndPoint HttpsEndPoint = new(IPAddress.Parse("127.0.81.80"), 18443);

    /// <summary>The mailbox the zone's <c>mailto.tlsrpt.test</c> reports go to: a Postfix mailbox.</summary>
    public const string PostfixReportMailbox = "tlsrpt-reports@postfix.test";

    private static readonly string Zone = $"""
        $ORIGIN tlsrpt.test.
        $TTL 300
        @ IN SOA ns.tlsrpt.test. hostmaster.tlsrpt.test. 1 3600 600 86400 300
        @ IN NS ns.tlsrpt.test.
        ns IN A {EndPoint.Address}
        reports IN A {HttpsEndPoint.Address}
        _smtp._tls.unit IN TXT "v=TLSRPTv1; rua=mailto:tls@reports.test"
        _smtp._tls.race IN TXT "v=TLSRPTv1; rua=mailto:race@reports.test"
        _smtp._tls.mailto IN TXT "v=TLSRPTv1; rua=mailto:{PostfixReportMailbox}"
        _smtp._tls.https IN TXT "v=TLSRPTv1; " "rua=https://reports.tlsrpt.test:{HttpsEndPoint.Port}/v1/tlsrpt"
        _smtp._tls.both IN TXT "v=TLSRPTv1; rua=mailto:both@reports.test,https://reports.tlsrpt.test:{HttpsEndPoint.Port}/v1/both"
        _smtp._tls.spf IN TXT "v=spf1 -all"
        _smtp._tls.twice IN TXT "v=TLSRPTv1; rua=mailto:a@reports.test"
        _smtp._tls.twice IN TXT "v=TLSRPTv1; rua=mailto:b@reports.test"
        _smtp._tls.broken IN TXT "v=TLSRPTv1; rua=reports@reports.test"
        _smtp._tls.alias IN CNAME _smtp._tls.unit
        """;

    // The Postfix fixture's domain, as seen by this DNS: its TLS-RPT record (the report of a delivery to it goes back to it).
    private static readonly string PostfixZone = $"""
        $ORIGIN postfix.test.
        $TTL 300
        @ IN SOA ns.tlsrpt.test. hostmaster.tlsrpt.test. 1 3600 600 86400 300
        @ IN NS ns.tlsrpt.test.
        _smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:{PostfixReportMailbox}"
        """;

    private static readonly object Gate = new();
    private static NsdServer? _shared;
    private static int _references;

    private bool _disposed;

    public TlsRptDnsFixture()
    {
        lock (Gate)
        {
            _shared ??= new NsdServer(EndPoint, [new NsdZone("tlsrpt.test", Zone), new NsdZone("postfix.test", PostfixZone)]);
            _references++;
        }
    }

    /// <summary>A record look-up on this server.</summary>
    internal static TlsRptRecordLookup Lookup() => new(new MxResolver(new MxResolverOptions { NameServers = [EndPoint], QueryTimeout = TimeSpan.FromSeconds(2), Retries = 1 }));

    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (--_references == 0)
            {
                _shared?.Dispose();
                _shared = null;
            }
        }
    }
}
