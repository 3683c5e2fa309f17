using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using DirectMail.MimeKit;
using DirectMail.Smtp;
using MimeKit;
using static DirectMail.Tests.Mime.MimeTestSupport;

namespace DirectMail.Tests.Mime;

public class MimeKitAdapterTests
{
    private static readonly SmtpCapabilities EightBitOnly = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME" }));

    private static MimeMessage NewMessage()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Siti", "siti@example.com"));
        message.To.Add(new MailboxAddress("张伟", "zhang@example.cn"));
        message.Cc.Add(new MailboxAddress(null, "cc@example.com"));
        message.Bcc.Add(new MailboxAddress("Hidden Person", "hidden@example.net"));
        message.Subject = "Café ☕ 会议";
        var builder = new BodyBuilder { TextBody = "Crème brûlée, 中文, مرحبا\n", HtmlBody = "<p>Crème brûlée</p>" };
        builder.Attachments.Add("résumé.pdf", new byte[] { 1, 2, 3, 200 });
        message.Body = builder.ToMessageBody();
        return message;
    }

    private static byte[] WriteMime(MimeMessageContent content, SmtpCapabilities capabilities)
    {
        using var output = new MemoryStream();
        content.WriteToAsync(output, capabilities, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var bytes = output.ToArray();
        AssertWireForm(bytes, capabilities.Supports(SmtpExtensions.EightBitMime) || capabilities.Supports(SmtpExtensions.SmtpUtf8));
        return bytes;
    }

    [Fact]
    public void The_envelope_comes_from_from_and_to_cc_bcc()
    {
        var envelope = NewMessage().CreateEnvelope();
        Assert.Equal("siti@example.com", envelope.Sender);
        Assert.Equal(new[] { "zhang@example.cn", "cc@example.com", "hidden@example.net" }, envelope.Recipients);
    }

    [Fact]
    public void Sender_overrides_from_groups_are_expanded_and_duplicates_removed()
    {
        var message = NewMessage();
        message.Sender = new MailboxAddress("Bounces", "bounces@lists.example.com");
        message.To.Add(new GroupAddress("Team", new InternetAddress[] { new MailboxAddress("A", "a@example.com"), new MailboxAddress("Z", "zhang@example.cn") }));
        var envelope = MimeMessageContent.CreateEnvelope(message);
        Assert.Equal("bounces@lists.example.com", envelope.Sender);
        Assert.Equal(new[] { "zhang@example.cn", "a@example.com", "cc@example.com", "hidden@example.net" }, envelope.Recipients);
    }

    [Fact]
    public void Resent_fields_decide_the_envelope_when_present()
    {
        var message = NewMessage();
        message.ResentFrom.Add(new MailboxAddress("Forwarder", "fwd@example.org"));
        message.ResentTo.Add(new MailboxAddress("New", "new@example.org"));
        message.ResentBcc.Add(new MailboxAddress("Secret", "secret@example.org"));
        var envelope = message.CreateEnvelope();
        Assert.Equal("fwd@example.org", envelope.Sender);
        Assert.Equal(new[] { "new@example.org", "secret@example.org" }, envelope.Recipients);
        var bytes = WriteMime(message.ToSmtpContent(), EightBit);
        Assert.DoesNotContain("secret@example.org", Ascii(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void No_sender_or_no_recipient_are_clear_errors()
    {
        var noRecipient = new MimeMessage();
        noRecipient.From.Add(new MailboxAddress(null, "a@example.com"));
        Assert.Contains("no recipient", Assert.Throws<InvalidOperationException>(() => noRecipient.CreateEnvelope()).Message, StringComparison.Ordinal);
        var noSender = new MimeMessage();
        noSender.To.Add(new MailboxAddress(null, "a@example.com"));
        Assert.Contains("Sender or From", Assert.Throws<InvalidOperationException>(() => noSender.CreateEnvelope()).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void Bcc_is_never_written_and_the_message_reads_back(bool eightBitMime)
    {
        var message = NewMessage();
        var bytes = WriteMime(message.ToSmtpContent(), Capabilities(eightBitMime));
        Assert.DoesNotContain("hidden@example.net", Ascii(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain("\nBcc:", Ascii(bytes), StringComparison.OrdinalIgnoreCase);
        var parsed = Parse(bytes);
        Assert.Empty(parsed.Bcc);
        Assert.Equal("Café ☕ 会议", parsed.Subject);
        Assert.Equal("张伟", parsed.To.Mailboxes.Single().Name);
        Assert.Equal("Crème brûlée, 中文, مرحبا\n", parsed.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("résumé.pdf", parsed.Attachments.Single().ContentDisposition!.FileName);
        Assert.Single(message.Bcc); // the message itself keeps its Bcc
    }

    [Fact]
    public void Without_8bitmime_every_part_is_encoded_to_7bit()
    {
        var content = NewMessage().ToSmtpContent();
        Assert.Equal(SmtpBodyType.SevenBit, content.GetBodyType(SevenBit));
        var bytes = WriteMime(content, SevenBit);
        Assert.DoesNotContain(bytes, b => b >= 0x80);
        foreach (var part in Parse(bytes).BodyParts.OfType<MimePart>())
        {
            Assert.NotEqual(ContentEncoding.EightBit, part.ContentTransferEncoding);
            Assert.NotEqual(ContentEncoding.Binary, part.ContentTransferEncoding);
        }
    }

    [Fact]
    public void With_8bitmime_8bit_text_is_kept_and_headers_are_encoded_words_without_smtputf8()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Ünsal", "u@example.com"));
        message.To.Add(new MailboxAddress(null, "b@example.com"));
        message.Subject = "Grüße";
        message.Body = new TextPart("plain") { Text = "Grüße aus München", ContentTransferEncoding = ContentEncoding.EightBit };
        var content = message.ToSmtpContent();
        Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBitOnly));
        var bytes = WriteMime(content, EightBitOnly);
        var text = Ascii(bytes);
        Assert.Contains("Grüße aus München", text, StringComparison.Ordinal);
        Assert.Contains("Subject: =?", text, StringComparison.Ordinal);
        Assert.Equal("Grüße", Parse(bytes).Subject);

        // With SMTPUTF8 the headers may be UTF-8 (RFC 6532): MimeKit's International option.
        var international = Ascii(WriteMime(content, EightBit));
        Assert.Contains("Subject: Grüße", international, StringComparison.Ordinal);
    }

    [Fact]
    public void A_utf8_local_part_requires_smtputf8()
    {
        var message = NewMessage();
        Assert.False(message.ToSmtpContent().RequiresSmtpUtf8);
        message.To.Add(new MailboxAddress("User", "用户@example.com"));
        Assert.True(message.ToSmtpContent().RequiresSmtpUtf8);
        var bcc = NewMessage();
        bcc.Bcc.Add(new MailboxAddress(null, "用户@example.com"));
        Assert.False(bcc.ToSmtpContent().RequiresSmtpUtf8);
    }

    [Fact]
    public void Format_options_are_crlf_with_bcc_hidden()
    {
        var options = MimeMessageContent.CreateFormatOptions(EightBitOnly);
        Assert.Equal(NewLineFormat.Dos, options.NewLineFormat);
        Assert.False(options.International);
        Assert.Contains(HeaderId.Bcc, options.HiddenHeaders);
        Assert.True(MimeMessageContent.CreateFormatOptions(EightBit).International);
        var smtpUtf8Only = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "SMTPUTF8" }));
        Assert.False(MimeMessageContent.CreateFormatOptions(smtpUtf8Only).International);
        Assert.Equal(SmtpBodyType.SevenBit, NewMessage().ToSmtpContent().GetBodyType(smtpUtf8Only));
    }
}
