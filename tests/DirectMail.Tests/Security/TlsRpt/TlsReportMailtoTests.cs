using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Mime;
using DirectMail.Security.TlsRpt;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using MimeKit;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// End to end against Postfix: a delivery over STARTTLS is counted, and the next day's report goes by mail, through
/// the same mailer, to the mailbox the domain's <c>_smtp._tls</c> record (served by NSD) names; the stored message is
/// read back field by field and its gzip JSON decoded.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TlsReportMailtoTests : IClassFixture<TlsRptDnsFixture>
{
    private readonly PostfixFixture _postfix;

    public TlsReportMailtoTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task A_deliverys_tls_session_shows_up_in_the_report_mailed_to_the_domains_rua()
    {
        var resolver = new TableResolver { [PostfixFixture.Domain] = [(PostfixFixture.HostName, 10, PostfixFixture.Address)] };
        var options = LoopbackMailerOptions.Create(PostfixFixture.Port, o =>
        {
            o.TlsMode = SmtpTlsMode.Opportunistic;
            o.NameServers = [TlsRptDnsFixture.EndPoint.ToString()];
        });
        await using var mailer = new DirectMailer(options, resolver);
        var reportingClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var reporting = new TlsReporting(mailer, TlsReportSchedulerTests.Options(), null, reportingClock);

        var delivery = await mailer.SendAsync(
            new SmtpEnvelope("sender@client.test.example", [PostfixFixture.Recipient("tlsrpt-e2e")]),
            SmtpContent.FromBytes("Subject: counted\r\n\r\nThis session is counted.\r\n"u8.ToArray()));
        Assert.True(delivery.IsFullyDelivered, delivery.ToString());
        var day = DateOnly.FromDateTime(reportingClock.GetUtcNow().UtcDateTime);

        reportingClock.Advance(TimeSpan.FromDays(1));
        await reporting.Scheduler.SendDueAsync(CancellationToken.None);

        var stored = await WaitForReportAsync();
        var message = MimeMessage.Load(new MemoryStream(stored.Content));
        var reportId = TlsReportScheduler.ReportId("sender.test", new TlsReportDomainDay(day, PostfixFixture.Domain, []));
        Assert.Equal($"Report Domain: {PostfixFixture.Domain} Submitter: sender.test Report-ID: <{reportId}>", message.Subject);
        Assert.Equal(PostfixFixture.Domain, message.Headers["TLS-Report-Domain"]);
        Assert.Equal("sender.test", message.Headers["TLS-Report-Submitter"]);
        Assert.Equal("No", message.Headers["TLS-Required"]);
        Assert.Equal("tlsrpt-noreply@sender.test", stored.ReturnPath?.Trim('<', '>'));
        Assert.Equal("tlsrpt", Assert.IsType<MultipartReport>(message.Body).ReportType);
        var (start, end) = TlsReportJson.Range(day);
        Assert.Equal($"sender.test!{PostfixFixture.Domain}!{start.ToUnixTimeSeconds()}!{end.ToUnixTimeSeconds()}!{reportId}.json.gz",
            message.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip").FileName);

        using var json = TlsReportSchedulerTests.ReportJson(stored.Content);
        var root = json.RootElement;
        Assert.Equal("Sender Inc.", root.GetProperty("organization-name").GetString());
        Assert.Equal("tlsrpt-noreply@sender.test", root.GetProperty("contact-info").GetString());
        Assert.Equal(reportId, root.GetProperty("report-id").GetString());
        var policy = Assert.Single(root.GetProperty("policies").EnumerateArray());
        Assert.Equal("no-policy-found", policy.GetProperty("policy").GetProperty("policy-type").GetString());
        Assert.Equal(PostfixFixture.Domain, policy.GetProperty("policy").GetProperty("policy-domain").GetString());
        Assert.Equal(1, policy.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
        Assert.Equal(0, policy.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());
    }

    private async Task<StoredMessage> WaitForReportAsync()
    {
        var reports = await TestTimeouts.EventuallyAsync(
            () => _postfix.ReadInbox().Where(m => m.DeliveredTo == TlsRptDnsFixture.PostfixReportMailbox).ToList(),
            "a report at " + TlsRptDnsFixture.PostfixReportMailbox);
        return Assert.Single(reports);
    }
}
