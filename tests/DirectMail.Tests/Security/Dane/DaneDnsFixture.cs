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
/// The SMTP servers of the delivery tests take the addresses 127.0.55.25 and up named here; a lame delegation (the TLSA
/// names of mx-servfail, to an NSD on 127.0.43.20:53 that does not serve them) makes unbound answer SERVFAIL, and that MX host is 127.0.43.21.
/// </summary>
public sealed class DaneDnsFixture : IDisposable
{
    public const string Zone = "dane.test";

    public const int Port = 10053;

    /// <summary>The SMTP port of the delivery tests' servers: every TLSA record is published at <c>_25._tcp</c> and at <c>_10025._tcp</c> (the name follows the port connected to, RFC 6698 section 3).</summary>
    public const int SmtpPort = 10025;

    /// <summary>NSD, authoritative, not validating (its answers never carry AD).</summary>
    public static readonly IPEndPoint AuthoritativeEndPoint = new(IPAddress.Parse("127.0.55.1"), Port);

    /// <summary>unbound, validating with the test trust anchor.</summary>
    public static readonly IPEndPoint ValidatingEndPoint = new(IPAddress.Parse("127.0.55.53"), Port);

    public static readonly IPAddress EeAddress = IPAddress.Parse("127.0.55.25");
    public static readonly IPAddress TaAddress = IPAddress.Parse("127.0.55.26");
    public static readonly IPAddress WrongAddress = IPAddress.Parse("127.0.55.27");
    public static readonly IPAddress PlainAddress = IPAddress.Parse("127.0.55.28");
    public static readonly IPAddress UnusableAddress = IPAddress.Parse("127.0.55.29");
    public static readonly IPAddress BogusAddress = IPAddress.Parse("127.0.55.30");
    public static readonly IPAddress InsecureAddress = IPAddress.Parse("127.0.55.31");
    public static readonly IPAddress NoTlsaAddress = IPAddress.Parse("127.0.55.32");
    public static readonly IPAddress AliasAddress = IPAddress.Parse("127.0.55.33");
    public static readonly IPAddress Wrong2Address = IPAddress.Parse("127.0.55.35");
    public static readonly IPAddress BackupAddress = IPAddress.Parse("127.0.55.36");

    /// <summary>The MX host whose TLSA lookup fails with SERVFAIL (its <c>_tcp</c> names are delegated to <see cref="LameNameServer"/>).</summary>
    public static readonly IPAddress ServfailAddress = IPAddress.Parse("127.0.43.21");

    /// <summary>
    /// The name server of the lame delegation (port 53, where unbound asks a delegated server): an NSD that serves another
    /// zone only, so it answers REFUSED for the TLSA names and unbound says SERVFAIL at once (with nothing listening,
    /// unbound keeps retrying past the mailer's query timeout).
    /// </summary>
    public static readonly IPAddress LameNameServer = IPAddress.Parse("127.0.43.20");

    private readonly DnssecZoneSigner _signer = new();
    private readonly NsdServer _nsd;
    private readonly UnboundServer _unbound;
    private readonly NsdServer _lame;

