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
    public static readonly IPEndPoint EndPoint = TestAddresses.TlsRpt.NameServer;

    /// <summary>Where the https destinations of the zone post to (a Kestrel server of the tests).</summary>
    public static readonly IPEndPoint HttpsEndPoint = TestAddresses.TlsRpt.Reports;

    /// <summary>The mailbox the zone's <c>mailto.tlsrpt.test</c> reports go to: a Postfix mailbox.</summary>
    public const string PostfixReportMailbox = "tlsrpt-reports@postfix.test";

    private static readonly NsdZone Zone = new ZoneBuilder("tlsrpt.test")
        .WithSoa("ns.tlsrpt.test.", "hostmaster.tlsrpt.test.", minimum: 300)
        .WithNameServer(EndPoint.Address)
        .A("reports", HttpsEndPoint.Address)
        .Txt("_smtp._tls.unit", "v=TLSRPTv1; rua=mailto:tls@reports.test")
        .Txt("_smtp._tls.race", "v=TLSRPTv1; rua=mailto:race@reports.test")
        .Txt("_smtp._tls.mailto", $"v=TLSRPTv1; rua=mailto:{PostfixReportMailbox}")
        .TxtStrings("_smtp._tls.https", "v=TLSRPTv1; ", $"rua=https://reports.tlsrpt.test:{HttpsEndPoint.Port}/v1/tlsrpt") // two character-strings, read as one
        .Txt("_smtp._tls.both", $"v=TLSRPTv1; rua=mailto:both@reports.test,https://reports.tlsrpt.test:{HttpsEndPoint.Port}/v1/both")
        .Txt("_smtp._tls.spf", "v=spf1 -all")
        .Txt("_smtp._tls.twice", "v=TLSRPTv1; rua=mailto:a@reports.test")
        .Txt("_smtp._tls.twice", "v=TLSRPTv1; rua=mailto:b@reports.test")
        .Txt("_smtp._tls.broken", "v=TLSRPTv1; rua=reports@reports.test")
        .Cname("_smtp._tls.alias", "_smtp._tls.unit")
        .Build();

    // The Postfix fixture's domain, as seen by this DNS: its TLS-RPT record (the report of a delivery to it goes back to it).
    private static readonly NsdZone PostfixZone = new ZoneBuilder("postfix.test")
        .WithSoa("ns.tlsrpt.test.", "hostmaster.tlsrpt.test.", minimum: 300)
        .WithNameServer("ns.tlsrpt.test.")
        .Txt("_smtp._tls", $"v=TLSRPTv1; rua=mailto:{PostfixReportMailbox}")
        .Build();

    private static readonly object Gate = new();
    private static NsdServer? _shared;
    private static int _references;

    private bool _disposed;

    public TlsRptDnsFixture()
    {
        lock (Gate)
        {
            _shared ??= new NsdServer(EndPoint, [Zone, PostfixZone]);
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
