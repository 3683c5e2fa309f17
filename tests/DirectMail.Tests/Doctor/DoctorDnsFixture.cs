using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Doctor;

/// <summary>
/// The doctor tests' authoritative DNS server: NSD on 127.0.53.27 port 10053 serving <c>doctor.test</c> (one
/// subdomain per case, good and broken) and the reverse zone <c>2.0.192.in-addr.arpa</c>. The zones are written here
/// rather than as files because the DKIM key records carry keys generated for the run: <see cref="SigningKeyPem"/>
/// is the configured private key, published for the good domains; another key is published for the mismatch case.
/// Addresses are documentation ranges (RFC 5737, RFC 3849) used as data only; the one address anything connects to
/// is 127.0.53.27, the port 25 probe's loopback listener.
/// </summary>
public sealed class DoctorDnsFixture : IDisposable
{
    public const string Zone = "doctor.test";

    public const string ReverseZone = "2.0.192.in-addr.arpa";

    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.27");

    public static readonly IPEndPoint EndPoint = new(Address, 10053);

    /// <summary>The sending address the good records are for; its PTR is <see cref="HeloName"/>, which resolves back to it.</summary>
    public static readonly IPAddress SendingIp = IPAddress.Parse("192.0.2.10");

    public const string HeloName = "mail.good.doctor.test";

    public const string Selector = "sel";

    /// <summary>The selector of the Ed25519 key (RFC 8463) that good.doctor.test publishes beside its RSA key.</summary>
    public const string Ed25519Selector = "ed";

    private readonly NsdServer _nsd;

    public DoctorDnsFixture()
    {
        using var signing = RSA.Create(2048);
        using var other = RSA.Create(1024);
        using var small = RSA.Create(768);
        SigningKeyPem = signing.ExportPkcs8PrivateKeyPem();
        OtherKeyPem = other.ExportRSAPrivateKeyPem();
        var ed25519 = DkimEd25519.GenerateKey();
        var otherEd25519 = DkimEd25519.GenerateKey();
        Ed25519KeyPem = ed25519.PrivateKeyPem;
        OtherEd25519KeyPem = otherEd25519.PrivateKeyPem;
        Ed25519PublicKey = ed25519.PublicKey.ToArray();
        var zone = ForwardZone(
            Convert.ToBase64String(signing.ExportSubjectPublicKeyInfo()),
            Convert.ToBase64String(other.ExportSubjectPublicKeyInfo()),
            Convert.ToBase64String(small.ExportSubjectPublicKeyInfo()),
            Convert.ToBase64String(signing.ExportRSAPublicKey()))
            + Ed25519Records(ed25519, otherEd25519, Convert.ToBase64String(signing.ExportSubjectPublicKeyInfo()));
        _nsd = new NsdServer(EndPoint, [new NsdZone(Zone, zone), new NsdZone(ReverseZone, Reverse)]);
    }

    /// <summary>The private key (PKCS#8 PEM) whose public half the good domains publish at <c>sel._domainkey</c>.</summary>
    public string SigningKeyPem { get; }

    /// <summary>A different private key (PKCS#1 PEM), published by <c>other-key.doctor.test</c>.</summary>
    public string OtherKeyPem { get; }

    /// <summary>The Ed25519 private key (PKCS#8 PEM) whose public half good.doctor.test publishes at <c>ed._domainkey</c>.</summary>
    public string Ed25519KeyPem { get; }

    /// <summary>Another Ed25519 private key, published at <c>ed-other._domainkey.good</c>.</summary>
    public string OtherEd25519KeyPem { get; }

    /// <summary>The 32 octets of <see cref="Ed25519KeyPem"/>'s public key.</summary>
    public byte[] Ed25519PublicKey { get; }

    public void Dispose() => _nsd.Dispose();

