using System.Net;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// Every fixed loopback address and port the test fixtures listen on and the test zones name, in one place: the zones
/// (built with <see cref="ZoneBuilder"/>) and the servers both take their addresses from here, so they cannot drift
/// apart. One class per purpose. An <see cref="IPEndPoint"/> is one listener; an <see cref="IPAddress"/> (or an array
/// of them) listens on its class's <c>Port</c>. <c>TestAddressesTests</c> checks that no two entries claim one address
/// and port, so two fixtures cannot fight over a listener (the tests run in their own network namespace, where all of
/// 127.0.0.0/8 is routed to lo). Not here: the addresses a test class hands out to itself one at a time from a range of
/// its own (<c>NewAddress()</c>), and servers on ports the system picks.
/// </summary>
public static class TestAddresses
{
    /// <summary>The port of every test name server (NSD, unbound) unless a class says otherwise.</summary>
    public const int DnsPort = 10053;

    /// <summary>The port of the test SMTP servers that the mailer reaches through DNS (its <c>Port</c> option applies to every MX).</summary>
    public const int SmtpPort = 10025;

    private static IPEndPoint At(string address, int port) => new(IPAddress.Parse(address), port);

    /// <summary>The MX resolver tests (<c>Dns/</c>, zone <c>dm.test</c>, whose other addresses are data only).</summary>
    public static class Dns
    {
        /// <summary>NSD serving <c>dm.test</c> and the broken <c>servfail.dm.test</c> (DnsServerFixture).</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.1", DnsPort);

        /// <summary>A UDP socket that reads queries and never answers (the query timeout tests).</summary>
        public static readonly IPEndPoint SilentNameServer = At("127.0.53.2", DnsPort);
    }

    /// <summary>
    /// The delivery end-to-end tests (<c>Delivery/</c>, zones <c>deliver.test</c> and <c>elsewhere.test</c>): every MX host
    /// is an address of 127.0.26.0/24, and every SMTP server of these tests listens on <see cref="Port"/> of its address.
    /// </summary>
    public static class Delivery
    {
        /// <summary>The one SMTP port of every MX (the mailer's <c>Port</c> option applies to all hosts).</summary>
        public const int Port = SmtpPort;

        /// <summary>NSD serving <c>deliver.test</c> and <c>elsewhere.test</c> (DeliveryDnsFixture), shared by the whole run.</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.25", DnsPort);

        /// <summary>mx1.refused and mx.multiaddr's first address: nothing listens (connection refused).</summary>
        public static readonly IPAddress RefusedPrimary = Ip(1);

        /// <summary>mx2.refused and mx.multiaddr's second address.</summary>
        public static readonly IPAddress RefusedBackup = Ip(2);

        /// <summary>mx1.greet421: greets 421.</summary>
        public static readonly IPAddress Greet421Primary = Ip(3);

        /// <summary>mx2.greet421.</summary>
        public static readonly IPAddress Greet421Backup = Ip(4);

        /// <summary>mx1.silent and mx.silentonly: accepts, never greets.</summary>
        public static readonly IPAddress Silent = Ip(5);

        /// <summary>mx2.silent.</summary>
        public static readonly IPAddress SilentBackup = Ip(6);

        /// <summary>mx1.rcpt4xx: RCPT 451.</summary>
        public static readonly IPAddress Rcpt4xxPrimary = Ip(7);

        /// <summary>mx2.rcpt4xx and mx2.ehlo4xx: the backup of both.</summary>
        public static readonly IPAddress FourXxBackup = Ip(8);

        /// <summary>mx1.ehlo4xx: EHLO 451.</summary>
        public static readonly IPAddress Ehlo4xxPrimary = Ip(9);

        /// <summary>mx.alpha (mixed recipients of three domains).</summary>
        public static readonly IPAddress Alpha = Ip(10);

        /// <summary>mx.beta.</summary>
        public static readonly IPAddress Beta = Ip(11);

        /// <summary>mx.elsewhere.test, the MX of the other zone.</summary>
        public static readonly IPAddress Elsewhere = Ip(12);

        /// <summary>The MX of bücher.deliver.test.</summary>
        public static readonly IPAddress Idn = Ip(13);

