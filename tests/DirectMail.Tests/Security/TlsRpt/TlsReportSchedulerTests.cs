using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// When and whether a day's reports go: after 00:00 UTC plus the spread, to the record NSD serves, once, retried while
/// undelivered; with the report message read back by MimeKit.
/// </summary>
[Trait("Category", "Integration")]
public sealed class TlsReportSchedulerTests : IClassFixture<TlsRptDnsFixture>
{
    private static readonly TimeSpan Spread = TimeSpan.FromMinutes(17);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly RecordingMailer _mailer = new();

    [Fact]
    public async Task Yesterdays_report_goes_after_midnight_and_the_spread_and_not_before()
    {
        var aggregator = new TlsReportAggregator(_time);
        Record(aggregator, "unit.tlsrpt.test", successes: 3, failures: 1);
        var scheduler = Scheduler(aggregator, new InMemoryTlsReportStore());
        using var stop = new CancellationTokenSource();
        var run = scheduler.RunAsync(stop.Token);

        // Midnight, two flush intervals (every instance's last counts of the day are in the store), the spread.
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 2, 0, 18, 59, TimeSpan.Zero));
        await Task.Delay(200);
        Assert.Equal(0, _mailer.Calls);

        _time.SetUtcNow(new DateTimeOffset(2026, 12, 2, 0, 19, 0, TimeSpan.Zero));
        await WaitUntilAsync(() => _mailer.Calls == 1);
        stop.Cancel();
        await run.WaitAsync(Bound);

        var (envelope, message) = Assert.Single(_mailer.Sent);
        Assert.Equal("tlsrpt-noreply@sender.test", envelope.Sender);
        Assert.Equal(["tls@reports.test"], envelope.Recipients);
        using var json = ReportJson(message);
        var summary = json.RootElement.GetProperty("policies")[0].GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("total-successful-session-count").GetInt64());
        Assert.Equal(1, summary.GetProperty("total-failure-session-count").GetInt64());
        Assert.Equal("2026-12-01T00:00:00Z", json.RootElement.GetProperty("date-range").GetProperty("start-datetime").GetString());
    }

    [Fact]
    public async Task The_report_message_has_the_fields_rfc_8460_section_5_3_requires()
    {
        var aggregator = new TlsReportAggregator(_time);
        Record(aggregator, "unit.tlsrpt.test", successes: 1, failures: 0);
        _time.Advance(TimeSpan.FromDays(1));

        await Scheduler(aggregator, new InMemoryTlsReportStore()).SendDueAsync(CancellationToken.None);

        var message = MimeMessage.Load(new MemoryStream(Assert.Single(_mailer.Sent).Message));
        var id = TlsReportScheduler.ReportId("sender.test", new TlsReportDomainDay(new DateOnly(2026, 12, 1), "unit.tlsrpt.test", []));
        Assert.Equal($"Report Domain: unit.tlsrpt.test Submitter: sender.test Report-ID: <{id}>", message.Subject);
        Assert.Equal("unit.tlsrpt.test", message.Headers["TLS-Report-Domain"]);
        Assert.Equal("sender.test", message.Headers["TLS-Report-Submitter"]);
        Assert.Equal("No", message.Headers["TLS-Required"]);
        Assert.Equal("tlsrpt-noreply@sender.test", ((MailboxAddress)message.From.Single()).Address);
        Assert.Equal("tls@reports.test", ((MailboxAddress)message.To.Single()).Address);
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("tlsrpt", report.ReportType);
        var attachment = report.OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip");
        Assert.Equal(ContentEncoding.Base64, attachment.ContentTransferEncoding);
        Assert.True(attachment.IsAttachment);
        Assert.Equal($"sender.test!unit.tlsrpt.test!1796083200!1796169599!{id}.json.gz", attachment.FileName);
        Assert.Contains(report.OfType<TextPart>(), p => p.IsPlain);
    }

    [Fact]
    public async Task A_domain_without_a_record_gets_no_report_and_is_not_tried_again()
    {
        var aggregator = new TlsReportAggregator(_time);
        Record(aggregator, "spf.tlsrpt.test", 1, 0);
        Record(aggregator, "twice.tlsrpt.test", 1, 0);
        Record(aggregator, "broken.tlsrpt.test", 1, 0);
        Record(aggregator, "nothing.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));
        var scheduler = Scheduler(aggregator, new InMemoryTlsReportStore());

        await scheduler.SendDueAsync(CancellationToken.None);

        Assert.Equal(0, _mailer.Calls);
        Assert.Equal(0, scheduler.PendingCount);
    }

    [Fact]
    public async Task A_record_reached_through_a_cname_is_used()
    {
        var aggregator = new TlsReportAggregator(_time);
        Record(aggregator, "alias.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));

        await Scheduler(aggregator, new InMemoryTlsReportStore()).SendDueAsync(CancellationToken.None);

        Assert.Equal(["tls@reports.test"], Assert.Single(_mailer.Sent).Envelope.Recipients);
    }

    [Fact]
    public async Task A_report_no_destination_took_is_tried_again_and_given_up_a_day_after_its_day()
    {
        var aggregator = new TlsReportAggregator(_time);
        Record(aggregator, "unit.tlsrpt.test", 1, 0);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 2, 0, 30, 0, TimeSpan.Zero));
        _mailer.Defer = true;
        var scheduler = Scheduler(aggregator, new InMemoryTlsReportStore());

        await scheduler.SendDueAsync(CancellationToken.None);
        Assert.Equal((1, 1), (_mailer.Calls, scheduler.PendingCount));

        _time.Advance(TimeSpan.FromMinutes(59));
        await scheduler.SendDueAsync(CancellationToken.None);
        Assert.Equal(1, _mailer.Calls); // not before the retry interval

        _time.Advance(TimeSpan.FromMinutes(1));
        _mailer.Defer = false;
        await scheduler.SendDueAsync(CancellationToken.None);
        Assert.Equal((2, 0), (_mailer.Calls, scheduler.PendingCount));
        Assert.Single(_mailer.Sent);

        // Another day, never taken: tried once an hour until 00:00 of the day after the next, then dropped.
        Record(aggregator, "unit.tlsrpt.test", 1, 0);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 3, 0, 30, 0, TimeSpan.Zero));
        _mailer.Defer = true;
        for (var hour = 0; hour < 30; hour++)
        {
            await scheduler.SendDueAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(0, scheduler.PendingCount);
        Assert.Equal(2 + 24, _mailer.Calls); // 00:30 to 23:30 on the 3rd; the retry at 00:30 on the 4th is past the end
    }

    [Fact]
    public async Task Two_instances_on_one_store_send_one_report()
    {
        var store = new InMemoryTlsReportStore();
        var one = new TlsReportAggregator(_time);
        var two = new TlsReportAggregator(_time);
        Record(one, "race.tlsrpt.test", 1, 0);
        Record(two, "race.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));

        await Task.WhenAll(Scheduler(one, store).SendDueAsync(CancellationToken.None), Scheduler(two, store).SendDueAsync(CancellationToken.None));

        Assert.Single(_mailer.Sent);
    }

    [Fact]
    public async Task Two_instances_on_one_sqlite_directory_send_one_report()
    {
        var directory = Directory.CreateTempSubdirectory("directmail-tlsrpt-").FullName;
        try
        {
            using var one = new DirectMail.Queue.Sqlite.Internal.SqliteTlsReportStore(directory, TimeSpan.FromSeconds(10));
            using var two = new DirectMail.Queue.Sqlite.Internal.SqliteTlsReportStore(directory, TimeSpan.FromSeconds(10));

            Assert.Equal(1, await RaceAsync(one, two));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Two instances, each with its own counts of one domain's day, send their reports at once: the number of messages sent.</summary>
    internal static async Task<int> RaceAsync(ITlsReportStore storeOne, ITlsReportStore storeTwo)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        var mailer = new RecordingMailer();
        var one = new TlsReportAggregator(time);
        var two = new TlsReportAggregator(time);
        Record(one, "race.tlsrpt.test", 1, 0);
        Record(two, "race.tlsrpt.test", 2, 0);
        time.Advance(TimeSpan.FromDays(1));
        TlsReportScheduler Scheduler(TlsReportAggregator aggregator, ITlsReportStore store) =>
            new(Options(), aggregator, TlsRptDnsFixture.Lookup(), new TlsReportDelivery(Options(), mailer, null, time, MimeRandom.Shared, NullLogger.Instance), store, time, NullLogger.Instance);

        // Each instance's counts reach the store at its own flush; then both try to send at once.
        var schedulers = (Scheduler(one, storeOne), Scheduler(two, storeTwo));
        Assert.True(await schedulers.Item1.Flusher.FlushAsync(CancellationToken.None));
        Assert.True(await schedulers.Item2.Flusher.FlushAsync(CancellationToken.None));
        await Task.WhenAll(
            Task.Run(() => schedulers.Item1.SendDueAsync(CancellationToken.None)),
            Task.Run(() => schedulers.Item2.SendDueAsync(CancellationToken.None)));

        // One report, of the sum: 1 session counted by the first instance and 2 by the second.
        var (_, message) = Assert.Single(mailer.Sent);
        using var json = ReportJson(message);
        var summary = Assert.Single(json.RootElement.GetProperty("policies").EnumerateArray()).GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("total-successful-session-count").GetInt64());
        return mailer.Sent.Count;
    }

    [Fact]
    public void Reports_are_spread_over_the_hour_after_midnight_and_the_flush_grace()
    {
        var scheduler = new TlsReportScheduler(Options(), new TlsReportAggregator(_time), TlsRptDnsFixture.Lookup(), Delivery(), new InMemoryTlsReportStore(), _time, NullLogger.Instance);
        var midnight = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

        var runs = Enumerable.Range(0, 200).Select(_ => scheduler.NextDailyRun(_time.GetUtcNow())).ToArray();

        var grace = 2 * Options().FlushInterval;
        Assert.All(runs, r => Assert.InRange(r, midnight + grace, midnight + grace + TimeSpan.FromHours(1)));
        Assert.True(runs.Distinct().Count() > 100, "the waits are random");
    }

    internal static void Record(TlsReportAggregator aggregator, string domain, int successes, int failures)
    {
        for (var i = 0; i < successes; i++)
        {
            aggregator.Record(new TlsSessionResult(domain, TlsPolicyType.NoPolicyFound, "mx." + domain, IPAddress.Loopback, null, null));
        }

        for (var i = 0; i < failures; i++)
        {
            aggregator.Record(new TlsSessionResult(domain, TlsPolicyType.NoPolicyFound, "mx." + domain, IPAddress.Loopback, TlsFailureType.StartTlsNotSupported, null));
        }
    }

    internal static TlsReportingOptions Options() => new()
    {
        OrganizationName = "Sender Inc.",
        SubmitterDomain = "sender.test",
        ReportSender = "tlsrpt-noreply@sender.test",
    };

    internal static JsonDocument ReportJson(byte[] message)
    {
        var mime = MimeMessage.Load(new MemoryStream(message));
        var part = mime.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip");
        using var decoded = new MemoryStream();
        part.Content!.DecodeTo(decoded);
        decoded.Position = 0;
        using var gzip = new GZipStream(decoded, CompressionMode.Decompress);
        using var json = new MemoryStream();
        gzip.CopyTo(json);
        return JsonDocument.Parse(json.ToArray());
    }

    private TlsReportScheduler Scheduler(TlsReportAggregator aggregator, ITlsReportStore store) =>
        new(Options(), aggregator, TlsRptDnsFixture.Lookup(), Delivery(), store, _time, NullLogger.Instance, spread: _ => Spread);

    private TlsReportDelivery Delivery() => new(Options(), _mailer, null, _time, MimeRandom.Shared, NullLogger.Instance);

    private static Task WaitUntilAsync(Func<bool> condition) => TestTimeouts.EventuallyAsync(condition, "come true");
}