    /// <summary>
    /// The Ed25519 selectors of good.doctor.test (RFC 8463 section 4.2: p= is the base64 of the 32 raw octets): ed is the
    /// right key, beside the RSA key at sel; ed-other another key; the rest malformed the ways publishers get them wrong.
    /// </summary>
    private static string Ed25519Records(DkimKeyPair ed25519, DkimKeyPair other, string rsaKey)
    {
        var raw = ed25519.PublicKey.ToArray();
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. raw];
        return $"""

            ; Ed25519 (RFC 8463): ed is the right key; ed-other another one; ed-short 31 octets; ed-spki the key wrapped as a
            ; SubjectPublicKeyInfo (the base64 of a PEM PUBLIC KEY); ed-base64 not base64; ed-rsa an RSA key under k=ed25519.
            ed._domainkey.good          TXT     "{ed25519.DnsRecord}"
            ed-other._domainkey.good    TXT     "{other.DnsRecord}"
            ed-short._domainkey.good    TXT     "v=DKIM1; k=ed25519; p={Convert.ToBase64String(raw.AsSpan(0, 31))}"
            ed-spki._domainkey.good     TXT     "v=DKIM1; k=ed25519; p={Convert.ToBase64String(spki)}"
            ed-base64._domainkey.good   TXT     "v=DKIM1; k=ed25519; p={Convert.ToBase64String(raw)[..20]}*{Convert.ToBase64String(raw)[21..]}"
            ed-rsa._domainkey.good      TXT     {Txt("v=DKIM1; k=ed25519; p=" + rsaKey)}

            """;
    }

    /// <summary>A TXT record's data as NSD reads it: character-strings of at most 255 octets.</summary>
    private static string Txt(string value)
    {
        var text = new StringBuilder("( ");
        for (var i = 0; i < value.Length; i += 200)
        {
            text.Append('"').Append(value.AsSpan(i, Math.Min(200, value.Length - i))).Append("\" ");
        }

        return text.Append(')').ToString();
    }

    private static string ForwardZone(string key, string otherKey, string smallKey, string pkcs1Key)
    {
        var dkim = Txt("v=DKIM1; k=rsa; p=" + key);
        var lines = new List<string>
        {
            $$"""
            $ORIGIN {{Zone}}.
            $TTL 300
            @                       SOA     ns.{{Zone}}. hostmaster.{{Zone}}. 1 3600 600 86400 60
            @                       NS      ns
            ns                      A       {{Address}}

            ; good: every record right for 192.0.2.10 with HELO mail.good.doctor.test. SPF through an include and a CIDR.
            good                    MX      10 mail.good
            mail.good               A       192.0.2.10
            good                    TXT     "v=spf1 include:_spf.good.doctor.test ~all"
            good                    TXT     "google-site-verification=not-spf"
            _spf.good               TXT     "v=spf1 ip4:192.0.2.8/29 -all"
            sel._domainkey.good     TXT     {{dkim}}
            _dmarc.good             TXT     "v=DMARC1; p=reject; rua=mailto:dmarc@good.doctor.test"
            other.good              A       192.0.2.99
            bounces.good            MX      10 mail.good
            bounces.good            TXT     "v=spf1 ip4:192.0.2.10 -all"

            ; no-spf: no SPF record (another TXT record only); no-mx: SPF and the rest, no MX and no address.
            no-spf                  MX      10 mail.good
            no-spf                  TXT     "google-site-verification=not-spf"
            no-mx                   TXT     "v=spf1 ip4:192.0.2.10 -all"

            ; spf-without-ip: the record lists other addresses; softfail: ~all after other addresses.
            spf-without-ip          MX      10 mail.good
            spf-without-ip          TXT     "v=spf1 ip4:198.51.100.0/24 a -all"
            spf-without-ip          A       203.0.113.5
            softfail                MX      10 mail.good
            softfail                TXT     "v=spf1 ip4:198.51.100.7 ~all"

            ; two-spf: two v=spf1 records (permerror); bad-syntax: an unknown mechanism; plus-all: anyone may send.
            two-spf                 TXT     "v=spf1 ip4:192.0.2.10 -all"
            two-spf                 TXT     "v=spf1 mx -all"
            bad-syntax              TXT     "v=spf1 ip4:192.0.2.10 foo:bar -all"
            plus-all                MX      10 mail.good
            plus-all                TXT     "v=spf1 +all"

            ; redirect: the policy lives at _spf.redirect; mx-mech: the mx mechanism authorises the MX host's address.
            redirect                MX      10 mail.good
            redirect                TXT     "v=spf1 redirect=_spf.redirect.doctor.test"
            _spf.redirect           TXT     "v=spf1 ip4:192.0.2.10 -all"
            mx-mech                 MX      10 mail.mx-mech
            mail.mx-mech            A       192.0.2.10
            mx-mech                 TXT     "v=spf1 mx -all"

            ; ip6: an IPv6 range; exists: a macro-built name (%{i} is the sending address).
            ip6                     MX      10 mail.good
            ip6                     TXT     "v=spf1 ip6:2001:db8:1::/48 -all"
            exists                  MX      10 mail.good
            exists                  TXT     "v=spf1 exists:%{i}._allow.%{d} -all"
            192.0.2.10._allow.exists A      127.0.0.2

            ; voids: three a: terms naming nothing (more than 2 void lookups).
            voids                   TXT     "v=spf1 a:v1.voids.doctor.test a:v2.voids.doctor.test a:v3.voids.doctor.test ip4:192.0.2.10 -all"

            ; DKIM: no-dkim has no key record; other-key publishes another key; revoked has p= empty; small-key 768 bits;
            ; pkcs1-key publishes the right key as a bare RSAPublicKey; testing has t=y.
            no-dkim                 MX      10 mail.good
            no-dkim                 TXT     "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.no-dkim          TXT     "v=DMARC1; p=quarantine"
            other-key               TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.other-key TXT    {{Txt("v=DKIM1; k=rsa; p=" + otherKey)}}
            revoked                 TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.revoked  TXT     "v=DKIM1; k=rsa; p="
            small-key               TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.small-key TXT    {{Txt("v=DKIM1; k=rsa; p=" + smallKey)}}
            pkcs1-key               TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.pkcs1-key TXT    {{Txt("v=DKIM1; p=" + pkcs1Key)}}
            testing                 TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.testing  TXT     {{Txt("v=DKIM1; k=rsa; t=y; p=" + key)}}

            ; DMARC: no-dmarc has none (and doctor.test has none either); monitor has p=none; sub.inherit has none of its
            ; own and inherits its parent's sp=reject; strict has aspf=s with a MAIL FROM subdomain; bad-dmarc lacks p=.
            no-dmarc                MX      10 mail.good
            no-dmarc                TXT     "v=spf1 ip4:192.0.2.10 -all"
            sel._domainkey.no-dmarc TXT     {{dkim}}
            monitor                 TXT     "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.monitor          TXT     "v=DMARC1; p=none"
            sub.inherit             TXT     "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.inherit          TXT     "v=DMARC1; p=none; sp=reject"
            strict                  TXT     "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.strict           TXT     "v=DMARC1; p=reject; aspf=s; adkim=s"
            bounces.strict          MX      10 mail.good
            bounces.strict          TXT     "v=spf1 ip4:192.0.2.10 -all"
            bad-dmarc               TXT     "v=spf1 ip4:192.0.2.10 -all"
            _dmarc.bad-dmarc        TXT     "v=DMARC1; rua=mailto:x@bad-dmarc.doctor.test"

            ; Reverse DNS: 192.0.2.30's PTR names fwd-mismatch, which resolves to another address.
            fwd-mismatch            A       192.0.2.31

            ; The port 25 probe's target: an MX host on the loopback listener's address.
            probe                   MX      10 mx.probe
            mx.probe                A       {{Address}}
            """,
        };

        // lookups: a chain of 11 includes, one more DNS lookup than RFC 7208 section 4.6.4 allows; lookups10 has exactly 10.
        lines.Add("lookups                 TXT     \"v=spf1 include:l1.lookups.doctor.test -all\"");
        for (var i = 1; i <= 10; i++)
        {
            lines.Add($"l{i}.lookups  TXT \"v=spf1 include:l{i + 1}.lookups.doctor.test -all\"");
        }

        lines.Add("l11.lookups  TXT \"v=spf1 ip4:192.0.2.10 -all\"");
        lines.Add("lookups10               TXT     \"v=spf1 include:l2.lookups.doctor.test -all\"");
        return string.Join('\n', lines) + "\n";
    }

    private static readonly string Reverse = $"""
        $ORIGIN {ReverseZone}.
        $TTL 300
        @       SOA     ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 60
        @       NS      ns.{Zone}.
        10      PTR     mail.good.{Zone}.
        30      PTR     fwd-mismatch.{Zone}.
        ; 192.0.2.20 has no PTR.

        """;
}

[CollectionDefinition(Name)]
public sealed class DoctorCollection : ICollectionFixture<DoctorDnsFixture>
{
    public const string Name = "Doctor (NSD on 127.0.53.27:10053)";
}