        /// <summary>mx.bulk: more than 100 recipients.</summary>
        public static readonly IPAddress Bulk = Ip(14);

        /// <summary>mx1.mailreject: 5xx to MAIL.</summary>
        public static readonly IPAddress MailRejectPrimary = Ip(15);

        /// <summary>mx2.mailreject: must never be asked.</summary>
        public static readonly IPAddress MailRejectBackup = Ip(16);

        /// <summary>mx.datareject: 5xx after DATA.</summary>
        public static readonly IPAddress DataReject = Ip(17);

        /// <summary>mx.gmail421: Gmail's 421-4.7.0.</summary>
        public static readonly IPAddress Gmail421 = Ip(18);

        /// <summary>mx.greylist: aiosmtpd greylisting (greylist_server.py).</summary>
        public static readonly IPAddress Greylist = Ip(20);

        /// <summary>mx.sink: Postfix's smtp-sink.</summary>
        public static readonly IPAddress Sink = Ip(21);

        /// <summary>The A record of the null-MX domain: a trap that must never be connected to.</summary>
        public static readonly IPAddress NullMxTrap = Ip(22);

        /// <summary>mx.private: must not be connected to with AllowPrivateTargets = false.</summary>
        public static readonly IPAddress Private = Ip(30);

        /// <summary>mx1.blackhole: drops SYNs (a full accept queue).</summary>
        public static readonly IPAddress BlackholePrimary = Ip(50);

        /// <summary>mx2.blackhole.</summary>
        public static readonly IPAddress BlackholeBackup = Ip(51);

        /// <summary>mx.slow: stalls (cancellation).</summary>
        public static readonly IPAddress Slow = Ip(52);

        /// <summary>mx.pool: connection pooling.</summary>
        public static readonly IPAddress Pool = Ip(53);

        /// <summary>mx.c1 to mx.c4: the concurrency test, one server each.</summary>
        public static readonly IPAddress[] Concurrency = [Ip(60), Ip(61), Ip(62), Ip(63)];

        /// <summary>mx.di: the dependency-injection tests.</summary>
        public static readonly IPAddress DependencyInjection = Ip(70);

        /// <summary>Not in any zone: the target of a fake resolver in the DI tests.</summary>
        public static readonly IPAddress FakeResolverTarget = Ip(71);

        /// <summary>mx.dualstack's and mx.v4only's IPv4 address.</summary>
        public static readonly IPAddress DualStack = Ip(80);

        /// <summary>mx.dualstack's IPv6 address (::1).</summary>
        public static readonly IPAddress DualStackV6 = IPAddress.IPv6Loopback;

        public static IPEndPoint EndPoint(IPAddress address) => new(address, Port);

        private static IPAddress Ip(int last) => IPAddress.Parse("127.0.26." + last);
    }

    /// <summary>
    /// MTA-STS (<c>Security/MtaSts/</c>, in <c>deliver.test</c>): the policy hosts <c>mta-sts.&lt;domain&gt;</c> and the MX
    /// hosts (SMTP servers with STARTTLS, on <see cref="Port"/>).
    /// </summary>
    public static class MtaSts
    {
        public const int Port = Delivery.Port;

        /// <summary>Kestrel serving every domain's policy, by SNI (MtaStsFixture).</summary>
        public static readonly IPEndPoint PolicyHost = At("127.0.29.1", 443);

        /// <summary>The policy host of sts-hang: accepts, never answers.</summary>
        public static readonly IPEndPoint SilentPolicyHost = At("127.0.43.1", 443);

        /// <summary>The policy host of sts-refused: nothing listens.</summary>
        public static readonly IPEndPoint RefusedPolicyHost = At("127.0.43.2", 443);

        /// <summary>mx.sts-enforce.</summary>
        public static readonly IPAddress Enforce = Ip(1);

        /// <summary>mx.sts-wrongcert.</summary>
        public static readonly IPAddress WrongCert = Ip(2);

        /// <summary>evil.sts-outside: the preferred MX, outside the policy.</summary>
        public static readonly IPAddress OutsideEvil = Ip(3);

