using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Tests.Dsn;

/// <summary>Every notice DirectMail's <see cref="DeliveryStatusNotice"/> writes parses back to the fields it was given.</summary>
public sealed class BounceRoundTripTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static byte[] Original(string messageId) => Encoding.UTF8.GetBytes(
        "From: Sender <sender@client.test>\r\n" +
        "To: <gone@mx.test>\r\n" +
        "Subject: Figures\r\n" +
        "Message-ID: <" + messageId + ">\r\n" +
        "\r\n" +
        "Body.\r\n");

    public static TheoryData<string> Cases() => ["failed-and-delayed", "delivered-and-relayed", "utf8", "full", "many", "no-reply"];

    private static DeliveryStatusNotice Notice(string name) => name switch
    {
        "failed-and-delayed" => new("mx.client.test", "bounces+q1-left=mx.test@bounce.client.test",
        [
            new DsnRecipientReport("left@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 1, 1))
            {
                OriginalRecipient = "team+left@example.org",
                RemoteMta = "mx2.mx.test",
                Reply = new SmtpReply(550, ["5.1.1 <left@mx.test>: Recipient address rejected: User unknown in virtual mailbox table and this reply goes on long enough to be folded twice over"]),
                LastAttemptDate = Arrival.AddMinutes(6),
            },
            new DsnRecipientReport("later@mx.test", DsnAction.Delayed, new EnhancedStatusCode(4, 7, 1))
            {
                WillRetryUntil = Arrival.AddDays(3),
                RemoteMta = "mx2.mx.test",
                Reply = new SmtpReply(450, ["4.7.1 Try again in", "five minutes"]),
                LastAttemptDate = Arrival.AddHours(2),
            },
            new DsnRecipientReport("expired@mx.test", DsnAction.Failed, new EnhancedStatusCode(4, 4, 7)) { Detail = "Delivery time expired" },
        ]) { EnvelopeId = "env-42", ArrivalDate = Arrival },
        "delivered-and-relayed" => new("mx.client.test", "sender@client.test",
        [
            new DsnRecipientReport("ok@mx.test", DsnAction.Delivered, new EnhancedStatusCode(2, 0, 0)) { RemoteMta = "mx.mx.test", Reply = new SmtpReply(250, ["2.0.0 Ok: queued as 4ZK"]) },
            new DsnRecipientReport("on@old.test", DsnAction.Relayed, new EnhancedStatusCode(2, 0, 0)) { RemoteMta = "old.test" },
        ]) { EnvelopeId = "x+y=z" },
        "utf8" => new("mx.client.test", "sender@client.test",
        [
            new DsnRecipientReport("jürgen@bücher.example", DsnAction.Failed, new EnhancedStatusCode(5, 2, 1))
            {
                OriginalRecipient = "jürgen@bücher.example",
                RemoteMta = "mx.xn--bcher-kva.example",
                Reply = new SmtpReply(550, ["5.2.1 Konto deaktiviert"]),
            },
        ]),
        "full" => new("mx.client.test", "sender@client.test",
        [
            new DsnRecipientReport("big@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 3, 4)) { Reply = new SmtpReply(552, ["5.3.4 Message too big"]) },
        ]) { Return = DsnReturn.Full },
        "many" => new("mx.client.test", "sender@client.test", Many()),
        _ => new("mx.client.test", "sender@client.test",
        [
            new DsnRecipientReport("nohost@nowhere.test", DsnAction.Failed, new EnhancedStatusCode(5, 4, 4)) { Detail = "No MX or address for nowhere.test" },
        ]),
    };

    private static List<DsnRecipientReport> Many()
    {
        var list = new List<DsnRecipientReport>();
        for (var i = 0; i < 50; i++)
        {
            list.Add(new DsnRecipientReport($"user{i}@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 7, 1)) { Reply = new SmtpReply(554, [$"5.7.1 user{i}: blocked by policy"]) });
        }

        return list;
    }

    private static string Diagnostic(SmtpReply reply)
    {
        var text = new StringBuilder(reply.Code.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var line in reply.Lines)
        {
            text.Append(' ').Append(line);
        }

        return text.ToString();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_written_notice_parses_back_to_its_fields(string name)
    {
        var notice = Notice(name);
        using var bytes = new MemoryStream();
        await notice.WriteToAsync(new MemoryStream(Original("orig-" + name + "@client.test")), bytes);

        var report = BounceParser.Parse(bytes.ToArray());

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal(notice.ReportingMta, report.ReportingMta);
        Assert.Equal(notice.EnvelopeId, report.EnvelopeId);
        Assert.Equal(notice.ArrivalDate, report.ArrivalDate);
        Assert.Equal(notice.OriginalSender, report.To);
        Assert.Equal("orig-" + name + "@client.test", report.OriginalMessageId);
        Assert.Equal(notice.Recipients.Count, report.Recipients.Count);
        for (var i = 0; i < notice.Recipients.Count; i++)
        {
            var sent = notice.Recipients[i];
            var read = report.Recipients[i];
            Assert.Equal(sent.FinalRecipient, read.Address);
            Assert.Equal(sent.OriginalRecipient, read.OriginalRecipient);
            Assert.Equal(sent.Action, read.Action);
            Assert.Equal(sent.Status, read.Status);
            Assert.Equal(sent.RemoteMta, read.RemoteMta);
            Assert.Equal(sent.Reply is null ? null : Diagnostic(sent.Reply), read.Diagnostic);
            Assert.Equal(sent.LastAttemptDate, read.LastAttemptDate);
            Assert.Equal(sent.WillRetryUntil, read.WillRetryUntil);
        }
    }
}
