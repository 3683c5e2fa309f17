using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Security.MtaSts;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Queue;

/// <summary>
/// A REQUIRETLS message through the queue and its worker, with the real mailer, in the MTA-STS world of the REQUIRETLS
/// tests (NSD's deliver.test zone, the policies over HTTPS from Kestrel, the tests' CA, STARTTLS servers that offer
/// REQUIRETLS or not): the worker's send carries REQUIRETLS, and what the receiving servers saw is asserted.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class QueueRequireTlsEndToEndTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    private const string EhloWithRequireTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250-REQUIRETLS\r\n250 ENHANCEDSTATUSCODES";
    private const string EhloWithoutRequireTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES";

    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.Delivery.Port);

    private DirectMailer Mailer() => new(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile));

    private static MailQueue Queue(InMemoryQueueStore store) =>
        new(store, new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "client.deliver.test" });

    [Fact]
    public async Task A_queued_REQUIRETLS_message_to_a_domain_without_a_policy_fails_5_7_30_without_a_connection_and_is_not_retried()
    {
        // Stops: the queue sending a REQUIRETLS message in plaintext or under opportunistic TLS (an attacker could strip
        // STARTTLS), and a 5.7.30 kept Deferred and retried for days.
        const string domain = "rtls-nopolicy.deliver.test";
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.NoPolicy), fixture.Ca.Issue("mx." + domain));
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();
        var store = new InMemoryQueueStore();
        await using var queue = Queue(store);
        var worker = new MailQueueWorker(queue, mailer);
        var id = await queue.EnqueueAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(Message("queued no policy")));

        await worker.RunOnceAsync(default);

        var recipient = Assert.Single((await queue.GetAsync(id))!.Recipients);
        Assert.Equal(QueueRecipientState.Failed, recipient.State);
        Assert.Null(recipient.NextAttemptAt);
        Assert.Contains("DANE", Assert.Single(recipient.Attempts).Detail, StringComparison.Ordinal);
        Assert.Equal(0, mx.Accepted);
        Assert.Empty(mx.Dialogue.Messages);

        // The notice to the sender is queued with REQUIRETLS and says 5.7.30.
        var notice = Assert.Single(await MailQueueWorkerTests.ToListAsync(queue.ListAsync(pendingOnly: false)), m => m.Sender.Length == 0);
        Assert.True(notice.RequireTls);
        var text = Encoding.ASCII.GetString(store.Content(notice.MessageId));
        Assert.Contains("\r\nAction: failed\r\nStatus: 5.7.30\r\nDiagnostic-Code: X-DirectMail; 550 5.7.30", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queued_REQUIRETLS_message_whose_mx_hosts_do_not_offer_it_fails_5_7_30_and_neither_gets_a_MAIL_command()
    {
        // Stops: the worker's retry handing the message to an authenticated host that would pass it on without the
        // guarantee (RFC 8689 section 4.1).
        const string domain = "rtls-lacking.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("*.rtls-lacking.deliver.test"));
        await using var one = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.Lacking), fixture.Ca.Issue("mx." + domain));
        one.Dialogue.EhloReply = EhloWithoutRequireTls;
        await using var two = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.LackingBackup), fixture.Ca.Issue("mx2." + domain));
        two.Dialogue.EhloReply = EhloWithoutRequireTls;
        await using var mailer = Mailer();
        var store = new InMemoryQueueStore();
        await using var queue = Queue(store);
        var worker = new MailQueueWorker(queue, mailer);
        var id = await queue.EnqueueAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(Message("queued nowhere")));

        await worker.RunOnceAsync(default);

        var recipient = Assert.Single((await queue.GetAsync(id))!.Recipients);
        Assert.Equal(QueueRecipientState.Failed, recipient.State);
        Assert.Contains("REQUIRETLS", Assert.Single(recipient.Attempts).Detail, StringComparison.Ordinal);
        Assert.Null(recipient.Attempts[0].Reply); // DirectMail decided it: no server's reply is recorded
        Assert.Empty(one.Dialogue.Messages.Concat(two.Dialogue.Messages));
        Assert.DoesNotContain(one.Dialogue.Commands.Concat(two.Dialogue.Commands), c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_queued_REQUIRETLS_message_reaches_an_mta_sts_host_that_offers_it_with_REQUIRETLS_and_RET_HDRS()
    {
        // Stops: the worker rebuilding the envelope without REQUIRETLS (the host would get a plain MAIL FROM, and the
        // next hop would be free to downgrade), or sending RET=FULL under it.
        const string domain = "rtls-ok.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx." + domain));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.Ok), fixture.Ca.Issue("mx." + domain));
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();
        var store = new InMemoryQueueStore();
        await using var queue = Queue(store);
        var worker = new MailQueueWorker(queue, mailer);
        var content = Message("queued require tls");
        var id = await queue.EnqueueAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true, DsnReturn = DsnReturn.Full }, SmtpContent.FromBytes(content));

        await worker.RunOnceAsync(default);

        Assert.Equal(QueueRecipientState.Delivered, Assert.Single((await queue.GetAsync(id))!.Recipients).State);
        Assert.Equal($"MAIL FROM:<{Sender}> REQUIRETLS RET=HDRS", mx.Dialogue.Commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
    }

    private static string Enforce(string mx) => $"version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: 86400\r\n";
}
