using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using Xunit;

namespace DirectMail.Tests.Queue;

/// <summary>
/// A REQUIRETLS message (RFC 8689) and the queue: the flag is kept with the message, every retry is sent with it, an MX
/// that cannot meet it fails the recipient at once (5.7.30, not retried for days), and the notice about it is protected
/// as the message was (REQUIRETLS, the original's header only).
/// </summary>
public sealed class QueueRequireTlsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: sender@client.test\r\nTo: someone@flaky.test\r\nSubject: secret\r\nMessage-ID: <rtls-1@client.test>\r\n\r\nOnly over validated TLS.\r\n");

    private static RecipientDelivery Unmet(string address) => new(address, DeliveryStatus.Failed,
        new SmtpReply(550, ["5.7.30 REQUIRETLS: no MX host of flaky.test is authenticated by DANE or MTA-STS and offers REQUIRETLS"], isSynthetic: true),
        null, null, 0, TimeSpan.FromMilliseconds(1), false, null, null);

    [Fact]
    public async Task A_queued_REQUIRETLS_message_is_sent_with_it_and_5_7_30_fails_at_once_with_a_notice_sent_with_REQUIRETLS()
    {
        // Stops: a queued REQUIRETLS message retried without REQUIRETLS (a downgrade), a 5.7.30 retried for days, and the
        // notice carrying the body back, or travelling without REQUIRETLS (RFC 8689 section 5).
        var time = new FakeTimeProvider(Start);
        var store = new InMemoryQueueStore();
        var options = new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "mx.client.test" };
        await using var queue = new MailQueue(store, options, null, time, new Random(1));
        var sender = new FakeQueueSender { Outcome = a => a.StartsWith("someone@", StringComparison.Ordinal) ? Unmet(a) : FakeQueueSender.Delivered(a) };
        var worker = new MailQueueWorker(queue, sender, null);

        var id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@flaky.test") { RequireTls = true, DsnReturn = DsnReturn.Full }, SmtpContent.FromBytes(Body));
        Assert.True((await queue.GetAsync(id))!.RequireTls);

        Assert.Equal(2, await worker.RunOnceAsync(default)); // the message, then its notice

        var first = sender.Sends[0];
        Assert.True(first.Envelope.RequireTls);
        Assert.Equal(DsnReturn.Full, first.Envelope.DsnReturn); // the wire sends RET=HDRS under REQUIRETLS (SmtpTransaction)
        var recipient = Assert.Single((await queue.GetAsync(id))!.Recipients);
        Assert.Equal(QueueRecipientState.Failed, recipient.State);
        Assert.Null(recipient.NextAttemptAt);
        Assert.StartsWith("550 5.7.30 REQUIRETLS", Assert.Single(recipient.Attempts).Detail, StringComparison.Ordinal);

        var notice = sender.Sends[1];
        Assert.Equal(string.Empty, notice.Envelope.Sender);
        Assert.Equal(["sender@client.test"], notice.Envelope.Recipients);
        Assert.True(notice.Envelope.RequireTls);
        var text = Encoding.ASCII.GetString(notice.Content);
        Assert.Contains("\r\nFinal-Recipient: rfc822; someone@flaky.test\r\nAction: failed\r\nStatus: 5.7.30\r\nDiagnostic-Code: X-DirectMail; 550 5.7.30 REQUIRETLS:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Remote-MTA:", text, StringComparison.Ordinal); // no server said it
        Assert.Contains("Message-ID: <rtls-1@client.test>\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Only over validated TLS.", text, StringComparison.Ordinal); // RET=FULL, but headers only

        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await worker.RunOnceAsync(default)); // nothing retried
    }

    [Fact]
    public async Task A_deferred_REQUIRETLS_message_is_retried_with_REQUIRETLS_and_a_plain_one_without()
    {
        // Stops: the retry of a deferral rebuilding the envelope without the flag (or with it for every message).
        var time = new FakeTimeProvider(Start);
        var store = new InMemoryQueueStore();
        await using var queue = new MailQueue(store, new MailQueueOptions { RetryJitter = 0 }, null, time, new Random(1));
        var sender = new FakeQueueSender { Outcome = a => FakeQueueSender.Deferred(a) };
        var worker = new MailQueueWorker(queue, sender, null);
        await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "strict@flaky.test") { RequireTls = true }, SmtpContent.FromBytes(Body));
        await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "plain@other.test"), SmtpContent.FromBytes(Body));

        await worker.RunOnceAsync(default);
        time.Advance(TimeSpan.FromHours(2));
        await worker.RunOnceAsync(default);

        Assert.Equal(4, sender.Sends.Count);
        Assert.All(sender.Sends, s => Assert.Equal(s.Envelope.Recipients[0].StartsWith("strict@", StringComparison.Ordinal), s.Envelope.RequireTls));
    }

    [Fact]
    public async Task SendAsync_hands_a_deferred_REQUIRETLS_recipient_to_the_queue_with_the_flag_kept()
    {
        // Stops: the mailer's OnDeferred hand-off dropping REQUIRETLS (the queue's retry would then go without it), or
        // leaving the recipient to the caller as before the queue kept the flag.
        var store = new InMemoryQueueStore();
        await using var queue = new MailQueue(store, new MailQueueOptions());
        var resolver = new TableResolver();
        resolver.Failures["flaky.test"] = MxResolution.FromFailure("flaky.test", MxResolutionStatus.DnsFailure, "SERVFAIL");
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(25), resolver) { OnDeferred = queue };

        var report = await mailer.SendAsync(new SmtpEnvelope("sender@client.test", "someone@flaky.test") { RequireTls = true, DsnReturn = DsnReturn.Full }, SmtpContent.FromBytes(Body));

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        Assert.NotNull(recipient.QueueId);
        var queued = (await queue.GetAsync(recipient.QueueId!))!;
        Assert.True(queued.RequireTls);
        Assert.Equal(DsnReturn.Full, queued.DsnReturn);
        Assert.Equal("rtls-1@client.test", queued.InternetMessageId);
        Assert.Equal(QueueRecipientState.Deferred, Assert.Single(queued.Recipients).State);
        var claim = Assert.Single(await store.ClaimDueAsync(DateTimeOffset.MaxValue.AddDays(-1), 10, TimeSpan.FromMinutes(1), default));
        Assert.True(claim.RequireTls);
    }
}
