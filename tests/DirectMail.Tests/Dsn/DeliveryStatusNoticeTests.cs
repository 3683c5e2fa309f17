using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using MimeKit;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// Delivery status notifications as DirectMail writes them (RFC 3464, RFC 6533): the exact bytes for a fixed notice,
/// then the same notices read by two independent parsers (Python's email package, MimeKit), the rules of who is
/// notified, and what is refused before anything is written.
/// </summary>
public sealed class DeliveryStatusNoticeTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly byte[] Original = Encoding.ASCII.GetBytes(
        "From: Sender <sender@client.test>\r\n" +
        "To: <gone@mx.test>, <slow@mx.test>\r\n" +
        "Subject: Quarterly figures\r\n" +
        "Message-ID: <original-1@client.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "\r\n" +
        "The body, which a notice with RET=HDRS must not return.\r\n" +
        ".A line starting with a dot\r\n");

    private sealed class FixedRandom : MimeRandom
    {
        public override string CreateBoundary() => "=_dsn-boundary";

        public override string CreateMessageIdLocalPart() => "notice-1";
    }

    private static DeliveryStatusNotice Notice(DsnReturn ret = DsnReturn.Headers) => new("mx.client.test", "sender@client.test",
    [
        new DsnRecipientReport("gone@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 1, 1))
        {
            OriginalRecipient = "list+gone@example.org",
            RemoteMta = "mx.mx.test",
            Reply = new SmtpReply(550, ["5.1.1 <gone@mx.test>: Recipient address rejected: User unknown in virtual mailbox table"]),
            LastAttemptDate = Arrival.AddMinutes(6),
        },
        new DsnRecipientReport("slow@mx.test", DsnAction.Delayed, new EnhancedStatusCode(4, 2, 0))
        {
            RemoteMta = "mx.mx.test",
            Reply = new SmtpReply(451, ["4.2.0 Greylisted, see", "http://postgrey.example/help"]),
            LastAttemptDate = Arrival.AddHours(4),
            WillRetryUntil = Arrival.AddDays(5),
        },
    ])
    {
        EnvelopeId = "env-42",
        ArrivalDate = Arrival,
        Date = Arrival.AddHours(4).AddMinutes(1),
        Return = ret,
    };

    private static async Task<(string Text, SmtpBodyType BodyType)> WriteAsync(DeliveryStatusNotice notice, byte[]? original = null)
    {
        using var destination = new MemoryStream();
        var bodyType = await new DeliveryStatusWriter(notice, new FixedRandom()).WriteAsync(new MemoryStream(original ?? Original), destination, default);
        return (Encoding.UTF8.GetString(destination.ToArray()), bodyType);
    }

    [Fact]
    public async Task A_notice_for_a_failed_and_a_delayed_recipient_is_written_exactly()
    {
        var (text, bodyType) = await WriteAsync(Notice());

        Assert.Equal(SmtpBodyType.SevenBit, bodyType);
        Assert.Equal(
            "Date: Tue, 01 Dec 2026 12:01:00 +0000\r\n" +
            "From: Mail Delivery System <MAILER-DAEMON@mx.client.test>\r\n" +
            "Subject: Undelivered Mail Returned to Sender\r\n" +
            "To: <sender@client.test>\r\n" +
            "Auto-Submitted: auto-replied\r\n" +
            "Message-ID: <notice-1@mx.client.test>\r\n" +
            "MIME-Version: 1.0\r\n" +
            "Content-Type: multipart/report; report-type=delivery-status;\r\n" +
            "\tboundary=\"=_dsn-boundary\"\r\n" +
            "Content-Transfer-Encoding: 7bit\r\n" +
            "\r\n" +
            "This is a MIME-encapsulated delivery status notification (RFC 3464).\r\n" +
            "\r\n" +
            "--=_dsn-boundary\r\n" +
            "Content-Description: Notification\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\n" +
            "Content-Transfer-Encoding: 7bit\r\n" +
            "\r\n" +
            "This is the mail system at host mx.client.test.\r\n" +
            "\r\n" +
            "Your message could not be delivered to the recipients below, and will not be\r\n" +
            "tried again.\r\n" +
            "\r\n" +
            "<gone@mx.test>: host mx.mx.test said: 550 5.1.1 <gone@mx.test>: Recipient\r\n" +
            "address rejected: User unknown in virtual mailbox table\r\n" +
            "\r\n" +
            "Your message has not been delivered yet to the recipients below. It is still\r\n" +
            "being tried; you need not send it again.\r\n" +
            "\r\n" +
            "<slow@mx.test>: host mx.mx.test said: 451 4.2.0 Greylisted, see\r\n" +
            "http://postgrey.example/help\r\n" +
            "    It is tried until Sun, 06 Dec 2026 08:00:00 +0000.\r\n" +
            "\r\n" +
            "--=_dsn-boundary\r\n" +
            "Content-Description: Delivery report\r\n" +
            "Content-Type: message/delivery-status\r\n" +
            "Content-Transfer-Encoding: 7bit\r\n" +
            "\r\n" +
            "Reporting-MTA: dns; mx.client.test\r\n" +
            "Original-Envelope-Id: env-42\r\n" +
            "Arrival-Date: Tue, 01 Dec 2026 08:00:00 +0000\r\n" +
            "\r\n" +
            "Final-Recipient: rfc822; gone@mx.test\r\n" +
            "Original-Recipient: rfc822;list+gone@example.org\r\n" +
            "Action: failed\r\n" +
            "Status: 5.1.1\r\n" +
            "Remote-MTA: dns; mx.mx.test\r\n" +
            "Diagnostic-Code: smtp; 550 5.1.1 <gone@mx.test>: Recipient address rejected:\r\n" +
            " User unknown in virtual mailbox table\r\n" +
            "Last-Attempt-Date: Tue, 01 Dec 2026 08:06:00 +0000\r\n" +
            "\r\n" +
            "Final-Recipient: rfc822; slow@mx.test\r\n" +
            "Action: delayed\r\n" +
            "Status: 4.2.0\r\n" +
            "Remote-MTA: dns; mx.mx.test\r\n" +
            "Diagnostic-Code: smtp; 451 4.2.0 Greylisted, see http://postgrey.example/help\r\n" +
            "Last-Attempt-Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n" +
            "Will-Retry-Until: Sun, 06 Dec 2026 08:00:00 +0000\r\n" +
            "\r\n" +
            "--=_dsn-boundary\r\n" +
            "Content-Description: The original message's header\r\n" +
            "Content-Type: text/rfc822-headers\r\n" +
            "Content-Transfer-Encoding: 7bit\r\n" +
            "\r\n" +
            "From: Sender <sender@client.test>\r\n" +
            "To: <gone@mx.test>, <slow@mx.test>\r\n" +
            "Subject: Quarterly figures\r\n" +
            "Message-ID: <original-1@client.test>\r\n" +
            "MIME-Version: 1.0\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\n" +
            "\r\n" +
            "\r\n" +
            "--=_dsn-boundary--\r\n",
            text);
    }

    [Theory]
    [InlineData(DsnReturn.Headers)]
    [InlineData(DsnReturn.Full)]
    public async Task Python_s_email_package_reads_the_report_s_fields_and_the_returned_original(DsnReturn ret)
    {
        var (text, _) = await WriteAsync(Notice(ret));

        using var parsed = await PythonAsync(Encoding.UTF8.GetBytes(text));
        var root = parsed.RootElement;

        Assert.Equal("multipart/report", root.GetProperty("type").GetString());
        Assert.Equal("delivery-status", root.GetProperty("report_type").GetString());
        Assert.Equal("auto-replied", root.GetProperty("auto_submitted").GetString());
        Assert.Empty(root.GetProperty("defects").EnumerateArray());
        Assert.Equal(
            ["text/plain", "message/delivery-status", ret == DsnReturn.Full ? "message/rfc822" : "text/rfc822-headers"],
            root.GetProperty("parts").EnumerateArray().Select(p => p.GetString()));
        var blocks = root.GetProperty("blocks").EnumerateArray().ToArray();
        Assert.Equal(3, blocks.Length);
        Assert.Equal("dns; mx.client.test", blocks[0].GetProperty("Reporting-MTA").GetString());
        Assert.Equal("env-42", blocks[0].GetProperty("Original-Envelope-Id").GetString());
        Assert.Equal("rfc822; gone@mx.test", blocks[1].GetProperty("Final-Recipient").GetString());
        Assert.Equal("rfc822;list+gone@example.org", blocks[1].GetProperty("Original-Recipient").GetString());
        Assert.Equal("failed", blocks[1].GetProperty("Action").GetString());
        Assert.Equal("5.1.1", blocks[1].GetProperty("Status").GetString());
        Assert.Equal("smtp; 550 5.1.1 <gone@mx.test>: Recipient address rejected: User unknown in virtual mailbox table", blocks[1].GetProperty("Diagnostic-Code").GetString());
        Assert.Equal("delayed", blocks[2].GetProperty("Action").GetString());
        Assert.Equal("Sun, 06 Dec 2026 08:00:00 +0000", blocks[2].GetProperty("Will-Retry-Until").GetString());
        var returned = root.GetProperty("returned");
        Assert.Equal("Quarterly figures", returned.GetProperty("Subject").GetString());
        Assert.Equal("<original-1@client.test>", returned.GetProperty("Message-ID").GetString());
        if (ret == DsnReturn.Full)
        {
            Assert.Equal("The body, which a notice with RET=HDRS must not return.\n.A line starting with a dot\n", root.GetProperty("returned_body").GetString());
        }
        else
        {
            Assert.DoesNotContain("must not return", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MimeKit_reads_the_report_as_a_MultipartReport_with_its_status_groups()
    {
        var (text, _) = await WriteAsync(Notice());

        var message = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text)));

        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.Equal(3, status.StatusGroups.Count);
        Assert.Equal("dns; mx.client.test", status.StatusGroups[0]["Reporting-MTA"]);
        Assert.Equal("rfc822; gone@mx.test", status.StatusGroups[1]["Final-Recipient"]);
        Assert.Equal("failed", status.StatusGroups[1]["Action"]);
        Assert.Equal("5.1.1", status.StatusGroups[1]["Status"]);
        Assert.Equal("dns; mx.mx.test", status.StatusGroups[1]["Remote-MTA"]);
        Assert.Equal("delayed", status.StatusGroups[2]["Action"]);
        Assert.Equal("4.2.0", status.StatusGroups[2]["Status"]);
        Assert.IsType<TextRfc822Headers>(report[2]);
    }

    [Fact]
    public async Task Internationalised_addresses_make_a_global_delivery_status_with_utf_8_address_types()
    {
        // RFC 6533: a report naming a UTF-8 address is message/global-delivery-status, its address type utf-8.
        var notice = new DeliveryStatusNotice("mx.client.test", "sender@client.test",
        [
            new DsnRecipientReport("jöe@bücher.test", DsnAction.Failed, new EnhancedStatusCode(5, 1, 1)) { OriginalRecipient = "jöe@bücher.test" },
        ]);
        var original = Encoding.UTF8.GetBytes("From: sender@client.test\r\nTo: jöe@bücher.test\r\nSubject: Grüße\r\n\r\nHallo.\r\n");

        Assert.True(notice.RequiresSmtpUtf8);
        var (text, bodyType) = await WriteAsync(notice, original);

        Assert.Equal(SmtpBodyType.EightBit, bodyType);
        Assert.Contains("Content-Type: message/global-delivery-status\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Content-Type: message/global-headers\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Final-Recipient: utf-8; jöe@bücher.test\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Original-Recipient: utf-8;jöe@bücher.test\r\n", text, StringComparison.Ordinal);
        using var parsed = await PythonAsync(Encoding.UTF8.GetBytes(text));
        var blocks = parsed.RootElement.GetProperty("blocks").EnumerateArray().ToArray();
        Assert.Equal("utf-8; jöe@bücher.test", blocks[1].GetProperty("Final-Recipient").GetString());
        Assert.Equal("Grüße", parsed.RootElement.GetProperty("returned").GetProperty("Subject").GetString());
    }

    [Theory]
    [InlineData(DsnNotify.Never, DsnAction.Failed, false)]
    [InlineData(DsnNotify.Default, DsnAction.Failed, true)]
    [InlineData(DsnNotify.Default, DsnAction.Delayed, true)]
    [InlineData(DsnNotify.Default, DsnAction.Delivered, false)]
    [InlineData(DsnNotify.Success, DsnAction.Delivered, true)]
    [InlineData(DsnNotify.Success, DsnAction.Relayed, true)]
    [InlineData(DsnNotify.Success, DsnAction.Failed, false)]
    [InlineData(DsnNotify.Failure | DsnNotify.Delay, DsnAction.Delayed, true)]
    [InlineData(DsnNotify.Failure, DsnAction.Delayed, false)]
    public void Who_is_notified_follows_NOTIFY(DsnNotify notify, DsnAction action, bool expected)
        => Assert.Equal(expected, DeliveryStatusNotice.ShouldNotify(notify, action));

    [Fact]
    public void Bad_input_is_refused_before_anything_is_written()
    {
        // Stops: a notice to <> (a bounce loop), header injection through a server's name or an address, and a status
        // that contradicts its action (a "failed" recipient with 2.0.0 that a bounce processor would count as delivered).
        var failed = new DsnRecipientReport("a@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 0, 0));
        Assert.Throws<ArgumentException>(() => new DeliveryStatusNotice("mx.client.test", string.Empty, [failed]));
        Assert.Throws<ArgumentException>(() => new DeliveryStatusNotice("mx.client.test\r\nBcc: victim@example.org", "s@client.test", [failed]));
        Assert.Throws<ArgumentException>(() => new DeliveryStatusNotice("mx.client.test", "s@client.test", []));
        Assert.Throws<ArgumentException>(() => new DsnRecipientReport("a@mx.test\r\nX: y", DsnAction.Failed, new EnhancedStatusCode(5, 0, 0)));
        Assert.Throws<ArgumentException>(() => new DsnRecipientReport("a@mx.test", DsnAction.Failed, new EnhancedStatusCode(2, 0, 0)));
        Assert.Equal(DsnAction.Failed, new DsnRecipientReport("a@mx.test", DsnAction.Failed, new EnhancedStatusCode(4, 4, 7)).Action); // expired
        Assert.Throws<ArgumentException>(() => new DsnRecipientReport("a@mx.test", DsnAction.Delivered, new EnhancedStatusCode(4, 0, 0)));
        Assert.Throws<ArgumentException>(() => new DsnRecipientReport("a@mx.test", DsnAction.Delayed, new EnhancedStatusCode(5, 0, 0)));
        Assert.Throws<ArgumentException>(() => new DsnRecipientReport("a@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 0, 0)) { RemoteMta = "mx\nX: y" });
    }

    [Fact]
    public void The_notice_goes_from_the_null_sender_to_the_original_sender()
    {
        var envelope = Notice().CreateEnvelope();

        Assert.Equal(string.Empty, envelope.Sender);
        Assert.Equal(["sender@client.test"], envelope.Recipients);
    }

    /// <summary>Runs parse_dsn.py over the notice, bounded, and returns what it printed.</summary>
    internal static async Task<JsonDocument> PythonAsync(byte[] notice)
    {
        var result = await ProcessRunner.RunAsync("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "Dsn", "parse_dsn.py")], notice);
        Assert.True(result.ExitCode == 0, "parse_dsn.py failed: " + result.StdErr);
        return JsonDocument.Parse(result.StdOut);
    }
}