        /// <summary>mx.sts-outside: the backup, in the policy.</summary>
        public static readonly IPAddress Outside = Ip(4);

        /// <summary>mx.sts-stripped.</summary>
        public static readonly IPAddress Stripped = Ip(5);

        /// <summary>mx.sts-testing.</summary>
        public static readonly IPAddress Testing = Ip(6);

        /// <summary>mx.sts-cached.</summary>
        public static readonly IPAddress Cached = Ip(7);

        /// <summary>mx.sts-redirect.</summary>
        public static readonly IPAddress Redirect = Ip(8);

        /// <summary>mx.sts-oversized.</summary>
        public static readonly IPAddress Oversized = Ip(9);

        /// <summary>mx.sts-poolsecure, the one MX of sts-poolplain and sts-poolsecure.</summary>
        public static readonly IPAddress Pool = Ip(10);

        /// <summary>mx.sts-hang.</summary>
        public static readonly IPAddress Hang = Ip(14);

        /// <summary>mx.sts-refused.</summary>
        public static readonly IPAddress Refused = Ip(15);

        /// <summary>evil.sts-slowcached: the preferred MX, outside the policy.</summary>
        public static readonly IPAddress SlowCachedEvil = Ip(16);

        /// <summary>mx.sts-slowcached.</summary>
        public static readonly IPAddress SlowCached = Ip(17);

        /// <summary>mx.sts-expired: its certificate expired.</summary>
        public static readonly IPAddress Expired = Ip(18);

        /// <summary>mx.sts-notyet: its certificate is not valid yet.</summary>
        public static readonly IPAddress NotYet = Ip(19);

        /// <summary>other.sts-none: the MX of a domain with policy mode none.</summary>
        public static readonly IPAddress None = IPAddress.Parse("127.0.43.3");

        private static IPAddress Ip(int last) => IPAddress.Parse("127.0.32." + last);
    }

    /// <summary>REQUIRETLS (<c>Security/TlsRpt/RequireTlsTests.cs</c>, the queue's REQUIRETLS tests; in <c>deliver.test</c>).</summary>
    public static class RequireTls
    {
        public const int Port = Delivery.Port;

        /// <summary>mx.rtls-ok: an MTA-STS enforce MX offering REQUIRETLS.</summary>
        public static readonly IPAddress Ok = IPAddress.Parse("127.0.32.20");

        /// <summary>mx.rtls-lacking: the preferred MX, not offering REQUIRETLS.</summary>
        public static readonly IPAddress Lacking = IPAddress.Parse("127.0.32.21");

        /// <summary>mx2.rtls-lacking.</summary>
        public static readonly IPAddress LackingBackup = IPAddress.Parse("127.0.32.22");

        /// <summary>mx.rtls-nopolicy: a domain without MTA-STS.</summary>
        public static readonly IPAddress NoPolicy = IPAddress.Parse("127.0.32.23");
    }

    /// <summary>TLS-Required: No (<c>Security/TlsRpt/TlsRequiredNoTests.cs</c>, in <c>deliver.test</c>): MX hosts with a certificate for another name.</summary>
    public static class TlsRequiredNo
    {
        public const int Port = Delivery.Port;

        /// <summary>mx.tlsno-one.</summary>
        public static readonly IPAddress One = IPAddress.Parse("127.0.44.1");

        /// <summary>mx.tlsno-two.</summary>
        public static readonly IPAddress Two = IPAddress.Parse("127.0.44.2");
    }

    /// <summary>TLS-RPT (<c>Security/TlsRpt/</c>, zones <c>tlsrpt.test</c> and <c>postfix.test</c>).</summary>
    public static class TlsRpt
    {
        /// <summary>NSD (TlsRptDnsFixture).</summary>
        public static readonly IPEndPoint NameServer = At("127.0.81.53", DnsPort);

        /// <summary>reports.tlsrpt.test: the Kestrel server the https report destinations post to.</summary>
        public static readonly IPEndPoint Reports = At("127.0.81.80", 18443);
    }

    /// <summary>DANE and DNSSEC (<c>Security/Dane/</c>, zone <c>dane.test</c> and its children): MX hosts on <see cref="Port"/>.</summary>
    public static class Dane
    {
        public const int Port = SmtpPort;