    public DaneDnsFixture()
    {
        try
        {
            var insecure = $"""
                $ORIGIN insecure.{Zone}.
                $TTL 300
                @ SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 300
                @ NS ns.{Zone}.
                @ MX 10 mx
                mx A {InsecureAddress}
                _25._tcp.mx TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}
                ; an unsigned MX RRset naming a host whose own records are signed
                secure-host MX 10 mx-ee.{Zone}.

                """;

            insecure = WithSmtpPort(insecure);
            var expired = _signer.Sign($"expired.{Zone}", $"""
                $ORIGIN expired.{Zone}.
                $TTL 300
                @ SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 300
                @ NS ns.{Zone}.
                @ MX 10 mx
                mx A 127.0.55.34

                """, DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-10));

            var parent = _signer.Sign(Zone, WithSmtpPort($"""
                $ORIGIN {Zone}.
                $TTL 300
                @ SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 300
                @ NS ns
                ns A {AuthoritativeEndPoint.Address}

                ; DANE-EE: the server's own key
                ee MX 10 mx-ee
                mx-ee A {EeAddress}
                _25._tcp.mx-ee TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}

                ; DANE-TA: the issuing CA of the test CA, by key (as DANE-TA servers publish their issuer: 2 1 1)
                ta MX 10 mx-ta
                mx-ta A {TaAddress}
                _25._tcp.mx-ta TLSA {DaneCertificates.ZoneText(2, 1, 1, TaIntermediate)}

                ; TLSA records naming another key at both MX hosts
                mismatch MX 10 mx-wrong
                mismatch MX 20 mx-wrong2
                mx-wrong A {WrongAddress}
                _25._tcp.mx-wrong TLSA {DaneCertificates.ZoneText(3, 1, 1, OtherCertificate)}
                mx-wrong2 A {Wrong2Address}
                _25._tcp.mx-wrong2 TLSA {DaneCertificates.ZoneText(3, 1, 1, OtherCertificate)}

                ; the first MX's TLSA record names another key, the second's the right one
                backup MX 10 mx-wrong
                backup MX 20 mx-backup
                mx-backup A {BackupAddress}
                _25._tcp.mx-backup TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}

                ; usable TLSA records at a server that offers no STARTTLS
                nostarttls MX 10 mx-plain
                mx-plain A {PlainAddress}
                _25._tcp.mx-plain TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}

                ; only records SMTP cannot use (PKIX-EE, PKIX-TA)
                unusable MX 10 mx-unusable
                mx-unusable A {UnusableAddress}
                _25._tcp.mx-unusable TLSA {DaneCertificates.ZoneText(1, 1, 1, EeCertificate)}
                _25._tcp.mx-unusable TLSA {DaneCertificates.ZoneText(0, 0, 1, TaRoot)}

                ; changed after signing below: bogus
                bogus MX 10 mx-bogus
                mx-bogus A {BogusAddress}
                _25._tcp.mx-bogus TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}

                ; signed, no TLSA records (a validated denial)
                notlsa MX 10 mx-notlsa
                mx-notlsa A {NoTlsaAddress}

                ; an MX host that is a CNAME: the TLSA records are at the name it leads to
                cname MX 10 mx-alias
                mx-alias CNAME mx-real
                mx-real A {AliasAddress}
                _25._tcp.mx-real TLSA {DaneCertificates.ZoneText(3, 1, 1, EeCertificate)}

                ; the TLSA names of mx-servfail (_25._tcp and _10025._tcp) delegated to a name server that does not
                ; answer: a lame delegation, SERVFAIL from unbound, while the MX and address records are signed (secure)
                servfail MX 10 mx-servfail
                mx-servfail A {ServfailAddress}
                _tcp.mx-servfail NS ns-lame
                ns-lame A {LameNameServer}

                insecure NS ns
                expired NS ns
                {expired.DelegationSigner}

                """));

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
            _nsd = new NsdServer(AuthoritativeEndPoint, [new NsdZone(Zone, tampered), new NsdZone("insecure." + Zone, insecure), new NsdZone("expired." + Zone, expired.SignedText)]);
            _lame = new NsdServer(new IPEndPoint(LameNameServer, 53), [new NsdZone("lame.test", "$ORIGIN lame.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A " + LameNameServer + "\n")]);
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

    /// <summary>Each <c>_25._tcp</c> line again at <c>_10025._tcp</c>.</summary>
    private static string WithSmtpPort(string zone)
    {
        var text = new System.Text.StringBuilder();
        foreach (var line in zone.Split('\n'))
        {
            text.Append(line).Append('\n');
            if (line.StartsWith("_25._tcp.", StringComparison.Ordinal))
            {
                text.Append("_").Append(SmtpPort).Append(line.AsSpan(3)).Append('\n');
            }
        }

        return text.ToString();
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
