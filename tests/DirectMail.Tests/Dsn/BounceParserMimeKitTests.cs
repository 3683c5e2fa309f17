using System.IO;
using DirectMail.Dsn;
using MimeKit;

namespace DirectMail.Tests.Dsn;

/// <summary>A report written by an independent writer (MimeKit's MultipartReport and MessageDeliveryStatus) reads as it was written.</summary>
public sealed class BounceParserMimeKitTests
{
    [Fact]
    public void A_MimeKit_report_with_base64_status_and_folded_fields_is_read()
    {
        var status = new MessageDeliveryStatus();
        status.StatusGroups.Add(new HeaderList { { "Reporting-MTA", "dns; mx.mimekit.test" }, { "Original-Envelope-Id", "q77" } });
        status.StatusGroups.Add(new HeaderList
        {
            { "Final-Recipient", "rfc822; one@example.org" },
            { "Action", "failed" },
            { "Status", "5.1.1" },
            { "Diagnostic-Code", "smtp; 550 5.1.1 The email account that you tried to reach does not exist, please try double-checking the recipient's email address" },
        });
        status.StatusGroups.Add(new HeaderList
        {
            { "Final-Recipient", "rfc822; two@example.org" },
            { "Action", "delayed" },
            { "Status", "4.4.1" },
            { "Will-Retry-Until", "Fri, 04 Dec 2026 10:00:00 -0500" },
        });
        status.ContentTransferEncoding = ContentEncoding.Base64;
        var report = new MultipartReport("delivery-status") { new TextPart("plain") { Text = "Delivery failed." }, status };
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery Subsystem", "mailer-daemon@mimekit.test"));
        message.To.Add(new MailboxAddress(string.Empty, "bounces+q77-one=example.org@bounce.client.test"));
        message.Subject = "Delivery Status Notification (Failure)";
        message.Body = report;
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);

        var written = System.Text.Encoding.ASCII.GetString(bytes.ToArray());
        Assert.Contains("Content-Transfer-Encoding: base64", written);
        Assert.DoesNotContain("Final-Recipient", written); // only in base64

        var read = BounceParser.Parse(bytes.ToArray());

        Assert.Equal(BounceKind.Dsn, read.Kind);
        Assert.Equal("mx.mimekit.test", read.ReportingMta);
        Assert.Equal("q77", read.EnvelopeId);
        Assert.Equal("bounces+q77-one=example.org@bounce.client.test", read.To);
        Assert.Equal(2, read.Recipients.Count);
        Assert.Equal("one@example.org", read.Recipients[0].Address);
        Assert.Equal(BounceClassification.InvalidRecipient, read.Recipients[0].Classification);
        Assert.Equal("550 5.1.1 The email account that you tried to reach does not exist, please try double-checking the recipient's email address", read.Recipients[0].Diagnostic);
        Assert.Equal("two@example.org", read.Recipients[1].Address);
        Assert.Equal(DsnAction.Delayed, read.Recipients[1].Action);
        Assert.Equal(BounceClassification.Transient, read.Recipients[1].Classification);
        Assert.Equal(new System.DateTimeOffset(2026, 12, 4, 10, 0, 0, System.TimeSpan.FromHours(-5)), read.Recipients[1].WillRetryUntil);
    }
}
