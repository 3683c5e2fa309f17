using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dsn;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using DirectMail.Tests.Queue;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// "Relayed" notices on real servers: the queue delivers NOTIFY=SUCCESS recipients to Postfix's smtp-sink started
/// without DSN (<c>-N</c>) and its notice reaches the sender's mailbox at Postfix; delivered to Postfix itself (which
/// offers DSN) the queue sends none, and Postfix's own success notice shows NOTIFY was passed on.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RelayedNoticeIntegrationTests
{
    private const string NoDsnDomain = "nodsn.test";
    private static readonly IPAddress SinkAddress = IPAddress.Parse("127.0.71.25");
    private readonly PostfixFixture _postfix;

    public RelayedNoticeIntegrationTests(PostfixFixture postfix) => _postfix = postfix;

    private static (MailQueue Queue, InMemoryQueueStore Store, DirectMailer Mailer) Create()
    {
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "client.directmail.test" });
        var mailer = new DirectMailer(
            LoopbackMailerOptions.Create(PostfixFixture.Port),
            new TableResolver
            {
                [NoDsnDomain] = [("mx." + NoDsnDomain, 10, SinkAddress)],
                [PostfixFixture.Domain] = [(PostfixFixture.HostName, 10, PostfixFixture.Address)],
            });
        return (queue, store, mailer);
    }

    private static byte[] Message(string subject) => Encoding.ASCII.GetBytes($"From: sender@client.test\r\nTo: someone@{NoDsnDomain}\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@client.test>\r\n\r\nBody.\r\n");

    [Fact]
    public async Task NOTIFY_SUCCESS_to_a_server_without_DSN_brings_the_sender_one_relayed_notice_for_both_recipients()
    {
        using var sink = new SmtpSinkServer(SinkAddress, offerDsn: false);
        var (queue, _, mailer) = Create();
        await using var _ = mailer;
        var sender = PostfixFixture.Recipient("relayed-" + Guid.NewGuid().ToString("N")[..8]);
        var envelopeId = "rl-" + Guid.NewGuid().ToString("N")[..10];
        await queue.EnqueueAsync(
            new SmtpEnvelope(sender, new SmtpRecipient[] { new("one@" + NoDsnDomain, DsnNotify.Success | DsnNotify.Failure, "list-one@example.org"), new("two@" + NoDsnDomain, DsnNotify.Success), "three@" + NoDsnDomain })
            {
                DsnEnvelopeId = envelopeId,
            },
            SmtpContent.FromBytes(Message("relayed")));

        // One run: the message to the sink, then the notice (due at once) to the sender's mailbox at Postfix.
        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);

        var copy = Assert.Single(sink.Messages());
        Assert.Equal(["one@" + NoDsnDomain, "two@" + NoDsnDomain, "three@" + NoDsnDomain], copy.Recipients);
        var notice = await WaitForNoticeAsync(envelopeId, n => true);
        var text = Encoding.UTF8.GetString(notice);
        Assert.Contains("Subject: Successful Mail Delivery Report", text, StringComparison.Ordinal);
        var report = BounceParser.Parse(notice);
        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal(envelopeId, report.EnvelopeId);
        Assert.Equal(
            [("one@" + NoDsnDomain, "list-one@example.org", DsnAction.Relayed, "2.0.0", "mx." + NoDsnDomain), ("two@" + NoDsnDomain, null, DsnAction.Relayed, "2.0.0", "mx." + NoDsnDomain)],
            report.Recipients.Select(r => (r.Address, r.OriginalRecipient, r.Action, r.Status?.ToString(), r.RemoteMta)));
        Assert.All(report.Recipients, r => Assert.StartsWith("250 ", r.Diagnostic, StringComparison.Ordinal));
        Assert.Equal(1, _postfix.ReadInbox().Count(m => Encoding.UTF8.GetString(m.Content).Contains("Original-Envelope-Id: " + envelopeId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NOTIFY_SUCCESS_to_a_server_that_offers_DSN_is_passed_on_and_the_queue_sends_no_notice()
    {
        var (queue, store, mailer) = Create();
        await using var _ = mailer;
        var sender = PostfixFixture.Recipient("dsnok-" + Guid.NewGuid().ToString("N")[..8]);
        var envelopeId = "ok-" + Guid.NewGuid().ToString("N")[..10];
        var id = await queue.EnqueueAsync(
            new SmtpEnvelope(sender, new SmtpRecipient[] { new(PostfixFixture.Recipient("dsn-target"), DsnNotify.Success) }) { DsnEnvelopeId = envelopeId },
            SmtpContent.FromBytes(Message("passed on")));

        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);

        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(id))!.Recipients[0].State);
        // Postfix took NOTIFY=SUCCESS on and tells of the delivery itself: its "delivered" notice is the proof.
        var theirs = BounceParser.Parse(await WaitForNoticeAsync(envelopeId, n => n.Contains("Action: delivered", StringComparison.Ordinal)));
        Assert.Equal(DsnAction.Delivered, Assert.Single(theirs.Recipients).Action);
        await foreach (var m in queue.ListAsync(pendingOnly: false))
        {
            Assert.NotEqual(string.Empty, m.Sender); // no notice of DirectMail's own
        }

        Assert.DoesNotContain(_postfix.ReadInbox(), m => Encoding.UTF8.GetString(m.Content) is var t && t.Contains(envelopeId, StringComparison.Ordinal) && t.Contains("Action: relayed", StringComparison.Ordinal));
    }

    private async Task<byte[]> WaitForNoticeAsync(string envelopeId, Func<string, bool> matches)
    {
        return await TestTimeouts.FindEventuallyAsync(
            () =>
            {
                foreach (var message in _postfix.ReadInbox())
                {
                    var text = Encoding.UTF8.GetString(message.Content);
                    if (text.Contains("Original-Envelope-Id: " + envelopeId, StringComparison.Ordinal) && matches(text))
                    {
                        return message.Content;
                    }
                }

                return null;
            },
            $"a notice for {envelopeId} in the mailbox",
            () => "Log:\n" + _postfix.ReadLog());
    }
}
