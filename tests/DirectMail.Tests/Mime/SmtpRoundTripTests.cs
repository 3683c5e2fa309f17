using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.MimeKit;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Smtp;
using MimeKit;

namespace DirectMail.Tests.Mime;

/// <summary>
/// Messages written by DirectMail, sent through <see cref="SmtpSession"/> to a real SMTP server implementation (the
/// SmtpServer package, in this process), read back from what it stored and compared with MimeKit.
/// </summary>
public sealed class SmtpRoundTripTests
{
    [Fact]
    public async Task A_multilingual_message_with_attachments_arrives_as_written_and_reads_back_equal()
    {
        await using var server = await InProcessSmtpServer.StartAsync("127.0.25.41");
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options());
        Assert.True((await session.ConnectAsync(server.EndPoint, "inprocess.test")).IsSuccess);

        var attachment = WriterRoundTripTests.RandomBytes(300_000, 7);
        var message = new EmailMessage
        {
            From = new EmailAddress("siti@client.test", "Siti Nurhaliza"),
            Subject = "Laporan / 报告 / تقرير / रिपोर्ट 📎",
            TextBody = "Salam,\n.a line starting with a dot\nSila lihat lampiran. 请查看附件。\n",
            HtmlBody = "<p>Salam, <img src=\"cid:logo@client.test\"></p>\n<p>.dot</p>",
        };
        message.To.Add("ahmad@inprocess.test", "Ahmad bin Ismail");
        message.Cc.Add("zhang@inprocess.test", "张伟");
        message.Bcc.Add("hidden@inprocess.test", "Hidden");
        message.InlineResources.Add(InlineResource.FromBytes(new byte[] { 71, 73, 70 }, "logo@client.test", "image/gif"));
        message.Attachments.Add(Attachment.FromStream(new MemoryStream(attachment), "laporan 财务.bin"));
        var content = message.ToSmtpContent();

        var result = await session.SendAsync(message.CreateEnvelope(), content);

        Assert.True(result.IsDelivered, result.ToString());
        var stored = Assert.Single(server.Messages);
        Assert.Equal("siti@client.test", stored.Sender);
        Assert.Equal(new[] { "ahmad@inprocess.test", "zhang@inprocess.test", "hidden@inprocess.test" }, stored.Recipients);

        // The server stored exactly what the writer writes for this server's capabilities.
        Assert.Equal(MimeTestSupport.Write(content, session.Capabilities), stored.Content);

        var parsed = MimeTestSupport.Parse(stored.Content);
        Assert.Equal(message.Subject, parsed.Subject);
        Assert.Equal("Siti Nurhaliza", parsed.From.Mailboxes.Single().Name);
        Assert.Equal(new[] { "Ahmad bin Ismail" }, parsed.To.Mailboxes.Select(m => m.Name));
        Assert.Equal("张伟", parsed.Cc.Mailboxes.Single().Name);
        Assert.Empty(parsed.Bcc);
        Assert.DoesNotContain("hidden@", Encoding.UTF8.GetString(stored.Content), StringComparison.Ordinal);
        Assert.Equal(WriterRoundTripTests.Normalize(message.TextBody), WriterRoundTripTests.Normalize(parsed.TextBody));
        Assert.Equal(WriterRoundTripTests.Normalize(message.HtmlBody), WriterRoundTripTests.Normalize(parsed.HtmlBody));
        var part = (MimePart)parsed.Attachments.Single();
        Assert.Equal("laporan 财务.bin", part.FileName);
        Assert.Equal(attachment, WriterRoundTripTests.Decode(part));
        Assert.Equal(content.MessageId, parsed.MessageId);
    }

    [Fact]
    public async Task A_mimekit_message_and_a_raw_message_arrive_as_written()
    {
        await using var server = await InProcessSmtpServer.StartAsync("127.0.25.42");
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options());
        Assert.True((await session.ConnectAsync(server.EndPoint, "inprocess.test")).IsSuccess);

        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress("Ünsal", "u@client.test"));
        mime.To.Add(new MailboxAddress("Bob", "bob@inprocess.test"));
        mime.Bcc.Add(new MailboxAddress("Secret", "secret@inprocess.test"));
        mime.Subject = "Grüße aus München";
        mime.Body = new TextPart("plain") { Text = "Grüße\n.dot line\n" };
        var result = await session.SendAsync(mime.CreateEnvelope(), mime.ToSmtpContent());
        Assert.True(result.IsDelivered, result.ToString());

        var raw = Encoding.ASCII.GetBytes("From: a@client.test\r\nTo: b@inprocess.test\r\nSubject: raw\r\n\r\nbare LF\nline\r\n");
        result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@inprocess.test"), SmtpContent.FromBytes(raw));
        Assert.True(result.IsDelivered, result.ToString());

        var stored = server.Messages.ToArray();
        Assert.Equal(new[] { "bob@inprocess.test", "secret@inprocess.test" }, stored[0].Recipients);
        var parsed = MimeTestSupport.Parse(stored[0].Content);
        Assert.Equal("Grüße aus München", parsed.Subject);
        Assert.Empty(parsed.Bcc);
        Assert.DoesNotContain("secret@", Encoding.UTF8.GetString(stored[0].Content), StringComparison.Ordinal);
        Assert.Equal("Grüße\n.dot line\n", WriterRoundTripTests.Normalize(parsed.TextBody));

        // The session turned the bare LF into CRLF; nothing else changed.
        Assert.Equal(Encoding.ASCII.GetString(raw).Replace("bare LF\n", "bare LF\r\n", StringComparison.Ordinal), Encoding.ASCII.GetString(stored[1].Content));
    }
}
