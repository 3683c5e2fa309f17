using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Tests.Queue;

/// <summary>
/// The worker's delivery status notifications (<see cref="MailQueueOptions.SendDeliveryStatusNotices"/>): who gets one
/// and when, what it says, that it travels through the queue from the null sender, and that it never loops.
/// </summary>
public sealed class QueueNoticeTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nTo: b@example.net\r\nSubject: queued\r\nMessage-ID: <q1@sender.example>\r\n\r\nSecret body.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly FakeQueueSender _sender = new();

    private (MailQueue Queue, MailQueueWorker Worker) Create(Action<MailQueueOptions>? configure = null)
    {
        var options = new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "mx.sender.example" };
        configure?.Invoke(options);
        var queue = new MailQueue(_store, options, null, _time, new Random(1));
        return (queue, new MailQueueWorker(queue, _sender, null));
    }

    private async Task<List<QueuedMessage>> NoticesAsync(MailQueue queue)
    {
        var notices = new List<QueuedMessage>();
        await foreach (var m in queue.ListAsync(pendingOnly: false))
        {
            if (m.Sender.Length == 0)
            {
                notices.Add(m);
            }
        }

        return notices;
    }

    [Fact]
    public async Task A_refused_recipient_gets_its_sender_one_failure_notice_through_the_queue_from_the_null_sender()
    {
        var (queue, worker) = Create();
        var envelope = new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { new("nobody@example.net", DsnNotify.Default, "list+nobody@example.org"), "ok@example.net" })
        {
            DsnEnvelopeId = "env-9",
        };
        var id = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Body));
        // The sender's own mailbox refuses too: the notice to it fails, and must make no notice of a notice.
        _sender.Outcome = a => a.StartsWith("ok@", StringComparison.Ordinal) ? FakeQueueSender.Delivered(a) : FakeQueueSender.Failed(a);

        // The notice is due at once: the same run delivers the message and then the notice.
        Assert.Equal(2, await worker.RunOnceAsync(default));

        var notice = Assert.Single(await NoticesAsync(queue));
        Assert.Equal(["a@sender.example"], notice.Recipients.Select(r => r.Address));
        var text = Encoding.UTF8.GetString(_store.Content(notice.MessageId));
        Assert.Contains("Subject: Undelivered Mail Returned to Sender\r\n", text, StringComparison.Ordinal);
        Assert.Contains("From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nReporting-MTA: dns; mx.sender.example\r\nOriginal-Envelope-Id: env-9\r\nArrival-Date: Tue, 01 Dec 2026 08:00:00 +0000\r\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "\r\nFinal-Recipient: rfc822; nobody@example.net\r\nOriginal-Recipient: rfc822;list+nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.example.net\r\n" +
            "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient address\r\n rejected: User unknown\r\n",
            text,
            StringComparison.Ordinal);
        Assert.DoesNotContain("ok@example.net>:", text, StringComparison.Ordinal); // delivered: nothing to tell
        Assert.Contains("Message-ID: <q1@sender.example>\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret body.", text, StringComparison.Ordinal); // RET not given: headers only

        var sent = Assert.Single(_sender.Sends, s => s.Envelope.Sender.Length == 0);
        Assert.Equal(["a@sender.example"], sent.Envelope.Recipients);
        Assert.Equal(QueueRecipientState.Failed, Assert.Single((await queue.GetAsync(notice.MessageId))!.Recipients).State);
        Assert.Single(await NoticesAsync(queue));
        Assert.Equal(0, await worker.RunOnceAsync(default));
        Assert.Equal(QueueRecipientState.Failed, (await queue.GetAsync(id))!.Recipients[0].State);
    }

    [Fact]
    public async Task NOTIFY_NEVER_and_the_null_sender_get_no_notice()
    {
        var (queue, worker) = Create();
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { new("nobody@example.net", DsnNotify.Never) }), SmtpContent.FromBytes(Body));
        await queue.EnqueueAsync(new SmtpEnvelope(string.Empty, "nobody@example.org"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Failed(a);

        Assert.Equal(2, await worker.RunOnceAsync(default));

        Assert.Single(await NoticesAsync(queue)); // the bounce that was enqueued itself, not one of ours
        Assert.Equal(2, _sender.Sends.Count);
    }

    [Fact]
    public async Task A_recipient_still_deferred_at_its_maximum_age_is_reported_failed_with_4_4_7()
    {
        var (queue, worker) = Create(o => { o.MaxAge = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(40)); o.DelayWarningTime = TimeSpan.Zero; });
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "slow@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Deferred(a);

        for (var i = 0; i < 3 && (await NoticesAsync(queue)).Count == 0; i++)
        {
            await worker.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromMinutes(40));
        }

        var text = Encoding.UTF8.GetString(_store.Content(Assert.Single(await NoticesAsync(queue)).MessageId));
        Assert.Contains("\r\nAction: failed\r\nStatus: 4.4.7\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Diagnostic-Code: smtp; 450 4.2.0 Greylisted", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delayed_recipient_that_asked_for_DELAY_gets_a_delay_notice_once_with_the_retry_limit()
    {
        var (queue, worker) = Create(o => { o.DelayWarningTime = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(25)); });
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { new("slow@example.net", DsnNotify.Delay | DsnNotify.Failure), new("quiet@example.net", DsnNotify.Failure) }), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => a.EndsWith("@example.net", StringComparison.Ordinal) ? FakeQueueSender.Deferred(a) : FakeQueueSender.Delivered(a);

        for (var i = 0; i < 6; i++)
        {
            await worker.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromMinutes(25));
        }

        var notice = Assert.Single(await NoticesAsync(queue));
        var text = Encoding.UTF8.GetString(_store.Content(notice.MessageId));
        Assert.Contains("Subject: Delayed Mail (still being retried)\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nFinal-Recipient: rfc822; slow@example.net\r\nAction: delayed\r\nStatus: 4.2.0\r\n", text, StringComparison.Ordinal);
        Assert.Contains("Will-Retry-Until: Sun, 06 Dec 2026 08:00:00 +0000\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("quiet@example.net", text.Split("Content-Description: The original message's header")[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Notices_need_the_reporting_host_named()
    {
        var options = new MailQueueOptions { SendDeliveryStatusNotices = true };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("DirectMail:Queue:ReportingMta", error.Message, StringComparison.Ordinal);

        options.ReportingMta = "[192.0.2.1]";
        Assert.Contains("address literal", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        options.ReportingMta = "mx.example.com";
        options.Validate();
    }
}
