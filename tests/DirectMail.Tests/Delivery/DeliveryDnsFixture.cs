using System;
using System.Net;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Infrastructure.TestAddresses;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// The delivery tests' own authoritative DNS server: NSD on 127.0.53.25 port 10053 serving the zones
/// <c>deliver.test</c> and <c>elsewhere.test</c> (<see cref="DeliverTest"/>, <see cref="ElsewhereTest"/>), whose MX
/// hosts are the addresses of <see cref="TestAddresses.Delivery"/> (127.0.26.0/24) and, for the MTA-STS, REQUIRETLS and
/// TLS-Required tests, of <see cref="TestAddresses.MtaSts"/>, <see cref="TestAddresses.RequireTls"/> and
/// <see cref="TestAddresses.TlsRequiredNo"/>. One NSD serves the whole test run: every fixture instance takes a
/// reference and the last one to be disposed stops it, so collections that run one after the other (or side by side)
/// share it and never fight over the port.
/// </summary>
public sealed class DeliveryDnsFixture : IDisposable
{
    public static readonly IPAddress Address = TestAddresses.Delivery.NameServer.Address;

    public const int Port = DnsPort;

    public static readonly IPEndPoint EndPoint = TestAddresses.Delivery.NameServer;

    /// <summary>The value for <c>DirectMailOptions.NameServers</c>.</summary>
    public static readonly string NameServer = $"{Address}:{Port}";

    private static readonly object Gate = new();
    private static NsdServer? _shared;
    private static int _references;

    private bool _disposed;

    public DeliveryDnsFixture()
    {
        lock (Gate)
        {
            _shared ??= new NsdServer(EndPoint, [DeliverTest(), ElsewhereTest()]);
            _references++;
        }
    }

