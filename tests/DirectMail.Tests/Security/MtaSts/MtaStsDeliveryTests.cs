using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>The CA, and the HTTPS server of the policy hosts (127.0.29.1:443), shared by the MTA-STS delivery tests.</summary>
public sealed class MtaStsFixture : IAsyncLifetime
{
    public static readonly IPAddress PolicyHost = TestAddresses.MtaSts.PolicyHost.Address;

    public TestCertificateAuthority Ca { get; } = new();

    public PolicyHttpsServer Https { get; private set; } = null!;

    public async Task InitializeAsync() => Https = await PolicyHttpsServer.StartAsync(PolicyHost, Ca);

    public async Task DisposeAsync()
    {
        await Https.DisposeAsync();
        Ca.Dispose();
    }
}

/// <summary>
/// MTA-STS end to end (RFC 8461): the real resolver asks NSD for <c>_mta-sts.&lt;domain&gt;</c> TXT and the policy host's
/// address (zone deliver.test), the policy comes over HTTPS from Kestrel with a certificate of the tests' CA (the mailer's
/// TrustAnchorFile), and the MX hosts are SMTP servers on 127.0.32.x:10025 offering STARTTLS with certificates of that CA.
/// Every downgrade case is asserted at the receiving server: nothing stored, no MAIL command seen.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MtaStsDeliveryTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.Delivery.Port);

    private static string Enforce(string mx, int maxAge = 86400) => $"version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: {maxAge}\r\n";

    private DirectMailer Mailer(ResultSink sink, TimeProvider? time = null)
    {
        var mailer = new DirectMailer(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile), timeProvider: time);
        mailer.Delivery.TlsResults = sink;
        return mailer;
    }

    [Fact]
    public async Task Enforce_with_a_valid_certificate_delivers_with_posture_MtaSts()
    {
        const string domain = "sts-enforce.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-enforce.deliver.test"));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Enforce), fixture.Ca.Issue("mx.sts-enforce.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);
        var content = Message("enforce");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.MtaSts, r.Tls!.Kind);
        Assert.NotNull(r.Tls.Protocol);
        Assert.NotNull(r.Tls.CipherSuite);
        Assert.Null(r.TlsFailure);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
        var result = Assert.Single(sink.Results);
        Assert.Equal((domain, TlsPolicyType.Sts, "mx.sts-enforce.deliver.test", (TlsFailureType?)null), (result.PolicyDomain, result.PolicyType, result.MxHost, result.Failure));
    }

    [Fact]
    public async Task Enforce_with_a_certificate_for_another_name_defers_and_sends_nothing()
    {
        // Stops: a man in the middle with a certificate of its own (valid, from a trusted CA, for another name) reading the mail.
        const string domain = "sts-wrongcert.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-wrongcert.deliver.test"));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.WrongCert), fixture.Ca.Issue("attacker.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("wrong certificate")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, r.TlsFailure);
        Assert.Null(r.Tls);
        Assert.Empty(mx.Dialogue.Messages);
        Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(1, mx.Accepted); // no second, plaintext, connection
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.CertificateHostMismatch && x.MxHost == "mx.sts-wrongcert.deliver.test");
    }

    [Fact]
    public async Task Enforce_never_connects_to_an_MX_outside_the_policy()
    {
        // Stops: a spoofed MX answer diverting the mail to the attacker's host (RFC 8461 section 4.1).
        const string domain = "sts-outside.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-outside.deliver.test"));
        await using var evil = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.OutsideEvil), fixture.Ca.Issue("evil.sts-outside.deliver.test"));
        await using var good = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Outside), fixture.Ca.Issue("mx.sts-outside.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("outside")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx.sts-outside.deliver.test", r.MxHost);
        Assert.Equal(0, evil.Accepted);
        Assert.Single(good.Dialogue.Messages);
        Assert.Contains(sink.Results, x => x.MxHost == "evil.sts-outside.deliver.test" && x.Failure == TlsFailureType.StsPolicyInvalid);
    }

    [Fact]
    public async Task Enforce_with_no_MX_in_the_policy_defers_without_connecting()
    {
        const string domain = "sts-outside.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("elsewhere.example"));
        await using var evil = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.OutsideEvil), fixture.Ca.Issue("evil.sts-outside.deliver.test"));
        await using var good = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Outside), fixture.Ca.Issue("mx.sts-outside.deliver.test"));
        await using var mailer = Mailer(new ResultSink());

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("none match")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.StsPolicyInvalid, r.TlsFailure);
        Assert.Equal(0, evil.Accepted + good.Accepted);
    }

    [Fact]
    public async Task Enforce_with_STARTTLS_stripped_defers_and_sends_nothing_in_plaintext()
    {
        // Stops: the STARTTLS downgrade (an active attacker removing "250-STARTTLS" from the EHLO reply).
        const string domain = "sts-stripped.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-stripped.deliver.test"));
        await using var mx = StartTlsSmtpServer.StartWithoutTls(Mx(TestAddresses.MtaSts.Stripped));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("stripped")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.StartTlsNotSupported, r.TlsFailure);
        Assert.Empty(mx.Dialogue.Messages);
        Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase) || c.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.StartTlsNotSupported);
    }

    [Fact]
    public async Task Testing_mode_delivers_and_records_the_failure()
    {
        const string domain = "sts-testing.deliver.test";
        fixture.Https.ServePolicy(domain, "version: STSv1\nmode: testing\nmx: mx.sts-testing.deliver.test\nmax_age: 86400\n");
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Testing), fixture.Ca.Issue("not-the-mx.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);
        var content = Message("testing");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.Unauthenticated, r.Tls!.Kind);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, r.TlsFailure);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
        var result = Assert.Single(sink.Results);
        Assert.Equal((TlsPolicyType.Sts, (TlsFailureType?)TlsFailureType.CertificateHostMismatch), (result.PolicyType, result.Failure));
    }

    [Fact]
    public async Task A_failed_refresh_leaves_the_cached_policy_enforced()
    {
        // Stops: an attacker who, once the policy is cached, blocks the policy host and then presents a certificate of
        // its own: the cached policy still applies (RFC 8461 section 5.1).
        const string domain = "sts-cached.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-cached.deliver.test", maxAge: 3600));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sink = new ResultSink();
        await using var mailer = Mailer(sink, clock);
        await using (var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Cached), fixture.Ca.Issue("mx.sts-cached.deliver.test")))
        {
            var first = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("cached 1")));
            Assert.Equal(TlsPostureKind.MtaSts, first.Recipients[0].Tls!.Kind);
        }

        var requestsBefore = fixture.Https.Requests(domain);
        fixture.Https.Handle(domain, context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        clock.Advance(TimeSpan.FromMinutes(31)); // past half of max_age: the policy is fetched again, and that fails
        await using var attacker = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Cached), fixture.Ca.Issue("attacker.deliver.test"));

        var second = await mailer.SendAsync(new SmtpEnvelope(Sender, "two@" + domain), SmtpContent.FromBytes(Message("cached 2")));

        Assert.Equal(requestsBefore + 1, fixture.Https.Requests(domain));
        var r = Assert.Single(second.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, r.TlsFailure);
        Assert.Empty(attacker.Dialogue.Messages);
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.StsPolicyFetchError);
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        // Stops: a policy host that can be made to redirect (RFC 8461 section 3.3: redirects MUST NOT be followed). Were it
        // followed, the policy at the end (enforce, no matching MX) would defer the mail.
        const string domain = "sts-redirect.deliver.test";
        fixture.Https.Handle(domain, async context =>
        {
            if (context.Request.Path == "/.well-known/mta-sts.txt")
            {
                context.Response.StatusCode = 301;
                context.Response.Headers.Location = "https://mta-sts." + domain + "/elsewhere.txt";
                return;
            }

            context.Response.ContentType = "text/plain";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, Enforce("nothing.invalid"));
        });
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Redirect), fixture.Ca.Issue("mx.sts-redirect.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("redirect")));

        Assert.Equal(DeliveryStatus.Delivered, report.Recipients[0].Status);
        Assert.Equal(1, fixture.Https.Requests(domain));
        var failure = Assert.Single(sink.Results, x => x.Failure is not null);
        Assert.Equal(TlsFailureType.StsPolicyFetchError, failure.Failure);
        Assert.Contains("301", failure.Detail);
    }

    [Fact]
    public async Task An_oversized_policy_is_refused()
    {
        // Stops: a policy host exhausting memory with an endless body; the policy (enforce, no matching MX) is not applied.
        const string domain = "sts-oversized.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("nothing.invalid") + "padding: " + new string('x', 70_000) + "\r\n");
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Oversized), fixture.Ca.Issue("mx.sts-oversized.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("oversized")));

        Assert.Equal(DeliveryStatus.Delivered, report.Recipients[0].Status);
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.StsPolicyInvalid && x.Detail!.Contains("65536", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_policy_host_certificate_from_an_unknown_CA_gives_no_policy_and_is_reported()
    {
        // Stops: an attacker serving a policy of its own (say, mode none) from a host with an untrusted certificate.
        const string domain = "sts-oversized.deliver.test";
        fixture.Https.ServePolicy(domain, Enforce("nothing.invalid"));
        using var otherCa = new TestCertificateAuthority("Not trusted");
        fixture.Https.Present(domain, otherCa.Issue("mta-sts." + domain));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Oversized), fixture.Ca.Issue("mx.sts-oversized.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink);
        try
        {
            var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("untrusted policy host")));

            Assert.Equal(DeliveryStatus.Delivered, report.Recipients[0].Status);
            Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.StsWebPkiInvalid);
        }
        finally
        {
            fixture.Https.Present(domain, fixture.Ca.Issue("mta-sts." + domain));
        }
    }

    [Fact]
    public async Task A_pooled_opportunistic_session_is_not_reused_for_a_domain_that_enforces_MTA_STS()
    {
        // Stops: mail for an enforcing domain riding an unauthenticated connection that another domain's delivery left
        // in the pool (the MX host serves both; its certificate does not name it, as a man in the middle's would not).
        fixture.Https.ServePolicy("sts-poolsecure.deliver.test", Enforce("mx.sts-poolsecure.deliver.test"));
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Pool), fixture.Ca.Issue("attacker.deliver.test"));
        await using var mailer = Mailer(new ResultSink());

        var plain = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@sts-poolplain.deliver.test"), SmtpContent.FromBytes(Message("plain")));
        var secure = await mailer.SendAsync(new SmtpEnvelope(Sender, "two@sts-poolsecure.deliver.test"), SmtpContent.FromBytes(Message("secure")));

        Assert.Equal(DeliveryStatus.Delivered, plain.Recipients[0].Status);
        Assert.Equal(TlsPostureKind.Unauthenticated, plain.Recipients[0].Tls!.Kind);
        Assert.Equal(DeliveryStatus.Deferred, secure.Recipients[0].Status);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, secure.Recipients[0].TlsFailure);
        Assert.Single(mx.Dialogue.Messages); // only the plain domain's message
        Assert.Equal(2, mx.Accepted); // a new connection for the enforcing domain, not the pooled one
    }

    /// <summary>The TLS results the mailer records (what TLS-RPT would report); MtaStsFetchTests uses it too.</summary>
    internal sealed class ResultSink : ITlsResultSink
    {
        private readonly ConcurrentQueue<TlsSessionResult> _results = new();

        public TlsSessionResult[] Results => _results.ToArray();

        public void Record(in TlsSessionResult result) => _results.Enqueue(result);
    }
}