        /// <summary>NSD serving the signed zones; authoritative, never sets AD.</summary>
        public static readonly IPEndPoint Authoritative = At("127.0.55.1", DnsPort);

        /// <summary>unbound validating with the test trust anchor.</summary>
        public static readonly IPEndPoint Validating = At("127.0.55.53", DnsPort);

        /// <summary>A UDP socket that never answers (the resolver timeout test).</summary>
        public static readonly IPEndPoint SilentResolver = At("127.0.55.54", DnsPort);

        /// <summary>
        /// The name server of the lame delegation of mx-servfail's TLSA names: an NSD serving another zone only, on port 53
        /// (where unbound asks a delegated server).
        /// </summary>
        public static readonly IPEndPoint LameNameServer = At("127.0.43.20", 53);

        /// <summary>mx-ee: DANE-EE.</summary>
        public static readonly IPAddress Ee = Ip(25);

        /// <summary>mx-ta: DANE-TA.</summary>
        public static readonly IPAddress Ta = Ip(26);

        /// <summary>mx-wrong: TLSA naming another key.</summary>
        public static readonly IPAddress Wrong = Ip(27);

        /// <summary>mx-plain: no STARTTLS.</summary>
        public static readonly IPAddress Plain = Ip(28);

        /// <summary>mx-unusable: only PKIX-EE and PKIX-TA records.</summary>
        public static readonly IPAddress Unusable = Ip(29);

        /// <summary>mx-bogus: its TLSA record changed after signing.</summary>
        public static readonly IPAddress Bogus = Ip(30);

        /// <summary>mx.insecure: in the unsigned child zone.</summary>
        public static readonly IPAddress Insecure = Ip(31);

        /// <summary>mx-notlsa: signed, no TLSA records.</summary>
        public static readonly IPAddress NoTlsa = Ip(32);

        /// <summary>mx-real, the target of the CNAME mx-alias.</summary>
        public static readonly IPAddress Alias = Ip(33);

        /// <summary>mx.expired: in the child zone whose signatures expired.</summary>
        public static readonly IPAddress Expired = Ip(34);

        /// <summary>mx-wrong2: the second MX of mismatch.</summary>
        public static readonly IPAddress Wrong2 = Ip(35);

        /// <summary>mx-backup: the right key, behind mx-wrong.</summary>
        public static readonly IPAddress Backup = Ip(36);

        /// <summary>mx-servfail: its TLSA lookup fails with SERVFAIL (the lame delegation).</summary>
        public static readonly IPAddress Servfail = IPAddress.Parse("127.0.43.21");

        private static IPAddress Ip(int last) => IPAddress.Parse("127.0.55." + last);
    }

    /// <summary>The sender doctor (<c>Doctor/</c>, zones <c>doctor.test</c> and <c>2.0.192.in-addr.arpa</c>).</summary>
    public static class Doctor
    {
        /// <summary>NSD (DoctorDnsFixture). Its address is also mx.probe.doctor.test, where the port 25 probe test listens on a port the system picks.</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.27", DnsPort);
    }

    /// <summary>DKIM (<c>Dkim/</c>, zones <c>dkim.test</c> and <c>football.example.com</c>).</summary>
    public static class Dkim
    {
        /// <summary>NSD (DkimDnsFixture), asked by the verifiers for the public keys.</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.129", DnsPort);
    }

    /// <summary>The CLI tests (<c>Cli/</c>, zone <c>cli.test</c>): SMTP servers on <see cref="Port"/> of 127.0.28.0/24.</summary>
    public static class Cli
    {
        public const int Port = SmtpPort;

        /// <summary>NSD serving <c>cli.test</c> (CliServers).</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.28", DnsPort);

        /// <summary>NSD serving <c>cli-dkim.test</c> (CliDkimKey).</summary>
        public static readonly IPEndPoint DkimNameServer = At("127.0.53.31", DnsPort);

        /// <summary>mx1.twomx's two addresses (nothing listens).</summary>
        public static readonly IPAddress[] TwoMxPrimary = [Ip(1), Ip(2)];

