using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// A domain written with its root dot (<c>user@example.com.</c>) names the same mailbox as without it, but RFC 5321
/// (MAIL FROM, RCPT TO) and RFC 5322 (header dot-atom) have no trailing dot: strict servers answer 501, and Postfix
/// stored two copies when both spellings were in one envelope. The dot is removed from every wire form, before
/// de-duplication.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TrailingDotTests
{
    private readonly PostfixFixture _postfix;

    public TrailingDotTests(PostfixFixture postfix) => _postfix = postfix;

    [Theory]
    [InlineData("user@example.com.", "user@example.com")]
    [InlineData("user@Example.COM.", "user@Example.COM")]
    [InlineData("user@bücher.example.", "user@xn--bcher-kva.example")]
    [InlineData("user@bücher.example。", "user@xn--bcher-kva.example")] // the ideographic full stop is a dot to IDNA
    [InlineData("\"a b\"@example.com.", "\"a b\"@example.com")]
    public void The_root_dot_is_not_in_MAIL_FROM_RCPT_TO_or_the_headers(string given, string wire)
    {
        var envelope = new SmtpEnvelope(given, given);
        Assert.Equal(wire, envelope.WireSender);
        Assert.Equal(wire, envelope.GetWireRecipient(0));
        Assert.Equal(given, envelope.Recipients[0]);
        Assert.Equal(given, envelope.Sender);
        Assert.Equal(wire, new EmailAddress(given).Address);
    }

    [Fact]
    public void Both_spellings_are_one_recipient()
    {
        var envelope = new SmtpEnvelope("s@example.com", "a@example.com", "a@example.com.", "a@EXAMPLE.com.", "b@example.com.", "b@example.com");
        Assert.Equal(new[] { "a@example.com", "b@example.com." }, envelope.Recipients);
        Assert.Equal("b@example.com", envelope.GetWireRecipient(1));
        Assert.Equal(new EmailAddress("a@example.com"), new EmailAddress("a@example.com."));
    }

    [Theory]
    [InlineData("user@example.com..")]
    [InlineData("user@.")]
    [InlineData("user@.example.com")]
    [InlineData("user@[192.0.2.1].")]
    public void Only_one_root_dot_after_a_name_is_removed(string address)
    {
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("s@example.com", address));
        Assert.Throws<ArgumentException>(() => new EmailAddress(address));
    }

    [Fact]
    public void A_path_at_the_256_octet_limit_is_not_refused_for_its_root_dot()
    {
        // <u@ + 252 characters + > is 256 octets (RFC 5321 section 4.5.3.1.3); the root dot is not part of the path.
        var label = new string('a', 61);
        var name = $"b{label}.{label}.{label}.{label}.com";
        Assert.Equal(252, name.Length);
        var envelope = new SmtpEnvelope("s@example.com", "u@" + name + ".");
        Assert.Equal("u@" + name, envelope.GetWireRecipient(0));
    }

    [Fact]
    public async Task Postfix_stores_one_copy_when_both_spellings_are_in_one_envelope_and_sees_no_root_dot()
    {
        // Stops: RCPT TO:<a@postfix.test.> beside RCPT TO:<a@postfix.test> (two copies stored) and MAIL FROM with a
        // root dot (501 from strict servers, a Return-Path with the dot).
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("rootdot");
        var message = new EmailMessage
        {
            From = new EmailAddress(Sender + ".", "Sender"),
            Subject = "Root dot",
            TextBody = "One copy.",
            MessageId = NewMessageId(),
        };
        message.To.Add(recipient + ".");
        message.Cc.Add(recipient);
        var envelope = new SmtpEnvelope(Sender + ".", recipient + ".", recipient);
        Assert.Equal(new[] { recipient + "." }, envelope.Recipients);

        await using var session = await ConnectAsync(_postfix, Options(), transcript);
        var result = await session.SendAsync(envelope, message.ToSmtpContent());

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForDeliveryAsync(result);
        var copy = Assert.Single(stored);
        Assert.Equal($"<{Sender}>", copy.ReturnPath);
        Assert.Equal(recipient, copy.DeliveredTo);

        var client = transcript.ClientLines;
        Assert.Contains($"MAIL FROM:<{Sender}>", client.Single(l => l.StartsWith("MAIL FROM:", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(new[] { $"RCPT TO:<{recipient}>" }, client.Where(l => l.StartsWith("RCPT TO:", StringComparison.Ordinal)).ToArray());

        // The headers as stored: RFC 5322 dot-atom domains, no root dot.
        var text = Encoding.UTF8.GetString(copy.Content);
        Assert.Contains($"\r\nFrom: Sender <{Sender}>\r\n", text, StringComparison.Ordinal);
        Assert.Contains($"\r\nTo: {recipient}\r\n", text, StringComparison.Ordinal);
        Assert.Contains($"\r\nCc: {recipient}\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(".>", text, StringComparison.Ordinal);
    }
}
