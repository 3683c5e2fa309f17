using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// Bounces as they come back (Dsn/corpus: samples of each format written for these tests): every field the parser
/// reads, exactly; what is not a bounce reports nobody.
/// </summary>
public sealed class BounceParserTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Dsn", "corpus", name));

    /// <summary>A recipient as one line: address | original | action | status | classification | remote | diagnostic.</summary>
    private static string Row(BounceRecipient r) => string.Join(" | ", r.Address, r.OriginalRecipient ?? "-", r.Action, r.Status?.ToString() ?? "-", r.Classification, r.RemoteMta ?? "-", r.Diagnostic ?? "-");

    private static List<string> Rows(BounceReport report)
    {
        var rows = new List<string>();
        foreach (var r in report.Recipients)
        {
            rows.Add(Row(r));
        }

        return rows;
    }

    [Fact]
    public void A_Postfix_delivery_status_notification_gives_every_field()
    {
        var report = BounceParser.Parse(Sample("postfix-dsn.eml"));

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal("mail.client.test", report.ReportingMta);
        Assert.Equal("q7f3a+news", report.EnvelopeId); // xtext +2B
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 13, 58, TimeSpan.FromHours(1)), report.ArrivalDate);
        Assert.Equal("news-2026-12.0001@client.test", report.OriginalMessageId); // folded Message-ID of text/rfc822-headers
        Assert.Equal("bounces+q7f3a-jane=example.org@bounce.client.test", report.To);
        Assert.False(report.RecipientsTruncated);
        Assert.Equal(
        [
            "jane@example.org | jane+news@example.org | Failed | 5.1.1 | InvalidRecipient | mx1.example.org | 550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
            "full@example.net | full@example.net | Delayed | 4.2.2 | MailboxFull | mx.example.net | 452 4.2.2 <full@example.net>: Mailbox full",
        ], Rows(report));
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 9, 13, 58, TimeSpan.FromHours(1)), report.Recipients[1].WillRetryUntil);
        Assert.True(report.Recipients[0].IsHardBounce);
        Assert.False(report.Recipients[1].IsHardBounce);
    }

    [Fact]
    public void A_global_delivery_status_notification_gives_UTF8_addresses_and_decodes_RFC_6533_escapes()
    {
        var report = BounceParser.Parse(Sample("global-dsn.eml"));

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal("env=42", report.EnvelopeId);
        Assert.Equal("utf8-1@client.test", report.OriginalMessageId);
        Assert.Equal(["jürgen@bücher.example | jürgen@bücher.example | Failed | 5.2.1 | MailboxDisabled | mx.bücher.example | 550 5.2.1 Konto deaktiviert"], Rows(report));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 1, 0, TimeSpan.FromHours(1)), report.Recipients[0].LastAttemptDate);
        Assert.True(report.Recipients[0].IsHardBounce);
    }

    [Fact]
    public void A_Microsoft_365_report_is_read_from_its_delivery_status_not_its_text()
    {
        var report = BounceParser.Parse(Sample("office365-dsn.eml"));

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal("AM0PR02MB5555.eurprd02.prod.outlook.com", report.ReportingMta);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 13, 5, 8, TimeSpan.Zero), report.ArrivalDate);
        Assert.Equal("inv-31@client.test", report.OriginalMessageId); // from the returned message/rfc822
        Assert.True(VerpAddress.TryDecode(report.To, "bounces", out var tag, out var recipient));
        Assert.Equal(("q31", "dana@fabrikam.example"), (tag, recipient));
        Assert.Equal(["dana@fabrikam.example | - | Failed | 5.7.509 | PolicyOrSpamBlock | AM0PR02MB5555.eurprd02.prod.outlook.com | 550 5.7.509 Access denied, sending domain client.test does not pass DMARC verification and has a DMARC policy of reject."], Rows(report));
        Assert.False(report.Recipients[0].IsHardBounce);
    }

    /// <summary>
    /// The text formats: sample, the original's Message-ID, the bounce's To, and each recipient's row. Exchange: the
    /// administrators' diagnostics, never the HTML part; Gmail: base64, the remote server's response; Postfix: each
    /// block with its host, an expanded address; Exim: the SMTP error after RCPT TO, an unrouteable address; qmail:
    /// each address and the code in its text.
    /// </summary>
    public static TheoryData<string, string?, string?, string[]> TextBounces() => new()
    {
        {
            "exchange-ndr.eml", "inv-2026-118@client.test", "bounces+q9-bob=contoso.example@bounce.client.test",
            [
                "bob@contoso.example | - | Failed | 5.1.10 | InvalidRecipient | - | 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                "carol@contoso.example | - | Failed | 5.2.2 | MailboxFull | - | 554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
            ]
        },
        {
            "gmail-failure.eml", "gm-1@client.test", "bounces+q5-lee=example.com@bounce.client.test",
            ["lee@example.com | - | Failed | 5.1.1 | InvalidRecipient | - | 550 5.1.1 <lee@example.com>: Recipient address rejected: User unknown in local recipient table"]
        },
        {
            "postfix-text.eml", "alert-5@client.test", "alerts@client.test",
            [
                "ops@nowhere.example | - | Failed | - | DnsFailure | - | Host or domain name not found. Name service error for name=nowhere.example type=MX: Host not found, try again",
                "sales@example.com | - | Failed | 5.7.1 | RelayDenied | mx.example.com | host mx.example.com[192.0.2.9] said: 554 5.7.1 <sales@example.com>: Relay access denied (in reply to RCPT TO command)",
            ]
        },
        {
            "exim.eml", "order-991@client.test", "bounces+q12-ann=example.net@bounce.client.test",
            [
                "ann@example.net | - | Failed | 5.1.1 | InvalidRecipient | mx.example.net | 550 5.1.1 <ann@example.net>: Recipient address rejected: User unknown in local recipient table",
                "tom@nodomain.example | - | Failed | - | DnsFailure | - | Unrouteable address",
            ]
        },
        {
            "gmail-delay.eml", "delay-3@client.test", "news@client.test",
            ["pat@slow.example | - | Delayed | - | Transient | - | The recipient server did not accept our requests to connect. Learn more at https://support.google.com/mail/answer/7720 [mx.slow.example. 203.0.113.80: timed out]"]
        },
        {
            "exim-delay.eml", null, "shop@client.test",
            ["slow@greylist.example | - | Delayed | 4.7.1 | Transient | mx.greylist.example | 451 4.7.1 Greylisted, please try again later"]
        },
        {
            "qmail.eml", "qm-1@client.test", "news@client.test",
            [
                "nobody@oldhost.example | - | Failed | 5.1.1 | InvalidRecipient | - | Sorry, no mailbox here by that name. (#5.1.1)",
                "big@remote.example | - | Failed | 5.3.4 | MessageTooLarge | - | 198.51.100.44 failed after I sent the message. Remote host said: 552 5.3.4 Message size exceeds fixed maximum message size",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(TextBounces))]
    public void A_text_bounce_gives_its_recipients_from_the_rules_of_its_format(string name, string? messageId, string? to, string[] rows)
    {
        var report = BounceParser.Parse(Sample(name));

        Assert.Equal(BounceKind.NonStandard, report.Kind);
        Assert.Equal(messageId, report.OriginalMessageId);
        Assert.Equal(to, report.To);
        Assert.Null(report.EnvelopeId);
        Assert.Null(report.ReportingMta);
        Assert.Equal(rows, Rows(report));
    }

    [Fact]
    public void A_text_bounce_without_a_status_code_is_no_hard_bounce()
    {
        var report = BounceParser.Parse(Sample("postfix-text.eml"));

        Assert.False(report.Recipients[0].IsHardBounce); // no status code: not known to be permanent
        Assert.False(report.Recipients[1].IsHardBounce); // relaying: the sender's problem, not the address's
        Assert.True(BounceParser.Parse(Sample("qmail.eml")).Recipients[0].IsHardBounce);
    }

    [Theory]
    [InlineData("auto-reply.eml")]
    [InlineData("ordinary.eml")]
    [InlineData("read-receipt.eml")]
    public void What_is_not_a_bounce_reports_nobody(string name)
    {
        var report = BounceParser.Parse(Sample(name));

        Assert.Equal(BounceKind.NotABounce, report.Kind);
        Assert.Empty(report.Recipients);
    }

    [Fact]
    public async Task A_stream_is_read_as_the_same_bytes()
    {
        await using var stream = new MemoryStream(Sample("exim.eml"));

        var report = await BounceParser.ParseAsync(stream);

        Assert.Equal(Rows(BounceParser.Parse(Sample("exim.eml"))), Rows(report));
    }

    [Fact]
    public void CRLF_and_LF_line_ends_read_the_same()
    {
        var lf = Sample("postfix-dsn.eml");
        var crlf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(lf).Replace("\r\n", "\n").Replace("\n", "\r\n"));

        Assert.Equal(Rows(BounceParser.Parse(lf)), Rows(BounceParser.Parse(crlf)));
        Assert.Equal("news-2026-12.0001@client.test", BounceParser.Parse(crlf).OriginalMessageId);
    }

    [Theory]
    [InlineData("5.1.1", null, BounceClassification.InvalidRecipient)]
    [InlineData("5.1.2", null, BounceClassification.DnsFailure)]
    [InlineData("5.2.1", null, BounceClassification.MailboxDisabled)]
    [InlineData("4.2.2", null, BounceClassification.MailboxFull)]
    [InlineData("5.3.4", null, BounceClassification.MessageTooLarge)]
    [InlineData("5.7.26", "Unauthenticated email is not accepted due to the sending domain's DMARC policy", BounceClassification.PolicyOrSpamBlock)]
    [InlineData("5.7.1", "Service unavailable; client host blocked using zen.spamhaus.org", BounceClassification.PolicyOrSpamBlock)]
    [InlineData("5.7.1", "Relay access denied", BounceClassification.RelayDenied)]
    [InlineData("5.7.1", "Delivery not authorized", BounceClassification.PolicyOrSpamBlock)]
    [InlineData("5.0.0", "User unknown", BounceClassification.InvalidRecipient)]
    [InlineData("5.0.0", "mailbox is full", BounceClassification.MailboxFull)]
    [InlineData("4.4.1", "Connection timed out", BounceClassification.Transient)]
    [InlineData("4.7.0", "Greylisted, try again later", BounceClassification.Transient)]
    [InlineData("5.5.0", "Something odd", BounceClassification.Other)]
    [InlineData(null, "Unrouteable address", BounceClassification.DnsFailure)]
    [InlineData(null, null, BounceClassification.Other)]
    public void A_recipient_is_classified_by_its_code_then_its_text(string? status, string? diagnostic, BounceClassification expected)
    {
        var code = status is null ? (EnhancedStatusCode?)null : EnhancedStatusCode.Parse(status);
        Assert.Equal(expected, BounceClassifier.Classify(DsnAction.Failed, code, diagnostic));
    }

    [Fact]
    public void A_delivered_recipient_is_not_a_failure()
    {
        Assert.Equal(BounceClassification.NotAFailure, BounceClassifier.Classify(DsnAction.Delivered, new EnhancedStatusCode(2, 0, 0), "250 2.0.0 Ok"));
    }

    [Theory]
    [InlineData("550 5.1.1 user unknown", "5.1.1")]
    [InlineData("host 192.5.1.1 said: 550 no such user", "5.0.0")]
    [InlineData("relay 10.5.1.1.5 and 4.2.2.", "4.2.2")]
    [InlineData("(#5.1.1)", "5.1.1")]
    [InlineData("at 12:45:10 nothing", null)]
    public void A_status_is_found_in_text_but_not_in_an_IP_address(string text, string? expected)
    {
        Assert.Equal(expected, DsnText.FindStatus(text)?.ToString());
    }

    [Theory]
    [InlineData("rfc822; a@b.example", "a@b.example")]
    [InlineData("rfc822;list+2Bnews@b.example", "list+news@b.example")]
    [InlineData("rfc822;list+AB@b.example", "list+AB@b.example")] // not what xtext would encode: kept
    [InlineData("rfc822;first+20last@b.example", "first last@b.example")]
    [InlineData("rfc822;j+C3+BCrgen@b.example", "jürgen@b.example")]
    [InlineData("utf-8;j\\x{FC}rgen@b\\x{FC}cher.example", "jürgen@bücher.example")]
    [InlineData("utf-8; 用户@例子.广告", "用户@例子.广告")]
    [InlineData("rfc822; <a@b.example>", "a@b.example")]
    public void An_original_recipient_is_decoded(string field, string expected)
    {
        Assert.Equal(expected, DsnText.Address(field));
    }
}