        /// <summary>mx2.twomx (nothing listens).</summary>
        public static readonly IPAddress TwoMxBackup = Ip(3);

        /// <summary>implicit.cli.test's own address, its implicit MX (nothing listens).</summary>
        public static readonly IPAddress Implicit = Ip(4);

        /// <summary>The null-MX domain's A record: must never be used.</summary>
        public static readonly IPAddress NullMxTrap = Ip(5);

        /// <summary>mx.mail.cli.test: the scripted SMTP server of the send tests (CliServers).</summary>
        public static readonly IPAddress Mail = Ip(10);

        /// <summary>The scripted server of the injection tests, reached through an address literal.</summary>
        public static readonly IPAddress Injection = Ip(11);

        /// <summary>The send-flag tests' STARTTLS server.</summary>
        public static readonly IPAddress Tls = Ip(20);

        /// <summary>The send-flag tests' server that never greets.</summary>
        public static readonly IPAddress Silent = Ip(21);

        /// <summary>The send-flag tests' server that notes the client's address.</summary>
        public static readonly IPAddress Noting = Ip(22);

        /// <summary>Where nothing listens (connection refused).</summary>
        public static readonly IPAddress Refused = Ip(23);

        private static IPAddress Ip(int last) => IPAddress.Parse("127.0.28." + last);
    }

    /// <summary>A relay named by a host name (<c>Routing/RelayHostResolutionTests.cs</c>, zone <c>relay-route.test</c>).</summary>
    public static class RelayRoute
    {
        /// <summary>NSD (RelayZoneFixture).</summary>
        public static readonly IPEndPoint NameServer = At("127.0.53.40", DnsPort);

        /// <summary>smtp.relay-route.test (and its alias submission, and dual's A): the scripted relay, implicit TLS.</summary>
        public static readonly IPEndPoint Relay = At("127.0.31.60", 10465);

        /// <summary>dual.relay-route.test's AAAA (::1): nothing listens there.</summary>
        public static readonly IPEndPoint RelayV6 = new(IPAddress.IPv6Loopback, 10465);
    }

    /// <summary>The queue's crash tests (<c>Queue/Crash/</c>, zones <c>crash.test</c> and <c>postfix.test</c>).</summary>
    public static class Crash
    {
        public const int Port = SmtpPort;

        /// <summary>NSD serving both zones to the probe processes.</summary>
        public static readonly IPEndPoint NameServer = At("127.0.41.53", DnsPort);

        /// <summary>mx.one.crash.test: aiosmtpd (CrashSinkServer).</summary>
        public static readonly IPAddress SinkOne = IPAddress.Parse("127.0.41.1");

        /// <summary>mx.two.crash.test: aiosmtpd.</summary>
        public static readonly IPAddress SinkTwo = IPAddress.Parse("127.0.41.2");
    }

    /// <summary>The private Postfix instance of the Postfix collection (PostfixFixture).</summary>
    public static class Postfix
    {
        public const int Port = SmtpPort;

        public const int SubmissionsPort = 10465;

        public const int SubmissionPort = 10587;

        /// <summary>Postfix's SMTP listener (and, on the ports below, its submission listeners).</summary>
        public static readonly IPAddress Address = IPAddress.Parse("127.0.25.10");

        /// <summary>Submission with implicit TLS.</summary>
        public static readonly IPEndPoint Submissions = new(Address, SubmissionsPort);

        /// <summary>Submission with STARTTLS.</summary>
        public static readonly IPEndPoint Submission = new(Address, SubmissionPort);

        /// <summary>Where Postfix relays mail for relayed.postfix.test: a test's server answers there.</summary>
        public static readonly IPEndPoint RelayTarget = At("127.0.25.77", 10077);
    }

    /// <summary>The PostgreSQL servers of the queue tests.</summary>
    public static class PostgreSql
    {
        /// <summary>The shared server of the PostgreSQL queue tests (PostgreSqlFixture).</summary>
        public static readonly IPEndPoint Shared = At("127.0.54.32", 55432);

        /// <summary>The crash test's own server, fsync on (PostgreSqlCrashStore).</summary>
        public static readonly IPEndPoint Crash = At("127.0.54.41", 55441);
    }
}
