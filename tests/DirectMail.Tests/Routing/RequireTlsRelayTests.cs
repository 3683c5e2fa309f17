using System;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using DirectMail.Tests.Queue;
using DirectMail.Tests.Security.MtaSts;

namespace DirectMail.Tests.Routing;

/// <summary>
/// REQUIRETLS (RFC 8689 section 4.2.1) through a configured relay: <see cref="SmtpTransaction.RequireTlsRefusal"/>'s
/// decision table, and a real aiosmtpd relay (<see cref="OAuthRelayServer"/> on 127.0.42.1 and up, STARTTLS, port
/// 10587) that offers REQUIRETLS, with a certificate from the tests' CA for its address or for another name, or with
/// certificate validation turned off: the exact MAIL FROM line it received, what it stored, and, where nothing may be
/// sent, that no AUTH and no MAIL reached it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RequireTlsRelayTests : IClassFixture<RequireTlsRelayTests.CaFixture>
{
    private static int _nextAddress;

    private static readonly byte[] Message = "From: app@client.test\r\nTo: someone@far.test\r\nSubject: requiretls via relay\r\n\r\nOnly over validated TLS.\r\n.leading dot\r\n"u8.ToArray();

    private readonly TestCertificateAuthority _ca;

    public RequireTlsRelayTests(CaFixture fixture) => _ca = fixture.Ca;

    /// <summary>The tests' CA, one for the class.</summary>
    public sealed class CaFixture : IDisposable
    {
        public TestCertificateAuthority Ca { get; } = new("DirectMail Relay Test CA");

        public void Dispose() => Ca.Dispose();
    }

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.42.{Interlocked.Increment(ref _nextAddress)}");

    /// <summary>
    /// What an application with a private CA configures: the chain must end at <paramref name="root"/> and the name must
    /// match (the platform's name check, kept: only the chain error of an unknown root is overridden).
    /// </summary>
    internal static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 root) => (_, certificate, _, errors) =>
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    };

    private SmtpRelayOptions Relay(OAuthRelayServer server, bool credentials = true) => new()
    {
        Hosts = { server.Host },
        TlsMode = SmtpTlsMode.Required,
        UserName = credentials ? OAuthRelayServer.User : null,
        TokenProvider = credentials ? (_, _, _) => ValueTask.FromResult("relay-token") : null,
        CertificateValidationCallback = TrustOnly(_ca.Root),
    };

    private static DirectMailer Mailer(SmtpRelayOptions relay) => new(LoopbackMailerOptions.Create(25, o =>
    {
        o.Timeouts.Command = TimeSpan.FromSeconds(30); // the first TLS handshake of a run can take seconds on a loaded machine
        o.Relays["submission"] = relay;
        o.Routes.Default = "submission";
    }), new TableResolver());

    private static SmtpEnvelope RequireTls() => new(OAuthRelayServer.User, "someone@far.test") { RequireTls = true };

    [Theory]
    // MX hosts: DANE or MTA-STS, and REQUIRETLS offered.
    [InlineData(true, false, false, true, null)]
    [InlineData(true, false, false, false, "REQUIRETLS is set and host.test does not offer REQUIRETLS (RFC 8689).")]
    [InlineData(false, false, false, true, "REQUIRETLS is set and host.test was not reached over TLS authenticated by DANE or MTA-STS (RFC 8689).")]
    // A configured relay: its certificate validated against the configured name, and REQUIRETLS offered.
    [InlineData(false, true, true, true, null)]
    [InlineData(false, true, true, false, "REQUIRETLS is set and host.test does not offer REQUIRETLS (RFC 8689).")]
    [InlineData(false, true, false, true, "REQUIRETLS is set and the relay host.test was not reached over TLS with its certificate validated (RFC 8689).")]
    [InlineData(false, true, false, false, "REQUIRETLS is set and the relay host.test was not reached over TLS with its certificate validated (RFC 8689).")]
    public void The_REQUIRETLS_decision_takes_policy_validated_hosts_and_validated_relays_that_offer_it_and_nothing_else(bool policyValidated, bool configuredRelay, bool relayValidated, bool offered, string? refusal)
    {
        // Stops: a relay reached without a validated certificate (validation off, plaintext) counting as authenticated,
        // and a validated host that does not offer REQUIRETLS getting the message (it could pass it on without it).
        Assert.Equal(refusal, SmtpTransaction.RequireTlsRefusal(policyValidated, configuredRelay, relayValidated, offered, "host.test"));
    }

    /// <summary>Sends the REQUIRETLS message, closes the mailer and waits until the relay saw the connection end: the recipient's outcome and every verb the relay received.</summary>
    private static async Task<(RecipientDelivery Recipient, string[] Verbs)> SendUntilClosedAsync(DirectMailer mailer, OAuthRelayServer server)
    {
        var report = await mailer.SendAsync(RequireTls(), SmtpContent.FromBytes(Message));
        await mailer.DisposeAsync();
        await server.WaitForClosedAsync(1);
        return (Assert.Single(report.Recipients), server.Commands().Select(c => c.Verb).ToArray());
    }

    [Fact]
    public async Task A_relay_with_a_validated_certificate_that_offers_REQUIRETLS_gets_REQUIRETLS_on_MAIL_FROM_and_stores_the_message_as_sent()
    {
        // Stops: relays failing every REQUIRETLS message with 5.7.30 although they meet RFC 8689 (validated TLS to the
        // configured name, REQUIRETLS offered), and the relay getting a MAIL FROM without REQUIRETLS (it could downgrade).
        var address = NewAddress();
        using var server = new OAuthRelayServer(address, ["relay-token"], certificate: _ca.IssueForAddress(address), requireTls: true);
        await using var mailer = Mailer(Relay(server));

        var report = await mailer.SendAsync(RequireTls(), SmtpContent.FromBytes(Message));

        var r = Assert.Single(report.Recipients);
        Assert.True(r.Status == DeliveryStatus.Delivered, r.ToString());
        Assert.Equal(DeliveryRoute.Relay, r.Route);
        Assert.Equal($"MAIL FROM:<{OAuthRelayServer.User}> SIZE={Message.Length} REQUIRETLS", Assert.Single(server.MailCommands()));
        var stored = Assert.Single(server.Messages());
        Assert.Equal(Message, stored.Content);
        Assert.Equal(OAuthRelayServer.User, stored.AuthUser);
    }

    [Fact]
    public async Task A_relay_whose_certificate_is_for_another_name_gets_no_AUTH_and_no_MAIL()
    {
        // Stops: a man in the middle with a certificate for some other name (from the same CA) getting the credentials
        // or the REQUIRETLS message.
        var address = NewAddress();
        using var server = new OAuthRelayServer(address, ["relay-token"], certificate: _ca.Issue("other.relay.test"), requireTls: true);
        await using var mailer = Mailer(Relay(server));

        var (r, verbs) = await SendUntilClosedAsync(mailer, server);

        Assert.NotEqual(DeliveryStatus.Delivered, r.Status);
        Assert.Contains("STARTTLS", verbs); // reached, so that the refusal is the certificate's
        Assert.DoesNotContain("AUTH", verbs);
        Assert.DoesNotContain("MAIL", verbs);
        Assert.Empty(server.MailCommands());
        Assert.Empty(server.Messages());
    }

    [Fact]
    public async Task A_relay_with_certificate_validation_turned_off_fails_REQUIRETLS_with_5_7_30_and_gets_no_MAIL()
    {
        // Stops: ValidateCertificate = false (any certificate, a man in the middle's too) counting as validated TLS.
        var address = NewAddress();
        using var server = new OAuthRelayServer(address, [], certificate: _ca.IssueForAddress(address), requireTls: true);
        var relay = Relay(server, credentials: false);
        relay.ValidateCertificate = false;
        relay.CertificateValidationCallback = null;
        await using var mailer = Mailer(relay);

        var (r, verbs) = await SendUntilClosedAsync(mailer, server);

        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal($"550 5.7.30 REQUIRETLS is set and the relay {address} was not reached over TLS with its certificate validated (RFC 8689).", r.Reply!.ToString());
        Assert.Contains("STARTTLS", verbs);
        Assert.DoesNotContain("MAIL", verbs);
        Assert.Empty(server.Messages());
    }

    [Fact]
    public async Task A_relay_with_a_validated_certificate_that_does_not_offer_REQUIRETLS_fails_5_7_30_and_gets_no_MAIL()
    {
        // Stops: the message handed to a relay that would pass it on without REQUIRETLS (RFC 8689 section 4.2.1).
        var address = NewAddress();
        using var server = new OAuthRelayServer(address, ["relay-token"], certificate: _ca.IssueForAddress(address));
        await using var mailer = Mailer(Relay(server));

        var (r, verbs) = await SendUntilClosedAsync(mailer, server);

        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal($"550 5.7.30 REQUIRETLS is set and {address} does not offer REQUIRETLS (RFC 8689).", r.Reply!.ToString());
        Assert.Contains("AUTH", verbs); // the session was validated and authenticated: only REQUIRETLS was missing
        Assert.DoesNotContain("MAIL", verbs);
        Assert.Empty(server.Messages());
    }

    [Fact]
    public async Task A_queued_REQUIRETLS_message_goes_through_the_validated_relay_that_offers_it_with_REQUIRETLS()
    {
        // Stops: the queue worker's send losing REQUIRETLS on the relay route, or the worker's relay session not
        // counting as validated.
        var address = NewAddress();
        using var server = new OAuthRelayServer(address, ["relay-token"], certificate: _ca.IssueForAddress(address), requireTls: true);
        await using var mailer = Mailer(Relay(server));
        await using var queue = new MailQueue(new InMemoryQueueStore(), new MailQueueOptions { RetryJitter = 0 });
        var worker = new MailQueueWorker(queue, mailer);
        var id = await queue.EnqueueAsync(RequireTls(), SmtpContent.FromBytes(Message));

        await worker.RunOnceAsync(default);

        Assert.Equal(QueueRecipientState.Delivered, Assert.Single((await queue.GetAsync(id))!.Recipients).State);
        Assert.Equal($"MAIL FROM:<{OAuthRelayServer.User}> SIZE={Message.Length} REQUIRETLS", Assert.Single(server.MailCommands()));
        Assert.Equal(Message, Assert.Single(server.Messages()).Content);
    }
}

