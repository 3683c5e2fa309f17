using System;
using System.Net;
using DirectMail.Dkim;
using DirectMail.Dns;
using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

/// <summary>The one domain-name rule and the one name-server parser, as every caller sees them.</summary>
public sealed class DomainRulesTests
{
    [Theory]
    [InlineData("user@Example.COM", "example.com")]
    [InlineData("user@example.com.", "example.com")]
    [InlineData("user@Bücher.Example.", "xn--bcher-kva.example")]
    [InlineData("user@[IPv6:2001:DB8::1]", "[ipv6:2001:db8::1]")]
    [InlineData("user@[192.0.2.1]", "[192.0.2.1]")]
    public void An_envelope_gives_each_recipients_domain_in_A_labels_lower_case_without_the_root_dot(string recipient, string domain)
    {
        var envelope = new SmtpEnvelope("sender@example.com", recipient);

        Assert.Equal(domain, envelope.GetRecipientDomain(0));
    }

    [Fact]
    public void Recipient_domains_follow_the_recipients_without_duplicates()
    {
        var envelope = new SmtpEnvelope("sender@example.com", "a@bücher.example", "a@XN--BCHER-KVA.example.", "b@other.example");

        Assert.Equal(2, envelope.Recipients.Count);
        Assert.Equal("xn--bcher-kva.example", envelope.GetRecipientDomain(0));
        Assert.Equal("other.example", envelope.GetRecipientDomain(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => envelope.GetRecipientDomain(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => envelope.GetRecipientDomain(-1));
    }

    [Fact]
    public void The_mailbox_the_resolver_and_DKIM_write_a_Unicode_domain_the_same_way()
    {
        var mailbox = new SmtpEnvelope("sender@example.com", "a@Bücher.Example.").GetRecipientDomain(0);
        var resolver = MxDomain.Parse("Bücher.Example.").Name;
        var dkim = DkimSigner.NormalizeDomain(" Bücher.Example. ");

        Assert.Equal("xn--bcher-kva.example", mailbox);
        Assert.Equal(mailbox, resolver);
        Assert.Equal(mailbox, dkim);
    }

    [Theory]
    [InlineData("192.0.2.53", "192.0.2.53:53")]
    [InlineData(" 192.0.2.53 ", "192.0.2.53:53")]
    [InlineData("127.0.0.1:10053", "127.0.0.1:10053")]
    [InlineData("2001:db8::53", "[2001:db8::53]:53")]
    [InlineData("[2001:db8::53]", "[2001:db8::53]:53")]
    [InlineData("[2001:db8::53]:5353", "[2001:db8::53]:5353")]
    public void Name_servers_are_an_address_with_an_optional_port_53_by_default(string text, string expected)
    {
        Assert.True(MxResolverOptions.TryParseNameServer(text, out var endPoint));
        Assert.Equal(expected, endPoint.ToString());
        Assert.Equal(expected, DirectMail.Doctor.DoctorRequest.ParseNameServer(text).ToString());
        Assert.Equal(IPEndPoint.Parse(expected), DirectMail.Delivery.DirectMailOptions.ParseNameServer(text));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("dns.example")]
    [InlineData("192.0.2.1:")]
    [InlineData("192.0.2.1:0")]
    [InlineData("[2001:db8::53]:0")]
    [InlineData("192.0.2.1:65536")]
    public void Name_servers_that_are_not_an_address_and_port_are_refused(string? text)
    {
        Assert.False(MxResolverOptions.TryParseNameServer(text, out var endPoint));
        Assert.Null(endPoint);
    }
}
