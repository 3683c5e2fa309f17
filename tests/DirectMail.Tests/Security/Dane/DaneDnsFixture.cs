using System;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.Dane;

/// <summary>
/// A DNSSEC test world on 127.0.55.0/24, made at the start of the run: certificates made in the test, the zone
/// <c>dane.test</c> holding their TLSA records signed with a fresh key by ldns-signzone (<see cref="DnssecZoneSigner"/>),
/// an unsigned delegation <c>insecure.dane.test</c> (no DS: insecure), a signed child <c>expired.dane.test</c> whose
/// signatures expired (bogus), and one TLSA record changed after signing (bogus); NSD serving the three zones on
/// 127.0.55.1:10053, and unbound validating them on 127.0.55.53:10053 with the zone's DS as its only trust anchor.
/// The SMTP servers of the delivery tests take the addresses 127.0.55.25 and up (<see cref="TestAddresses.Dane"/>); a lame delegation (the TLSA
/// names of mx-servfail, to an NSD on 127.0.43.20:53 that does not serve them) makes unbound answer SERVFAIL, and that MX host is 127.0.43.21.
/// </summary>
public sealed class DaneDnsFixture : IDisposable
{
    public const string Zone = "dane.test";

    public const int Port = TestAddresses.DnsPort;

    /// <summary>The SMTP port of the delivery tests' servers: every TLSA record is published at <c>_25._tcp</c> and at <c>_10025._tcp</c> (the name follows the port connected to, RFC 6698 section 3).</summary>
    public const int SmtpPort = TestAddresses.Dane.Port;

    /// <summary>NSD, authoritative, not validating (its answers never carry AD).</summary>
    public static readonly IPEndPoint AuthoritativeEndPoint = TestAddresses.Dane.Authoritative;

    /// <summary>unbound, validating with the test trust anchor.</summary>
    public static readonly IPEndPoint ValidatingEndPoint = TestAddresses.Dane.Validating;

    public static readonly IPAddress EeAddress = TestAddresses.Dane.Ee;
    public static readonly IPAddress TaAddress = TestAddresses.Dane.Ta;
    public static readonly IPAddress WrongAddress = TestAddresses.Dane.Wrong;
    public static readonly IPAddress PlainAddress = TestAddresses.Dane.Plain;
    public static readonly IPAddress UnusableAddress = TestAddresses.Dane.Unusable;
    public static readonly IPAddress BogusAddress = TestAddresses.Dane.Bogus;
    public static readonly IPAddress InsecureAddress = TestAddresses.Dane.Insecure;
    public static readonly IPAddress NoTlsaAddress = TestAddresses.Dane.NoTlsa;
    public static readonly IPAddress AliasAddress = TestAddresses.Dane.Alias;
    public static readonly IPAddress Wrong2Address = TestAddresses.Dane.Wrong2;
    public static readonly IPAddress BackupAddress = TestAddresses.Dane.Backup;

    /// <summary>The MX host whose TLSA lookup fails with SERVFAIL (its <c>_tcp</c> names are delegated to <see cref="LameNameServer"/>).</summary>
    public static readonly IPAddress ServfailAddress = TestAddresses.Dane.Servfail;

    /// <summary>
    /// The name server of the lame delegation (port 53, where unbound asks a delegated server): an NSD that serves another
    /// zone only, so it answers REFUSED for the TLSA names and unbound says SERVFAIL at once (with nothing listening,
    /// unbound keeps retrying past the mailer's query timeout).
    /// </summary>
    public static readonly IPAddress LameNameServer = TestAddresses.Dane.LameNameServer.Address;

    private readonly DnssecZoneSigner _signer = new();
    private readonly NsdServer _nsd;
    private readonly UnboundServer _unbound;
    private readonly NsdServer _lame;