    /// <summary>
    /// The zone <c>deliver.test</c>. Every MX host is a loopback address, and every SMTP server of the tests listens on
    /// port 10025 of its address (the mailer's Port option applies to every MX).
    /// </summary>
    public static NsdZone DeliverTest()
    {
        var zone = new ZoneBuilder("deliver.test").WithNameServer(Address)
            // The preferred MX refuses connections (nothing listens on .1); the backup works.
            .Mx("refused", 10, "mx1.refused", TestAddresses.Delivery.RefusedPrimary)
            .Mx("refused", 20, "mx2.refused", TestAddresses.Delivery.RefusedBackup)

            // One MX host with two addresses: the first refuses, the second works.
            .Mx("multiaddr", 10, "mx.multiaddr", TestAddresses.Delivery.RefusedPrimary, TestAddresses.Delivery.RefusedBackup)

            // Address families (AddressFamilyTests): one MX host with an IPv4 and an IPv6 (::1) address, one with IPv4 only.
            .Mx("dualstack", 10, "mx.dualstack", TestAddresses.Delivery.DualStack, TestAddresses.Delivery.DualStackV6)
            .Mx("v4only", 10, "mx.v4only", TestAddresses.Delivery.DualStack)

            // The preferred MX greets 421; the backup works.
            .Mx("greet421", 10, "mx1.greet421", TestAddresses.Delivery.Greet421Primary)
            .Mx("greet421", 20, "mx2.greet421", TestAddresses.Delivery.Greet421Backup)

            // The preferred MX accepts the connection and never greets; the backup works. silentonly has only the silent one.
            .Mx("silent", 10, "mx1.silent", TestAddresses.Delivery.Silent)
            .Mx("silent", 20, "mx2.silent", TestAddresses.Delivery.SilentBackup)
            .Mx("silentonly", 10, "mx.silentonly", TestAddresses.Delivery.Silent)

            // 4xx at the first host, success at the second: RCPT 451 (rcpt4xx) and EHLO 451 (ehlo4xx) at the preferred MX.
            .Mx("rcpt4xx", 10, "mx1.rcpt4xx", TestAddresses.Delivery.Rcpt4xxPrimary)
            .Mx("rcpt4xx", 20, "mx2.rcpt4xx", TestAddresses.Delivery.FourXxBackup)
            .Mx("ehlo4xx", 10, "mx1.ehlo4xx", TestAddresses.Delivery.Ehlo4xxPrimary)
            .Mx("ehlo4xx", 20, "mx2.ehlo4xx", TestAddresses.Delivery.FourXxBackup)

            // Three domains of mixed recipients in one SendAsync: alpha, beta and elsewhere.test (a zone of its own).
            .Mx("alpha", 10, "mx.alpha", TestAddresses.Delivery.Alpha)
            .Mx("beta", 10, "mx.beta", TestAddresses.Delivery.Beta)

            // An internationalised domain: bücher.deliver.test.
            .Mx("xn--bcher-kva", 10, "mx.xn--bcher-kva", TestAddresses.Delivery.Idn)

            // More than 100 recipients: several transactions on one connection.
            .Mx("bulk", 10, "mx.bulk", TestAddresses.Delivery.Bulk)

            // Permanent refusals: 5xx to MAIL (the backup must never be asked), 5xx after DATA, Gmail's 421-4.7.0.
            .Mx("mailreject", 10, "mx1.mailreject", TestAddresses.Delivery.MailRejectPrimary)
            .Mx("mailreject", 20, "mx2.mailreject", TestAddresses.Delivery.MailRejectBackup)
            .Mx("datareject", 10, "mx.datareject", TestAddresses.Delivery.DataReject)
            .Mx("gmail421", 10, "mx.gmail421", TestAddresses.Delivery.Gmail421)

            // A greylisting server (aiosmtpd, greylist_server.py), and Postfix's smtp-sink.
            .Mx("greylist", 10, "mx.greylist", TestAddresses.Delivery.Greylist)
            .Mx("sink", 10, "mx.sink", TestAddresses.Delivery.Sink)

            // Null MX (RFC 7505): the A record is a trap that must never be connected to.
            .NullMx("nullmx").A("nullmx", TestAddresses.Delivery.NullMxTrap)

            // (nosuch.deliver.test does not exist: NXDOMAIN.)

            // An MX on a loopback address, with the mailer's AllowPrivateTargets = false: no connection may be attempted.
            .Mx("private", 10, "mx.private", TestAddresses.Delivery.Private)

            // Every MX silently drops SYNs (listeners whose accept queue is full): every connection times out.
            .Mx("blackhole", 10, "mx1.blackhole", TestAddresses.Delivery.BlackholePrimary)
            .Mx("blackhole", 20, "mx2.blackhole", TestAddresses.Delivery.BlackholeBackup)

            // The address budget with AllowPrivateTargets off: five private addresses at the preferred MX, a public one at
            // the backup (DeliveryReviewDnsTests reads the candidate list; nothing ever connects to these: data only).
            .Mx("budget", 10, "mx1.budget")
            .A("mx1.budget", "10.0.0.1").A("mx1.budget", "10.0.0.2").A("mx1.budget", "10.0.0.3").A("mx1.budget", "10.0.0.4").A("mx1.budget", "10.0.0.5")
            .Mx("budget", 20, "mx2.budget").A("mx2.budget", "11.0.0.1")

            // A server that stalls (cancellation), and one for connection pooling.
            .Mx("slow", 10, "mx.slow", TestAddresses.Delivery.Slow)
            .Mx("pool", 10, "mx.pool", TestAddresses.Delivery.Pool);

        // The concurrency test: four domains, one server each.
        for (var i = 0; i < TestAddresses.Delivery.Concurrency.Length; i++)
        {
            zone.Mx($"c{i + 1}", 10, $"mx.c{i + 1}", TestAddresses.Delivery.Concurrency[i]);
        }

        // The dependency-injection tests.
        zone.Mx("di", 10, "mx.di", TestAddresses.Delivery.DependencyInjection);

        // MTA-STS (Security/MtaSts/MtaStsDeliveryTests.cs): each domain's _mta-sts TXT record, its policy host
        // mta-sts.<domain> (one HTTPS server serves them all, by SNI) and its MX hosts (SMTP servers with STARTTLS and
        // certificates from the tests' CA).
        MtaStsDomain(zone, "sts-enforce", "v=STSv1; id=20261201a;", (10, "mx", MtaSts.Enforce));
        MtaStsDomain(zone, "sts-wrongcert", "v=STSv1; id=1;", (10, "mx", MtaSts.WrongCert));

        // The preferred MX is outside the policy (an attacker's, say); the backup is in it.
        MtaStsDomain(zone, "sts-outside", "v=STSv1; id=1;", (10, "evil", MtaSts.OutsideEvil), (20, "mx", MtaSts.Outside));
        MtaStsDomain(zone, "sts-stripped", "v=STSv1; id=1;", (10, "mx", MtaSts.Stripped));
        MtaStsDomain(zone, "sts-testing", "v=STSv1; id=1;", (10, "mx", MtaSts.Testing));
        MtaStsDomain(zone, "sts-cached", "v=STSv1; id=1;", (10, "mx", MtaSts.Cached));
        MtaStsDomain(zone, "sts-redirect", "v=STSv1; id=1;", (10, "mx", MtaSts.Redirect));
        MtaStsDomain(zone, "sts-oversized", "v=STSv1; id=1;", (10, "mx", MtaSts.Oversized));

        // Two domains sharing one MX host: sts-poolplain has no policy, sts-poolsecure enforces one (the pool must keep them apart).
        zone.Mx("sts-poolplain", 10, "mx.sts-poolsecure");
        MtaStsDomain(zone, "sts-poolsecure", "v=STSv1; id=1;", (10, "mx", MtaSts.Pool));

        // The policy fetch's timeout and failures, expired MX certificates, mode none (MtaStsFetchTests.cs): policy hosts
        // that accept and never answer (sts-hang) and that refuse (sts-refused).
        MtaStsDomain(zone, "sts-hang", "v=STSv1; id=1;", MtaSts.SilentPolicyHost.Address, (10, "mx", MtaSts.Hang));
        MtaStsDomain(zone, "sts-refused", "v=STSv1; id=1;", MtaSts.RefusedPolicyHost.Address, (10, "mx", MtaSts.Refused));
        MtaStsDomain(zone, "sts-slowcached", "v=STSv1; id=1;", (10, "evil", MtaSts.SlowCachedEvil), (20, "mx", MtaSts.SlowCached));
        MtaStsDomain(zone, "sts-expired", "v=STSv1; id=1;", (10, "mx", MtaSts.Expired));
        MtaStsDomain(zone, "sts-notyet", "v=STSv1; id=1;", (10, "mx", MtaSts.NotYet));
        MtaStsDomain(zone, "sts-none", "v=STSv1; id=1;", (10, "other", MtaSts.None));

        // REQUIRETLS (Security/TlsRpt/RequireTlsTests.cs): MTA-STS enforce MX hosts offering REQUIRETLS or not, and a domain with no policy.
        MtaStsDomain(zone, "rtls-ok", "v=STSv1; id=1;", (10, "mx", RequireTls.Ok));
        MtaStsDomain(zone, "rtls-lacking", "v=STSv1; id=1;", (10, "mx", RequireTls.Lacking), (20, "mx2", RequireTls.LackingBackup));
        zone.Mx("rtls-nopolicy", 10, "mx.rtls-nopolicy", RequireTls.NoPolicy);

        // TLS-Required: No (RFC 8689 section 5; Security/TlsRpt/TlsRequiredNoTests.cs): two MTA-STS domains whose only MX
        // presents a certificate for another name, so enforce refuses it.
        MtaStsDomain(zone, "tlsno-one", "v=STSv1; id=1;", (10, "mx", TlsRequiredNo.One));
        MtaStsDomain(zone, "tlsno-two", "v=STSv1; id=1;", (10, "mx", TlsRequiredNo.Two));
        return zone.Build();
    }