/// <summary>
/// REQUIRETLS through the private Postfix's submission service (STARTTLS, port 10587, Cyrus SASL): Postfix does not
/// offer REQUIRETLS, so the message fails with 5.7.30 after AUTH and before MAIL; smtpd's own command count shows it.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RequireTlsPostfixRelayTests(PostfixFixture postfix)
{
    [Fact]
    public async Task Postfix_submission_does_not_offer_REQUIRETLS_so_the_message_fails_5_7_30_and_Postfix_gets_no_MAIL()
    {
        // Stops: a REQUIRETLS message submitted to a relay that would deliver it onwards without the guarantee.
        const string local = "127.0.42.20"; // the mailer's source address: its session is the one logged from there
        var recipient = PostfixFixture.Recipient("requiretls-refused");
        var options = LoopbackMailerOptions.Create(25, o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.LocalAddress = local;
            o.Relays["submission"] = postfix.SubmissionRelay(SmtpTlsMode.Required);
            o.Routes.Default = "submission";
        });
        DeliveryReport report;
        await using (var mailer = new DirectMailer(options, new TableResolver()))
        {
            report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", recipient) { RequireTls = true }, SmtpContent.FromBytes(PostfixTestMessages.Message(recipient, "requiretls", "Never sent.")));
        }

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal(DeliveryRoute.Relay, r.Route);
        Assert.Equal($"550 5.7.30 REQUIRETLS is set and {PostfixFixture.Address} does not offer REQUIRETLS (RFC 8689).", r.Reply!.ToString());

        // DisposeAsync said QUIT: smtpd logs the session's command counts when it ends.
        var summary = Assert.Single(await postfix.WaitForSessionsFromAsync(local));
        Assert.Contains(" auth=1 ", summary, StringComparison.Ordinal); // validated and authenticated: only REQUIRETLS was missing
        Assert.DoesNotContain("mail=", summary, StringComparison.Ordinal);
        Assert.DoesNotContain(postfix.ReadInbox(), m => m.DeliveredTo == recipient);
    }
}
