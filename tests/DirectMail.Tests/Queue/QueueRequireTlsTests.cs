using System;
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
/// A REQUIRETLS message (RFC 8689) and the queue, which does not keep the flag: it must never be queued, because the
/// retry would go without REQUIRETLS, to hosts the sender forbade.
/// </summary>
public sealed class QueueRequireTlsTests
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: sender@client.test\r\nTo: someone@flaky.test\r\nSubject: secret\r\n\r\nOnly over validated TLS.\r\n");

    [Fact]
    public async Task EnqueueAsync_refuses_a_REQUIRETLS_envelope_and_stores_nothing()
    {
        // Stops: a REQUIRETLS message kept by the queue and retried later without REQUIRETLS (a downgrade).
        var store = new InMemoryQueueStore();
        await using var queue = new MailQueue(store, new MailQueueOptions());

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@flaky.test") { RequireTls = true }, SmtpContent.FromBytes(Body)));

        Assert.Equal("envelope", e.ParamName);
        Assert.Contains("REQUIRETLS", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.Enqueues);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SendAsync_hands_a_deferred_recipient_to_the_queue_only_without_REQUIRETLS(bool requireTls)
    {
        // Stops: the mailer's OnDeferred hand-off queueing a REQUIRETLS message (its retry would lose REQUIRETLS).
        // The same deferral (a DNS failure) without REQUIRETLS is queued, so the check is what keeps it out.
        var store = new InMemoryQueueStore();
        await using var queue = new MailQueue(store, new MailQueueOptions());
        var resolver = new TableResolver();
        resolver.Failures["flaky.test"] = MxResolution.FromFailure("flaky.test", MxResolutionStatus.DnsFailure, "SERVFAIL");
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(25), resolver) { OnDeferred = queue };

        var report = await mailer.SendAsync(new SmtpEnvelope("sender@client.test", "someone@flaky.test") { RequireTls = requireTls }, SmtpContent.FromBytes(Body));

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        if (requireTls)
        {
            Assert.Null(recipient.QueueId);
            Assert.Equal(0, store.Enqueues);
        }
        else
        {
            Assert.NotNull(recipient.QueueId);
            Assert.Equal(1, store.Enqueues);
        }
    }
}