    /// <summary>A second zone of the delivery tests, served with deliver.test: the MX is at the apex.</summary>
    public static NsdZone ElsewhereTest() => new ZoneBuilder("elsewhere.test")
        .WithSoa("ns.deliver.test.", "hostmaster.deliver.test.")
        .WithNameServer("ns.deliver.test.")
        .Mx("@", 10, "mx", TestAddresses.Delivery.Elsewhere)
        .Build();

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

    /// <summary>An MTA-STS domain on the shared policy host: its MX records (each host <c>LABEL.DOMAIN</c>), <c>_mta-sts</c> and <c>mta-sts</c>.</summary>
    private static void MtaStsDomain(ZoneBuilder zone, string domain, string record, params (int Preference, string Label, IPAddress Address)[] mx) =>
        MtaStsDomain(zone, domain, record, MtaSts.PolicyHost.Address, mx);

    /// <summary>An MTA-STS domain whose policy host is <paramref name="policyHost"/>.</summary>
    private static void MtaStsDomain(ZoneBuilder zone, string domain, string record, IPAddress policyHost, params (int Preference, string Label, IPAddress Address)[] mx)
    {
        foreach (var (preference, label, address) in mx)
        {
            zone.Mx(domain, preference, $"{label}.{domain}", address);
        }

        zone.Txt("_mta-sts." + domain, record).A("mta-sts." + domain, policyHost);
    }
}
