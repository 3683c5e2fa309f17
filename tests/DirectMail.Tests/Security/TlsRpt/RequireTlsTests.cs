using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Security.MtaSts;
using static DirectMail.Tests.Delivery.DeliveryTestKit;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// REQUIRETLS (RFC 8689) on the wire: MX hosts under an MTA-STS enforce policy (NSD, Kestrel, the tests' CA) that offer
/// REQUIRETLS or not; the exact MAIL FROM line each saw, and nothing sent where the message may not go.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RequireTlsTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    private const string EhloWithRequireTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250-REQUIRETLS\r\n250 ENHANCEDSTATUSCODES";
    private const string EhloWithoutRequireTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES";

    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.Delivery.Port);

    private DirectMailer Mailer() => new(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile));

    [Fact]
    public async Task A_host_authenticated_by_mta_sts_that_offers_requiretls_gets_requiretls_on_mail_from_and_ret_hdrs_for_ret_full()
    {
        const string domain = "rtls-ok.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx." + domain));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.Ok), fixture.Ca.Issue("mx." + domain));
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();
        var content = Message("require tls");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true, DsnReturn = DsnReturn.Full }, SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.MtaSts, r.Tls!.Kind);
        Assert.Equal($"MAIL FROM:<{Sender}> REQUIRETLS RET=HDRS", mx.Dialogue.Commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
    }

    [Fact]
    public async Task A_host_that_does_not_offer_requiretls_gets_nothing_and_the_next_mx_that_does_gets_the_message()
    {
        // Stops: the message reaching a host that would pass it on without the guarantee (RFC 8689 section 4.1).
        const string domain = "rtls-lacking.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("*.rtls-lacking.deliver.test"));
        await using var lacking = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.Lacking), fixture.Ca.Issue("mx." + domain));
        lacking.Dialogue.EhloReply = EhloWithoutRequireTls;
        await using var offering = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.LackingBackup), fixture.Ca.Issue("mx2." + domain));
        offering.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(Message("next mx")));

        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(report.Recipients).Status);
        Assert.DoesNotContain(lacking.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(lacking.Dialogue.Messages);
        Assert.Equal($"MAIL FROM:<{Sender}> REQUIRETLS", offering.Dialogue.Commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task When_no_mx_offers_requiretls_the_recipient_fails_at_once_with_5_7_30_and_nothing_is_sent()
    {
        const string domain = "rtls-lacking.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("*.rtls-lacking.deliver.test"));
        await using var one = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.Lacking), fixture.Ca.Issue("mx." + domain));
        one.Dialogue.EhloReply = EhloWithoutRequireTls;
        await using var two = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.LackingBackup), fixture.Ca.Issue("mx2." + domain));
        two.Dialogue.EhloReply = EhloWithoutRequireTls;
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(Message("nowhere")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal("5.7.30", r.Reply!.EnhancedStatusCode?.ToString());
        Assert.Empty(one.Dialogue.Messages.Concat(two.Dialogue.Messages));
        Assert.DoesNotContain(one.Dialogue.Commands.Concat(two.Dialogue.Commands), c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_domain_without_dane_or_mta_sts_fails_at_once_with_5_7_30_without_a_connection()
    {
        // Opportunistic TLS cannot meet REQUIRETLS: an attacker could strip STARTTLS or present any certificate.
        const string domain = "rtls-nopolicy.deliver.test";
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.RequireTls.NoPolicy), fixture.Ca.Issue("mx." + domain));
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(Message("no policy")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.StartsWith("550 5.7.30", r.Reply!.ToString());
        Assert.Equal(0, mx.Accepted);
    }

    [Fact]
    public async Task A_message_marked_tls_required_no_is_delivered_despite_an_mta_sts_failure()
    {
        // RFC 8689 section 5: the sender chose delivery over protection for this message (a TLS report, an alert about
        // a broken certificate); MTA-STS enforce would otherwise defer it.
        const string domain = "sts-wrongcert.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx." + domain));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.WrongCert), fixture.Ca.Issue("attacker.deliver.test"));
        await using var mailer = Mailer();
        var content = System.Text.Encoding.ASCII.GetBytes("From: <" + Sender + ">\r\nTLS-Required: No\r\nSubject: opportunistic\r\n\r\nBody\r\n");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.Unauthenticated, r.Tls!.Kind);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
    }

    [Fact]
    public async Task Under_requiretls_the_tls_required_no_field_is_ignored()
    {
        const string domain = "sts-wrongcert.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx." + domain));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.WrongCert), fixture.Ca.Issue("attacker.deliver.test"));
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();
        var content = System.Text.Encoding.ASCII.GetBytes("TLS-Required: No\r\nSubject: both\r\n\r\nBody\r\n");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain) { RequireTls = true }, SmtpContent.FromBytes(content));

        Assert.NotEqual(DeliveryStatus.Delivered, Assert.Single(report.Recipients).Status);
        Assert.Empty(mx.Dialogue.Messages);
    }

    private static string Enforce(string mx) => $"version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: 86400\r\n";
}
