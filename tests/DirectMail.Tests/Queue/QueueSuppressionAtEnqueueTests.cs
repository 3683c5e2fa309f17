using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dsn;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Suppression;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue;

/// <summary>
/// <see cref="MailQueue.SuppressionStore"/>: a suppressed recipient is kept Failed from its enqueue, with why, and is never
/// claimed (no connection is made for it); its sender gets a notice when NOTIFY asks for failures, with the RFC 3463
/// status the suppression entry keeps (5.1.1) or 5.7.1 (delivery not authorized), and the notice says DirectMail, not a
/// server, decided it (<c>Diagnostic-Code: X-DirectMail</c>). A message whose recipients are all suppressed is kept settled.
/// </summary>
public sealed class QueueSuppressionAtEnqueueTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nTo: list@example.net\r\nSubject: news\r\nMessage-ID: <n1@sender.example>\r\n\r\nSecret body.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly InMemorySuppressionStore _suppressed = new();
    private readonly FakeQueueSender _sender = new();

    private async Task<(MailQueue Queue, MailQueueWorker Worker)> CreateAsync()
    {
        await _suppressed.AddAsync(new SuppressedRecipient("gone@example.net", SuppressionSource.Bounce, new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero))
        {
            Classification = BounceClassification.InvalidRecipient,
            Status = new EnhancedStatusCode(5, 1, 1),
            Diagnostic = "550 5.1.1 <gone@example.net>: User unknown",
            QueueId = "Q1",
        });
        await _suppressed.AddAsync(new SuppressedRecipient("manual@example.net", SuppressionSource.Manual, new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero)));
        var options = new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "mx.sender.example" };
        var queue = new MailQueue(_store, options, null, _time, new Random(1)) { SuppressionStore = _suppressed };
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
    public async Task Suppressed_recipients_are_failed_at_enqueue_with_their_status_and_never_sent_while_the_others_are()
    {
        // Stops: a suppressed address mailed (or even connected for) by the queue, and a notice that says 5.0.0
        // ("other") for a recipient the list keeps a 5.1.1 for, or names a server as having said it.
        var (queue, worker) = await CreateAsync();
        using var timeout = new CancellationTokenSource(TestTimeouts.Await);
        await using var events = queue.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var first = events.MoveNextAsync(); // the reader is registered from here on

        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "ok@example.net", "gone@example.net", "manual@example.net"), SmtpContent.FromBytes(Body));

        var message = (await queue.GetAsync(id))!;
        Assert.Equal([QueueRecipientState.Queued, QueueRecipientState.Failed, QueueRecipientState.Failed], message.Recipients.Select(r => r.State));
        Assert.StartsWith("550 5.1.1 DirectMail did not send to <gone@example.net>: it is on the suppression list since 2026-12-01 09:00:00Z (bounced, InvalidRecipient, message Q1)", message.Recipients[1].Attempts.Single().Detail, StringComparison.Ordinal);
        Assert.StartsWith("550 5.7.1 DirectMail did not send to <manual@example.net>: it is on the suppression list since 2026-12-01 10:00:00Z (added by hand", message.Recipients[2].Attempts.Single().Detail, StringComparison.Ordinal);
        Assert.True(await first);
        var one = events.Current;
        Assert.True(await events.MoveNextAsync());
        var two = events.Current;
        Assert.Equal([(id, 1, QueueRecipientState.Failed), (id, 2, QueueRecipientState.Failed)], new[] { one, two }.Select(e => (e.QueueId, e.RecipientIndex, e.State)));

        // One notice for both, queued at enqueue.
        var notice = Assert.Single(await NoticesAsync(queue));
        var text = Encoding.ASCII.GetString(_store.Content(notice.MessageId));
        Assert.Contains(
            "\r\nFinal-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
            "Diagnostic-Code: X-DirectMail; 550 5.1.1 DirectMail did not send to\r\n <gone@example.net>: it",
            text,
            StringComparison.Ordinal);
        Assert.Contains("\r\nFinal-Recipient: rfc822; manual@example.net\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: X-DirectMail; 550 5.7.1 DirectMail did not send to\r\n <manual@example.net>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Remote-MTA:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Final-Recipient: rfc822; ok@example.net", text, StringComparison.Ordinal);

        // The worker sends the message to ok@ only, and the notice; nothing for the suppressed ones.
        Assert.Equal(2, await worker.RunOnceAsync(default));
        var rcpts = _sender.Sends.SelectMany(s => s.Envelope.Recipients).ToList();
        Assert.Equal(["a@sender.example", "ok@example.net"], rcpts.Order(StringComparer.Ordinal));
        Assert.Equal([QueueRecipientState.Delivered, QueueRecipientState.Failed, QueueRecipientState.Failed], (await queue.GetAsync(id))!.Recipients.Select(r => r.State));
    }

    [Fact]
    public async Task A_message_whose_recipients_are_all_suppressed_is_kept_settled_and_only_its_notice_is_sent()
    {
        // Stops: the application losing the outcome (no queue id, nothing to look up) or the queue holding the message
        // pending for ever; and a notice to a recipient that asked NOTIFY=NEVER.
        var (queue, worker) = await CreateAsync();
        var envelope = new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { "gone@example.net", new("manual@example.net", DsnNotify.Never) });

        var id = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Body));

        var message = (await queue.GetAsync(id))!;
        Assert.All(message.Recipients, r => Assert.Equal((QueueRecipientState.Failed, (DateTimeOffset?)null), (r.State, r.NextAttemptAt)));
        Assert.Equal("n1@sender.example", message.InternetMessageId);
        Assert.DoesNotContain(id, (await MailQueueWorkerTests.ToListAsync(queue.ListAsync(pendingOnly: true))).Select(m => m.MessageId));
        var notice = Assert.Single(await NoticesAsync(queue));
        var text = Encoding.ASCII.GetString(_store.Content(notice.MessageId));
        Assert.Contains("Final-Recipient: rfc822; gone@example.net\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Final-Recipient: rfc822; manual@example.net", text, StringComparison.Ordinal);
        Assert.Contains("Message-ID: <n1@sender.example>\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret body.", text, StringComparison.Ordinal);

        Assert.Equal(1, await worker.RunOnceAsync(default));
        var sent = Assert.Single(_sender.Sends);
        Assert.Equal(string.Empty, sent.Envelope.Sender);
    }

    [Fact]
    public async Task A_recipient_suppressed_after_enqueue_is_failed_by_the_worker_s_mailer_with_its_status_in_the_notice()
    {
        // Stops: the notice of a recipient the mailer refused as suppressed saying 5.0.0 and no diagnostic (the status
        // lived only in the attempt's detail). No server is needed: the mailer fails it before any connection.
        var options = new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "mx.sender.example" };
        await using var queue = new MailQueue(_store, options, null, _time, new Random(1));
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "gone@example.net"), SmtpContent.FromBytes(Body));
        await _suppressed.AddAsync(new SuppressedRecipient("gone@example.net", SuppressionSource.Bounce, Start) { Status = new EnhancedStatusCode(5, 1, 1), Classification = BounceClassification.InvalidRecipient });
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(25), new TableResolver()) { SuppressionStore = _suppressed };
        var worker = new MailQueueWorker(queue, mailer);

        await worker.RunOnceAsync(default);

        Assert.Equal(QueueRecipientState.Failed, Assert.Single((await queue.GetAsync(id))!.Recipients).State);
        var notice = Assert.Single(await NoticesAsync(queue));
        var text = Encoding.ASCII.GetString(_store.Content(notice.MessageId));
        Assert.Contains("\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: X-DirectMail; 550 5.1.1 DirectMail did not send to\r\n <gone@example.net>: it is on the suppression list", text, StringComparison.Ordinal);
        Assert.Contains("<gone@example.net>: not sent: 550 5.1.1 DirectMail did not send to", text, StringComparison.Ordinal); // no server is said to have said it
    }
}
