using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Suppression;
using DirectMail.Tests.Queue;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// Bounces that come back, fed to the suppression list (<see cref="BounceIngester"/>): hard bounces are suppressed with
/// their reason and message, soft ones are not; a bounce is correlated with the queued message by its VERP address or
/// its ENVID; with correlation required a forged bounce suppresses nobody.
/// </summary>
public sealed class BounceIngesterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemorySuppressionStore _store = new();
    private readonly FakeTimeProvider _time = new(Now);

    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dsn", "corpus", name));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_hard_bounce_is_suppressed_with_its_reason_and_a_soft_one_is_not()
    {
        var ingester = new BounceIngester(_store, timeProvider: _time);

        var result = await ingester.IngestAsync(new MemoryStream(Bytes(Sample("postfix-dsn.eml"))));

        Assert.Equal(BounceKind.Dsn, result.Report.Kind);
        Assert.Equal("jane@example.org", result.VerpRecipient);
        Assert.Equal([("jane@example.org", true), ("full@example.net", false)], result.Recipients.Select(r => (r.Address!, r.Suppressed)));
        var entry = Assert.Single(_store.ListAsync().ToBlockingEnumerable());
        Assert.Equal(("jane@example.org", SuppressionSource.Bounce, BounceClassification.InvalidRecipient, "5.1.1", Now), (entry.Address, entry.Source, entry.Classification, entry.Status?.ToString(), entry.SuppressedAt));
        Assert.Equal("550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown in virtual mailbox table", entry.Diagnostic);
        Assert.Equal(("q7f3a", "news-2026-12.0001@client.test"), (entry.QueueId, entry.MessageId)); // the VERP tag, no queue to look it up in
    }

    [Fact]
    public async Task A_text_bounce_is_correlated_with_the_queued_message_and_recipient_its_VERP_address_names()
    {
        var queue = new MailQueue(new InMemoryQueueStore());
        var id = await queue.EnqueueAsync(new SmtpEnvelope("alerts@client.test", "other@example.com", "lee@example.com"), SmtpContent.FromBytes(Bytes("Subject: x\r\n\r\nx\r\n")));
        var verp = VerpAddress.Encode("bounces", id, "lee@example.com", "bounce.client.test");
        var bounce = Sample("gmail-failure.eml").Replace("bounces+q5-lee=example.com@bounce.client.test", verp, StringComparison.Ordinal);
        var ingester = new BounceIngester(_store, queue, timeProvider: _time) { RequireCorrelation = true };

        var result = await ingester.IngestAsync(Bytes(bounce));

        Assert.Equal(id, result.QueueId);
        var recipient = Assert.Single(result.Recipients);
        Assert.Equal(("lee@example.com", 1, true), (recipient.Address, recipient.RecipientIndex, recipient.Suppressed));
        Assert.Equal(id, (await _store.FindAsync("lee@example.com"))?.QueueId);
    }

    [Fact]
    public async Task A_delivery_status_notification_is_correlated_by_its_envelope_id_when_that_is_the_queue_id()
    {
        var queue = new MailQueue(new InMemoryQueueStore());
        var id = await queue.EnqueueAsync(new SmtpEnvelope("news@client.test", new SmtpRecipient[] { new("jane@example.org", DsnNotify.Failure, "jane+news@example.org") }), SmtpContent.FromBytes(Bytes("Subject: x\r\n\r\nx\r\n")));
        var bounce = Sample("postfix-dsn.eml").Replace("Original-Envelope-Id: q7f3a+2Bnews", "Original-Envelope-Id: " + id, StringComparison.Ordinal);
        var ingester = new BounceIngester(_store, queue, timeProvider: _time) { RequireCorrelation = true };

        var result = await ingester.IngestAsync(Bytes(bounce));

        Assert.Equal(id, result.QueueId);
        Assert.Equal([("jane@example.org", (int?)0, true), ("full@example.net", null, false)], result.Recipients.Select(r => (r.Address!, r.RecipientIndex, r.Suppressed)));
    }

    [Fact]
    public async Task A_text_bounce_that_quotes_only_the_original_header_is_correlated_by_its_Message_ID()
    {
        // qmail's bounce names no envelope id and goes to the plain sender (no VERP): the quoted Message-ID is the only
        // link back. Stops: such bounces suppressing nobody under RequireCorrelation, or the wrong message's recipients.
        var queue = new MailQueue(new InMemoryQueueStore());
        var envelope = new SmtpEnvelope("news@client.test", "nobody@oldhost.example", "big@remote.example");
        var other = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Bytes("Message-ID: <qm-0@client.test>\r\nSubject: x\r\n\r\nx\r\n")));
        var id = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Bytes("Message-ID: <qm-1@client.test>\r\nFrom: news@client.test\r\nSubject: Hello\r\n\r\nHello\r\n")));
        var ingester = new BounceIngester(_store, queue, timeProvider: _time) { RequireCorrelation = true };

        var result = await ingester.IngestAsync(Bytes(Sample("qmail.eml")));

        Assert.Equal((BounceKind.NonStandard, "qm-1@client.test"), (result.Report.Kind, result.Report.OriginalMessageId));
        Assert.Equal(id, result.QueueId);
        Assert.NotEqual(other, result.QueueId);
        // nobody@ is an invalid mailbox (5.1.1): suppressed; big@ was refused for its size (5.3.4): reported, not suppressed.
        Assert.Equal([("nobody@oldhost.example", (int?)0, true), ("big@remote.example", (int?)1, false)], result.Recipients.Select(r => (r.Address!, r.RecipientIndex, r.Suppressed)));
        var entry = Assert.Single(_store.ListAsync().ToBlockingEnumerable());
        Assert.Equal(("nobody@oldhost.example", id, "qm-1@client.test"), (entry.Address, entry.QueueId, entry.MessageId));
    }

    [Fact]
    public async Task A_Message_ID_held_by_several_queued_messages_is_settled_by_who_bounced()
    {
        // The same Message-ID sent twice (a resend, or two lists): the message that holds the bounced recipient is the
        // one. Stops: the first match winning and the bounce naming a message the recipient was never in.
        var queue = new MailQueue(new InMemoryQueueStore());
        var content = Bytes("Message-ID: <qm-1@client.test>\r\nSubject: Hello\r\n\r\nHello\r\n");
        await queue.EnqueueAsync(new SmtpEnvelope("news@client.test", "someone@else.example"), SmtpContent.FromBytes(content));
        var id = await queue.EnqueueAsync(new SmtpEnvelope("news@client.test", "nobody@oldhost.example"), SmtpContent.FromBytes(content));
        var ingester = new BounceIngester(_store, queue, timeProvider: _time) { RequireCorrelation = true };

        var result = await ingester.IngestAsync(Bytes(Sample("qmail.eml")));

        Assert.Equal(id, result.QueueId);
        Assert.Equal([("nobody@oldhost.example", (int?)0, true), ("big@remote.example", (int?)null, false)], result.Recipients.Select(r => (r.Address!, r.RecipientIndex, r.Suppressed)));
    }

    [Fact]
    public async Task With_correlation_required_a_bounce_for_no_queued_message_suppresses_nobody()
    {
        // Stops: anyone who can mail the bounce address suppressing any recipient with a forged bounce.
        var queue = new MailQueue(new InMemoryQueueStore());
        var ingester = new BounceIngester(_store, queue, timeProvider: _time) { RequireCorrelation = true };

        var result = await ingester.IngestAsync(Bytes(Sample("gmail-failure.eml")));

        Assert.Null(result.QueueId);
        Assert.False(Assert.Single(result.Recipients).Suppressed);
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task A_message_that_is_not_a_bounce_changes_nothing()
    {
        var ingester = new BounceIngester(_store, timeProvider: _time);

        var result = await ingester.IngestAsync(Bytes(Sample("auto-reply.eml")));

        Assert.Equal(BounceKind.NotABounce, result.Report.Kind);
        Assert.Empty(result.Recipients);
        Assert.Equal(0, _store.Count);
    }
}
