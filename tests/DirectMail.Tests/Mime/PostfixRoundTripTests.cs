using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Mime;

/// <summary>A message written by DirectMail, delivered to a real Postfix, read back from its mailbox and compared by MimeKit.</summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixRoundTripTests
{
    private readonly PostfixFixture _postfix;

    public PostfixRoundTripTests(PostfixFixture postfix) => _postfix = postfix;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Message_written_by_DirectMail_is_stored_by_Postfix_exactly_and_reads_back_field_by_field(bool useChunking)
    {
        var recipient = PostfixFixture.Recipient("roundtrip");
        var attachment = new byte[300_000];
        new Random(11).NextBytes(attachment);
        var message = new EmailMessage
        {
            From = new EmailAddress(Sender, "Siti Nurhaliza"),
            Subject = "Laporan / 季度报告 / تقرير / रिपोर्ट 📎",
            TextBody = "Sila lihat lampiran.\n.line with a dot\nदूसरी पंक्ति",
            HtmlBody = "<p>Sila lihat <b>lampiran</b>.</p><img src=\"cid:logo@client.test\">",
            Priority = EmailPriority.High,
        };
        message.To.Add(recipient, "Ahmad bin Ismail");
        message.Bcc.Add(PostfixFixture.Recipient("hidden"));
        message.InlineResources.Add(InlineResource.FromBytes(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "logo@client.test", "image/png", "logo.png"));
        message.Attachments.Add(Attachment.FromBytes(attachment, "laporan 财务.bin"));
        var content = message.ToSmtpContent();
        var options = Options();
        options.UseChunking = useChunking;
        await using var session = await ConnectAsync(_postfix, options, new Transcript());

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), content);

        Assert.True(result.IsDelivered, result.ToString());
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(MimeTestSupport.Write(content, session.Capabilities), stored.Content);

        var parsed = MimeTestSupport.Parse(stored.Content);
        Assert.Equal(message.Subject, parsed.Subject);
        Assert.Equal("Siti Nurhaliza", parsed.From.Mailboxes.Single().Name);
        Assert.Equal("Ahmad bin Ismail", parsed.To.Mailboxes.Single().Name);
        Assert.Empty(parsed.Bcc);
        Assert.DoesNotContain("hidden@", System.Text.Encoding.UTF8.GetString(stored.Content), StringComparison.Ordinal);
        Assert.Equal("Sila lihat lampiran.\n.line with a dot\nदूसरी पंक्ति", parsed.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n'));
        var part = parsed.Attachments.OfType<global::MimeKit.MimePart>().Single();
        Assert.Equal("laporan 财务.bin", part.FileName);
        using var decoded = new MemoryStream();
        part.Content!.DecodeTo(decoded);
        Assert.Equal(attachment, decoded.ToArray());
    }
}
