using System.Net;
using System.Security.Cryptography;
using DirectMail.Doctor;

namespace DirectMail.Tests.Doctor;

/// <summary>SPF macros (RFC 7208 section 7), DKIM key records (RFC 6376 section 3.6.1), DMARC records (RFC 7489 section 6.3) and alignment.</summary>
public sealed class RecordParserTests
{
    private static readonly SpfMacroContext V4 = new(IPAddress.Parse("192.0.2.3"), "strong-bad@email.example.com", "email.example.com", "mx.example.org");

    [Theory]
    // The examples of RFC 7208 section 7.4.
    [InlineData("%{s}", "strong-bad@email.example.com")]
    [InlineData("%{o}", "email.example.com")]
    [InlineData("%{d}", "email.example.com")]
    [InlineData("%{d4}", "email.example.com")]
    [InlineData("%{d3}", "email.example.com")]
    [InlineData("%{d2}", "example.com")]
    [InlineData("%{d1}", "com")]
    [InlineData("%{dr}", "com.example.email")]
    [InlineData("%{d2r}", "example.email")]
    [InlineData("%{l}", "strong-bad")]
    [InlineData("%{l-}", "strong.bad")]
    [InlineData("%{lr}", "strong-bad")]
    [InlineData("%{lr-}", "bad.strong")]
    [InlineData("%{l1r-}", "strong")]
    [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
    [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
    [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
    [InlineData("%{h}", "mx.example.org")]
    [InlineData("%{p}", "unknown")]
    [InlineData("a%%b%_c%-d", "a%b c%20d")]
    [InlineData("%{S}", "strong-bad%40email.example.com")]
    public void Macros_expand_as_in_rfc_7208(string macro, string expected)
    {
        Assert.True(SpfMacro.TryExpand(macro, V4, isDomainSpec: true, out var expanded, out var error), error);
        Assert.Equal(expected, expanded);
    }

    [Fact]
    public void Ipv6_addresses_expand_to_nibbles()
    {
        var v6 = V4 with { Ip = IPAddress.Parse("2001:db8::cb01") };
        Assert.True(SpfMacro.TryExpand("%{ir}.%{v}._spf.%{d2}", v6, isDomainSpec: true, out var expanded, out _));
        Assert.Equal("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com", expanded);
    }

    [Theory]
    [InlineData("%{c}")]
    [InlineData("%{r}")]
    [InlineData("%{t}")]
    [InlineData("%{x}")]
    [InlineData("%{d0}")]
    [InlineData("%{d!}")]
    [InlineData("%{}")]
    [InlineData("%x")]
    [InlineData("%")]
    [InlineData("%{d")]
    public void Invalid_macros_in_domain_specs(string macro)
    {
        Assert.False(SpfMacro.TryExpand(macro, V4, isDomainSpec: true, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Long_expansions_drop_labels_on_the_left()
    {
        var longSender = V4 with { Sender = new string('a', 60) + "." + new string('b', 60) + "." + new string('c', 60) + "." + new string('d', 60) + "@example.com" };
        Assert.True(SpfMacro.TryExpand("%{l}.example.com", longSender, isDomainSpec: true, out var expanded, out _));
        Assert.True(expanded.Length <= 253);
        Assert.StartsWith("b", expanded, System.StringComparison.Ordinal);
        Assert.EndsWith(".example.com", expanded, System.StringComparison.Ordinal);
    }

    // ---- DKIM key records ------------------------------------------------------------------------------------

    [Fact]
    public void Dkim_key_record_parses_with_whitespace_in_the_key()
    {
        using var rsa = RSA.Create(1024);
        var key = System.Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var record = DkimKeyRecord.Parse($"v=DKIM1; k=rsa; t=y:s; h=sha256; p={key[..40]} {key[40..]};", out var error);
        Assert.Null(error);
        Assert.NotNull(record);
        Assert.Equal("rsa", record.KeyType);
        Assert.True(record.IsTesting);
        Assert.False(record.IsRevoked);
        using var imported = record.ImportRsa(out _);
        Assert.Equal(1024, imported!.KeySize);
    }

    [Theory]
    [InlineData("v=DKIM1; k=rsa; p=", null)]
    [InlineData("p=", null)]
    [InlineData("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", null)]
    [InlineData("v=DKIM2; p=", "v=DKIM2")]
    [InlineData("k=rsa; v=DKIM1; p=", "first tag")]
    [InlineData("v=DKIM1; k=dsa; p=AAAA", "k=dsa")]
    [InlineData("v=DKIM1; k=rsa", "p= tag")]
    [InlineData("v=DKIM1; p=not*base64", "base64")]
    [InlineData("v=DKIM1; p=; p=", "twice")]
    [InlineData("v=DKIM1; garbage; p=", "not a tag=value")]
    public void Dkim_key_records(string text, string? error)
    {
        var record = DkimKeyRecord.Parse(text, out var actual);
        if (error is null)
        {
            Assert.NotNull(record);
        }
        else
        {
            Assert.Null(record);
            Assert.Contains(error, actual, System.StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ed25519_key_is_the_32_raw_octets()
    {
        var raw = RandomNumberGenerator.GetBytes(32);
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. raw];
        using var rsa = RSA.Create(1024);
        string? error;

        Assert.Equal(raw, DkimKeyRecord.Parse("v=DKIM1; k=ED25519; p=" + System.Convert.ToBase64String(raw), out _)!.Ed25519Key(out error));
        Assert.Null(error);

        Assert.Null(DkimKeyRecord.Parse("v=DKIM1; k=ed25519; p=" + System.Convert.ToBase64String(spki), out _)!.Ed25519Key(out error));
        Assert.EndsWith("publish p=" + System.Convert.ToBase64String(raw), error, System.StringComparison.Ordinal);

        Assert.Null(DkimKeyRecord.Parse("v=DKIM1; k=ed25519; p=" + System.Convert.ToBase64String(raw[..31]), out _)!.Ed25519Key(out error));
        Assert.StartsWith("p= is 31 octets", error, System.StringComparison.Ordinal);

        Assert.Null(DkimKeyRecord.Parse("v=DKIM1; k=ed25519; p=" + System.Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), out _)!.Ed25519Key(out error));
        Assert.StartsWith("p= holds an RSA key (1024 bits) under k=ed25519", error, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_p_is_revoked()
    {
        Assert.True(DkimKeyRecord.Parse("v=DKIM1; p=", out _)!.IsRevoked);
    }

    // ---- DMARC records ---------------------------------------------------------------------------------------

    [Fact]
    public void Dmarc_record_parses_every_tag()
    {
        var text = "v=DMARC1; p=Quarantine; sp=reject; adkim=s; aspf=r; pct=50; rua=mailto:d@example.com; fo=1";
        Assert.True(DmarcRecord.IsDmarc(text));
        var record = DmarcRecord.Parse(text, out var error);
        Assert.Null(error);
        Assert.NotNull(record);
        Assert.Equal(("quarantine", "reject", false, true, 50, "mailto:d@example.com"), (record.Policy, record.SubdomainPolicy, record.StrictSpf, record.StrictDkim, record.Percent, record.ReportTo));
    }

    [Theory]
    [InlineData("v=DMARC1; p=none", true)]
    [InlineData("v = DMARC1; p=none", true)]
    [InlineData("v=spf1 -all", false)]
    [InlineData("v=DMARC2; p=none", false)]
    [InlineData("p=none; v=DMARC1", false)]
    public void Dmarc_records_are_told_from_other_txt(string text, bool isDmarc)
    {
        Assert.Equal(isDmarc, DmarcRecord.IsDmarc(text));
    }

    [Theory]
    [InlineData("v=DMARC1", "p= tag")]
    [InlineData("v=DMARC1; rua=mailto:a@example.com; p=none", "follow v=DMARC1")]
    [InlineData("v=DMARC1; p=block", "p=block")]
    [InlineData("v=DMARC1; p=none; sp=maybe", "sp=maybe")]
    [InlineData("v=DMARC1; p=none; aspf=x", "aspf=x")]
    [InlineData("v=DMARC1; p=none; pct=101", "pct=101")]
    public void Invalid_dmarc_records(string text, string error)
    {
        Assert.Null(DmarcRecord.Parse(text, out var actual));
        Assert.Contains(error, actual, System.StringComparison.Ordinal);
    }

    // ---- Alignment -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("example.com", "example.com", true, true)]
    [InlineData("bounce.example.com", "example.com", false, true)]
    [InlineData("bounce.example.com", "example.com", true, false)]
    [InlineData("example.com", "news.example.com", false, true)]
    [InlineData("bounce.example.com", "news.example.com", false, true)]
    [InlineData("example.org", "example.com", false, false)]
    [InlineData("a.b.example.com", "c.example.com", false, false)]
    public void Identifier_alignment(string identifier, string from, bool strict, bool aligned)
    {
        Assert.Equal(aligned, SenderDoctor.Aligned(identifier, from, strict));
    }
}
