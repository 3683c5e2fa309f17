using System;
using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

public sealed class SmtpEnvelopeTests
{
    [Theory]
    [InlineData("victim@example.com>\r\nRCPT TO:<attacker@evil.test")]
    [InlineData("victim@example.com\nDATA")]
    [InlineData("victim@example.com\r")]
    [InlineData("vic\0tim@example.com")]
    [InlineData("victim@exam\u0085ple.com")]
    public void Control_characters_in_a_recipient_are_refused_before_anything_is_sent(string recipient)
    {
        // Stops: SMTP command injection through an address (an extra RCPT, or DATA with forged content).
        var e = Assert.Throws<ArgumentException>(() => new SmtpEnvelope("sender@example.com", recipient));
        Assert.Equal("recipients", e.ParamName);
        Assert.Contains("control character", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_characters_in_the_sender_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@b.example\r\nRSET", "x@example.com"));
        Assert.Equal("sender", e.ParamName);
    }

    [Theory]
    [InlineData("no-at-sign")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("us er@example.com")]
    [InlineData("<user@example.com>")]
    [InlineData("user@exa mple.com")]
    [InlineData("user@-example.com")]
    [InlineData("a..b@example.com")]
    [InlineData(".a@example.com")]
    [InlineData("user@[300.1.1.1]")]
    [InlineData("user@[IPv6:not-an-address]")]
    public void Malformed_addresses_are_refused(string recipient)
    {
        // Stops: angle brackets or spaces changing the meaning of RCPT TO, and addresses no server can route.
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("sender@example.com", recipient));
    }

    [Theory]
    [InlineData("user@example.com")]
    [InlineData("first.last+tag@sub.example.co.uk")]
    [InlineData("\"quoted name\"@example.com")]
    [InlineData("user@[192.0.2.1]")]
    [InlineData("user@[IPv6:2001:db8::1]")]
    [InlineData("o'brien@example.ie")]
    public void Valid_addresses_are_kept_as_given(string recipient)
    {
        var envelope = new SmtpEnvelope("sender@example.com", recipient);
        Assert.Equal(recipient, envelope.Recipients[0]);
        Assert.Equal(recipient, envelope.GetWireRecipient(0));
        Assert.False(envelope.RecipientNeedsSmtpUtf8(0));
    }

    [Fact]
    public void Unicode_domain_goes_on_the_wire_as_A_labels_and_needs_no_SMTPUTF8()
    {
        var envelope = new SmtpEnvelope("sender@example.com", "info@bücher.example");
        Assert.Equal("info@xn--bcher-kva.example", envelope.GetWireRecipient(0));
        Assert.False(envelope.RecipientNeedsSmtpUtf8(0));
    }

    [Fact]
    public void UTF8_local_part_needs_SMTPUTF8()
    {
        var envelope = new SmtpEnvelope("sender@example.com", "plain@example.com", "用户@例子.example");
        Assert.False(envelope.RecipientNeedsSmtpUtf8(0));
        Assert.True(envelope.RecipientNeedsSmtpUtf8(1));
        Assert.Equal("用户@xn--fsqu00a.example", envelope.GetWireRecipient(1));
    }

    [Fact]
    public void Null_sender_is_allowed_for_bounces()
    {
        var envelope = new SmtpEnvelope(string.Empty, "x@example.com");
        Assert.Equal(string.Empty, envelope.Sender);
    }

    [Fact]
    public void Duplicate_recipients_are_sent_once_with_domain_compared_without_case()
    {
        var envelope = new SmtpEnvelope("s@example.com", "a@Example.com", "a@example.COM", "A@example.com");
        Assert.Equal(new[] { "a@Example.com", "A@example.com" }, envelope.Recipients);
    }

    [Fact]
    public void No_recipient_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new SmtpEnvelope("s@example.com", Array.Empty<string>()));
        Assert.Contains("at least one recipient", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_part_over_64_octets_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("s@example.com", new string('a', 65) + "@example.com"));
    }

    [Theory]
    [InlineData("mail.example.com")]
    [InlineData("localhost")]
    [InlineData("[192.0.2.1]")]
    [InlineData("[IPv6:2001:db8::1]")]
    public void Valid_EHLO_names_are_accepted(string name)
    {
        new SmtpSessionOptions { HeloName = name }.Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData("mail example.com")]
    [InlineData("mail.example.com\r\nMAIL FROM:<x@y>")]
    [InlineData("-bad.example.com")]
    [InlineData("bad-.example.com")]
    [InlineData("[192.0.2]")]
    [InlineData("exa_mple.com")]
    public void Invalid_EHLO_names_are_refused(string name)
    {
        // Stops: a misconfigured or injected EHLO name (receivers reject or mis-score such mail).
        var e = Assert.Throws<ArgumentException>(() => new SmtpSessionOptions { HeloName = name }.Validate());
        Assert.Equal("HeloName", e.ParamName);
    }

    [Fact]
    public void Non_positive_timeouts_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new SmtpSessionOptions { HeloName = "a.example", Timeouts = { RcptTo = TimeSpan.Zero } }.Validate());
        Assert.Equal("Timeouts.RcptTo", e.ParamName);
    }
}
