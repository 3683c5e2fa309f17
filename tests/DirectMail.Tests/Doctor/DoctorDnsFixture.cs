using System;
using System.Net;
using System.Security.Cryptography;
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

    public static readonly IPAddress Address = TestAddresses.Doctor.NameServer.Address;

    public static readonly IPEndPoint EndPoint = TestAddresses.Doctor.NameServer;

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
            Convert.ToBase64String(signing.ExportRSAPublicKey()));
        Ed25519Records(zone, ed25519, otherEd25519, Convert.ToBase64String(signing.ExportSubjectPublicKeyInfo()));
        _nsd = new NsdServer(EndPoint, [zone.Build(), Reverse]);
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
    private static void Ed25519Records(ZoneBuilder zone, DkimKeyPair ed25519, DkimKeyPair other, string rsaKey)
    {
        var raw = ed25519.PublicKey.ToArray();
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. raw];

        // ed is the right key; ed-other another one; ed-short 31 octets; ed-spki the key wrapped as a SubjectPublicKeyInfo
        // (the base64 of a PEM PUBLIC KEY); ed-base64 not base64; ed-rsa an RSA key under k=ed25519.
        zone.Txt("ed._domainkey.good", ed25519.DnsRecord)
            .Txt("ed-other._domainkey.good", other.DnsRecord)
            .Txt("ed-short._domainkey.good", $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(raw.AsSpan(0, 31))}")
            .Txt("ed-spki._domainkey.good", $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(spki)}")
            .Txt("ed-base64._domainkey.good", $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(raw)[..20]}*{Convert.ToBase64String(raw)[21..]}")
            .Txt("ed-rsa._domainkey.good", "v=DKIM1; k=ed25519; p=" + rsaKey);
    }

    private static ZoneBuilder ForwardZone(string key, string otherKey, string smallKey, string pkcs1Key)
    {
        var dkim = "v=DKIM1; k=rsa; p=" + key;
        var zone = new ZoneBuilder(Zone).WithNameServer(Address)
            // good: every record right for 192.0.2.10 with HELO mail.good.doctor.test. SPF through an include and a CIDR.
            .Mx("good", 10, "mail.good")
            .A("mail.good", "192.0.2.10")
            .Txt("good", "v=spf1 include:_spf.good.doctor.test ~all")
            .Txt("good", "google-site-verification=not-spf")
            .Txt("_spf.good", "v=spf1 ip4:192.0.2.8/29 -all")
            .Txt("sel._domainkey.good", dkim)
            .Txt("_dmarc.good", "v=DMARC1; p=reject; rua=mailto:dmarc@good.doctor.test")
            .A("other.good", "192.0.2.99")
            .Mx("bounces.good", 10, "mail.good")
            .Txt("bounces.good", "v=spf1 ip4:192.0.2.10 -all")

            // no-spf: no SPF record (another TXT record only); no-mx: SPF and the rest, no MX and no address.
            .Mx("no-spf", 10, "mail.good")
            .Txt("no-spf", "google-site-verification=not-spf")
            .Txt("no-mx", "v=spf1 ip4:192.0.2.10 -all")

            // spf-without-ip: the record lists other addresses; softfail: ~all after other addresses.
            .Mx("spf-without-ip", 10, "mail.good")
            .Txt("spf-without-ip", "v=spf1 ip4:198.51.100.0/24 a -all")
            .A("spf-without-ip", "203.0.113.5")
            .Mx("softfail", 10, "mail.good")
            .Txt("softfail", "v=spf1 ip4:198.51.100.7 ~all")

            // two-spf: two v=spf1 records (permerror); bad-syntax: an unknown mechanism; plus-all: anyone may send.
            .Txt("two-spf", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("two-spf", "v=spf1 mx -all")
            .Txt("bad-syntax", "v=spf1 ip4:192.0.2.10 foo:bar -all")
            .Mx("plus-all", 10, "mail.good")
            .Txt("plus-all", "v=spf1 +all")

            // redirect: the policy lives at _spf.redirect; mx-mech: the mx mechanism authorises the MX host's address.
            .Mx("redirect", 10, "mail.good")
            .Txt("redirect", "v=spf1 redirect=_spf.redirect.doctor.test")
            .Txt("_spf.redirect", "v=spf1 ip4:192.0.2.10 -all")
            .Mx("mx-mech", 10, "mail.mx-mech")
            .A("mail.mx-mech", "192.0.2.10")
            .Txt("mx-mech", "v=spf1 mx -all")

            // ip6: an IPv6 range; exists: a macro-built name (%{i} is the sending address).
            .Mx("ip6", 10, "mail.good")
            .Txt("ip6", "v=spf1 ip6:2001:db8:1::/48 -all")
            .Mx("exists", 10, "mail.good")
            .Txt("exists", "v=spf1 exists:%{i}._allow.%{d} -all")
            .A("192.0.2.10._allow.exists", "127.0.0.2") // data: the name exists, nothing connects to it

            // voids: three a: terms naming nothing (more than 2 void lookups).
            .Txt("voids", "v=spf1 a:v1.voids.doctor.test a:v2.voids.doctor.test a:v3.voids.doctor.test ip4:192.0.2.10 -all")

            // DKIM: no-dkim has no key record; other-key publishes another key; revoked has p= empty; small-key 768 bits;
            // pkcs1-key publishes the right key as a bare RSAPublicKey; testing has t=y.
            .Mx("no-dkim", 10, "mail.good")
            .Txt("no-dkim", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("_dmarc.no-dkim", "v=DMARC1; p=quarantine")
            .Txt("other-key", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.other-key", "v=DKIM1; k=rsa; p=" + otherKey)
            .Txt("revoked", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.revoked", "v=DKIM1; k=rsa; p=")
            .Txt("small-key", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.small-key", "v=DKIM1; k=rsa; p=" + smallKey)
            .Txt("pkcs1-key", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.pkcs1-key", "v=DKIM1; p=" + pkcs1Key)
            .Txt("testing", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.testing", "v=DKIM1; k=rsa; t=y; p=" + key)

            // DMARC: no-dmarc has none (and doctor.test has none either); monitor has p=none; sub.inherit has none of its
            // own and inherits its parent's sp=reject; strict has aspf=s with a MAIL FROM subdomain; bad-dmarc lacks p=.
            .Mx("no-dmarc", 10, "mail.good")
            .Txt("no-dmarc", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("sel._domainkey.no-dmarc", dkim)
            .Txt("monitor", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("_dmarc.monitor", "v=DMARC1; p=none")
            .Txt("sub.inherit", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("_dmarc.inherit", "v=DMARC1; p=none; sp=reject")
            .Txt("strict", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("_dmarc.strict", "v=DMARC1; p=reject; aspf=s; adkim=s")
            .Mx("bounces.strict", 10, "mail.good")
            .Txt("bounces.strict", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("bad-dmarc", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("_dmarc.bad-dmarc", "v=DMARC1; rua=mailto:x@bad-dmarc.doctor.test")

            // Reverse DNS: 192.0.2.30's PTR names fwd-mismatch, which resolves to another address.
            .A("fwd-mismatch", "192.0.2.31")

            // The port 25 probe's target: an MX host on the loopback listener's address.
            .Mx("probe", 10, "mx.probe", Address);

        // lookups: a chain of 11 includes, one more DNS lookup than RFC 7208 section 4.6.4 allows; lookups10 has exactly 10.
        zone.Txt("lookups", "v=spf1 include:l1.lookups.doctor.test -all");
        for (var i = 1; i <= 10; i++)
        {
            zone.Txt($"l{i}.lookups", $"v=spf1 include:l{i + 1}.lookups.doctor.test -all");
        }

        zone.Txt("l11.lookups", "v=spf1 ip4:192.0.2.10 -all")
            .Txt("lookups10", "v=spf1 include:l2.lookups.doctor.test -all");
        return zone;
    }

    private static readonly NsdZone Reverse = new ZoneBuilder(ReverseZone)
        .WithNameServer($"ns.{Zone}.")
        .WithSoa($"ns.{Zone}.", $"hostmaster.{Zone}.")
        .Ptr("10", $"mail.good.{Zone}.")
        .Ptr("30", $"fwd-mismatch.{Zone}.")
        // 192.0.2.20 has no PTR.
        .Build();
}

[CollectionDefinition(Name)]
public sealed class DoctorCollection : ICollectionFixture<DoctorDnsFixture>
{
    public const string Name = "Doctor (NSD on 127.0.53.27:10053)";
}