    public DaneDnsFixture()
    {
        try
        {
            var insecure = Child("insecure")
                .Mx("@", 10, "mx", InsecureAddress);
            Tlsa(insecure, "mx", 3, 1, 1, EeCertificate);

            // an unsigned MX RRset naming a host whose own records are signed
            insecure.Mx("secure-host", 10, $"mx-ee.{Zone}.");

            var expired = _signer.Sign($"expired.{Zone}", Child("expired").Mx("@", 10, "mx", TestAddresses.Dane.Expired).Text, DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-10));

            var zone = new ZoneBuilder(Zone)
                .WithSoa($"ns.{Zone}.", $"hostmaster.{Zone}.", minimum: 300)
                .WithNameServer(AuthoritativeEndPoint.Address);

            // DANE-EE: the server's own key
            zone.Mx("ee", 10, "mx-ee", EeAddress);
            Tlsa(zone, "mx-ee", 3, 1, 1, EeCertificate);

            // DANE-TA: the issuing CA of the test CA, by key (as DANE-TA servers publish their issuer: 2 1 1)
            zone.Mx("ta", 10, "mx-ta", TaAddress);
            Tlsa(zone, "mx-ta", 2, 1, 1, TaIntermediate);

            // TLSA records naming another key at both MX hosts
            zone.Mx("mismatch", 10, "mx-wrong").Mx("mismatch", 20, "mx-wrong2");
            zone.A("mx-wrong", WrongAddress);
            Tlsa(zone, "mx-wrong", 3, 1, 1, OtherCertificate);
            zone.A("mx-wrong2", Wrong2Address);
            Tlsa(zone, "mx-wrong2", 3, 1, 1, OtherCertificate);

            // the first MX's TLSA record names another key, the second's the right one
            zone.Mx("backup", 10, "mx-wrong").Mx("backup", 20, "mx-backup", BackupAddress);
            Tlsa(zone, "mx-backup", 3, 1, 1, EeCertificate);

            // usable TLSA records at a server that offers no STARTTLS
            zone.Mx("nostarttls", 10, "mx-plain", PlainAddress);
            Tlsa(zone, "mx-plain", 3, 1, 1, EeCertificate);

            // only records SMTP cannot use (PKIX-EE, PKIX-TA)
            zone.Mx("unusable", 10, "mx-unusable", UnusableAddress);
            Tlsa(zone, "mx-unusable", 1, 1, 1, EeCertificate);
            Tlsa(zone, "mx-unusable", 0, 0, 1, TaRoot);

            // changed after signing below: bogus
            zone.Mx("bogus", 10, "mx-bogus", BogusAddress);
            Tlsa(zone, "mx-bogus", 3, 1, 1, EeCertificate);

            // signed, no TLSA records (a validated denial)
            zone.Mx("notlsa", 10, "mx-notlsa", NoTlsaAddress);

            // an MX host that is a CNAME: the TLSA records are at the name it leads to
            zone.Mx("cname", 10, "mx-alias").Cname("mx-alias", "mx-real").A("mx-real", AliasAddress);
            Tlsa(zone, "mx-real", 3, 1, 1, EeCertificate);

            // the TLSA names of mx-servfail (_25._tcp and _10025._tcp) delegated to a name server that does not
            // answer: a lame delegation, SERVFAIL from unbound, while the MX and address records are signed (secure)
            zone.Mx("servfail", 10, "mx-servfail", ServfailAddress)
                .Ns("_tcp.mx-servfail", "ns-lame")
                .A("ns-lame", LameNameServer)

                // the children: insecure without a DS, expired with one
                .Ns("insecure", "ns")
                .Ns("expired", "ns")
                .Raw(expired.DelegationSigner);
            var parent = _signer.Sign(Zone, zone.Text);

            // A TLSA record changed after signing: its RRSIG no longer verifies (an attacker on the path to the resolver).
            var tampered = Regex.Replace(
                parent.SignedText,
                @"^(_(?:25|10025)\._tcp\.mx-bogus\.dane\.test\.\s+\d+\s+IN\s+TLSA\s+3 1 1 )[0-9a-fA-F]+",
                m => m.Groups[1].Value + Convert.ToHexString(DaneCertificates.Data(OtherCertificate, 1, 1)),
                RegexOptions.Multiline);
            if (tampered == parent.SignedText)
            {
                throw new InvalidOperationException("The TLSA record of mx-bogus was not found in the signed zone to change.\n" + parent.SignedText);
            }

            TrustAnchor = parent.DelegationSigner;
            _nsd = new NsdServer(AuthoritativeEndPoint, [new NsdZone(Zone, tampered), insecure.Build(), new NsdZone("expired." + Zone, expired.SignedText)]);
            _lame = new NsdServer(TestAddresses.Dane.LameNameServer, [new ZoneBuilder("lame.test").WithSoa("ns", "hostmaster", minimum: 300).WithNameServer("ns", LameNameServer).Build()]);
            _unbound = new UnboundServer(ValidatingEndPoint, [TrustAnchor], [(Zone, AuthoritativeEndPoint)], readyWhenValidated: Zone);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The self-signed certificate of mx-ee (and mx-plain, mx-bogus, mx-real): what their DANE-EE records name.</summary>
    public static X509Certificate2 EeCertificate { get; } = DaneCertificates.SelfSigned("mx-ee." + Zone);

    /// <summary>A certificate no TLSA record names except mx-wrong's.</summary>
    public static X509Certificate2 OtherCertificate { get; } = DaneCertificates.SelfSigned("mx-wrong." + Zone);

    /// <summary>The test root CA (not sent by the .NET server, which leaves self-signed roots out of the chain it sends).</summary>
    public static X509Certificate2 TaRoot { get; } = DaneCertificates.Root("DANE Test CA");

    /// <summary>The issuing CA that mx-ta's DANE-TA record names by key, sent by the server after its certificate.</summary>
    public static X509Certificate2 TaIntermediate { get; } = DaneCertificates.Intermediate(TaRoot, "DANE Test Issuing CA");

    /// <summary>mx-ta's certificate, issued by <see cref="TaIntermediate"/>.</summary>
    public static X509Certificate2 TaLeaf { get; } = DaneCertificates.Leaf(TaIntermediate, "mx-ta." + Zone);

    /// <summary>The DS record of dane.test: unbound's trust anchor.</summary>
    public string TrustAnchor { get; } = string.Empty;

    /// <summary>What unbound logged (why an answer was bogus).</summary>
    public string ResolverOutput => _unbound.Output;

    /// <summary>Resolver options that ask the validating resolver only, with short timeouts.</summary>
    public static MxResolverOptions Options(Action<MxResolverOptions>? configure = null)
    {
        var options = new MxResolverOptions
        {
            NameServers = [ValidatingEndPoint],
            QueryTimeout = TimeSpan.FromSeconds(2),
            Retries = 1,
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A child zone of dane.test, served by the same NSD.</summary>
    private static ZoneBuilder Child(string label) => new ZoneBuilder($"{label}.{Zone}")
        .WithSoa($"ns.{Zone}.", $"hostmaster.{Zone}.", minimum: 300)
        .WithNameServer($"ns.{Zone}.");

    /// <summary>A TLSA record of <paramref name="host"/> at <c>_25._tcp</c> and again at <c>_10025._tcp</c> (<see cref="SmtpPort"/>).</summary>
    private static void Tlsa(ZoneBuilder zone, string host, byte usage, byte selector, byte matchingType, X509Certificate2 certificate)
    {
        var data = DaneCertificates.Data(certificate, selector, matchingType);
        zone.Tlsa($"_25._tcp.{host}", usage, selector, matchingType, data)
            .Tlsa($"_{SmtpPort}._tcp.{host}", usage, selector, matchingType, data);
    }

    public void Dispose()
    {
        _unbound?.Dispose();
        _lame?.Dispose();
        _nsd?.Dispose();
        _signer.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DaneDnsCollection : ICollectionFixture<DaneDnsFixture>
{
    public const string Name = "DNSSEC (NSD on 127.0.55.1:10053 with signed zones, unbound validating on 127.0.55.53:10053)";
}
