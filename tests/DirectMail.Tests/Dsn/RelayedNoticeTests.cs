using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Queue;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// The queue's "relayed" notices (RFC 3461 section 4.1, RFC 3464 section 2.3.3): a recipient that asked NOTIFY=SUCCESS
/// and was delivered to a server without DSN gets its sender one notice (for all such recipients of the message); one
/// delivered to a server that offers DSN gets none (that server was given NOTIFY and tells the sender itself). The event
/// tells the same.
/// </summary>
public sealed class RelayedNoticeTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nTo: b@example.net\r\nSubject: queued\r\nMessage-ID: <r1@sender.example>\r\n\r\nBody.\r\n");
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly FakeQueueSender _sender = new();

    private (MailQueue Queue, MailQueueWorker Worker) Create()
    {
        var queue = new MailQueue(_store, new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "mx.sender.example" }, null, _time, new Random(1));
        return (queue, new MailQueueWorker(queue, _sender, null));
    }

    private static RecipientDelivery Delivered(string address, bool dsn)
    {
        var d = FakeQueueSender.Delivered(address);
        return new RecipientDelivery(d.Address, d.Status, d.Reply, d.MxHost, d.ServerAddress, d.Attempts, d.Duration, false, null, null) { NextHopOfferedDsn = dsn };
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
    public async Task Recipients_that_asked_for_success_and_met_a_server_without_DSN_get_one_relayed_notice_together()
    {
        var (queue, worker) = Create();
        using var timeout = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reader = queue.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var next = reader.MoveNextAsync(); // subscribed from here on
        var id = await queue.EnqueueAsync(
            new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { new("one@example.net", DsnNotify.Success | DsnNotify.Failure, "list-one@example.org"), new("two@example.net", DsnNotify.Success), new("three@example.net", DsnNotify.Failure), "four@example.net" }) { DsnEnvelopeId = "env-r" },
            SmtpContent.FromBytes(Body));
        _sender.Outcome = a => Delivered(a, dsn: false);

        await worker.RunOnceAsync(default);

        var notice = Assert.Single(await NoticesAsync(queue));
        Assert.Equal(["a@sender.example"], notice.Recipients.Select(r => r.Address));
        var text = Encoding.UTF8.GetString(_store.Content(notice.MessageId));
        Assert.Contains("Subject: Successful Mail Delivery Report\r\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "\r\nFinal-Recipient: rfc822; one@example.net\r\nOriginal-Recipient: rfc822;list-one@example.org\r\nAction: relayed\r\nStatus: 2.0.0\r\nRemote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued as 1\r\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("\r\nFinal-Recipient: rfc822; two@example.net\r\nAction: relayed\r\nStatus: 2.0.0\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("three@example.net", text.Split("Content-Description: The original message's header")[0], StringComparison.Ordinal);
        Assert.DoesNotContain("four@example.net", text.Split("Content-Description: The original message's header")[0], StringComparison.Ordinal);
        Assert.Contains("Original-Envelope-Id: env-r\r\n", text, StringComparison.Ordinal);

        // The application's view: the same recipients' events say relayed.
        var events = new List<MailQueueEvent>();
        while (events.Count < 4 && await next)
        {
            events.Add(reader.Current);
            next = reader.MoveNextAsync();
        }

        Assert.Equal([true, true, false, false], events.Where(e => e.QueueId == id).OrderBy(e => e.RecipientIndex).Select(e => e.IsRelayed));
        Assert.Equal(QueueRecipientState.Delivered, events[0].State);
        await reader.DisposeAsync();
    }

    [Fact]
    public async Task A_server_that_offers_DSN_takes_the_success_notice_on_itself_and_the_queue_sends_none()
    {
        var (queue, worker) = Create();
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", new SmtpRecipient[] { new("one@example.net", DsnNotify.Success) }), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => Delivered(a, dsn: true);

        await worker.RunOnceAsync(default);

        Assert.Empty(await NoticesAsync(queue));
    }
}
