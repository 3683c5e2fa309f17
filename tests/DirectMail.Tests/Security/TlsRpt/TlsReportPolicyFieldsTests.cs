using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Security.MtaSts;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// What a report says of the policy and of each failure, from real deliveries: the MTA-STS policy served over HTTPS
/// (Kestrel, zone deliver.test on NSD), MX hosts on 127.0.32.x offering STARTTLS, the results counted by the
/// aggregator the mailer reports to, and the day taken as the scheduler takes it from the store.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TlsReportPolicyFieldsTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.Delivery.Port);

    [Fact]
    public async Task A_failed_enforced_session_is_reported_with_the_policy_as_fetched_and_the_sessions_addresses_and_helo()
    {
        // Stops: a report that names no policy (policy-string, mx-host missing) or a failure without the addresses of
        // the session it happened on, which the receiving domain needs to find the man in the middle.
        const string domain = "sts-wrongcert.deliver.test";
        fixture.Https.ServePolicy(domain, "version: STSv1\r\nmode: enforce\r\nmx: mx.sts-wrongcert.deliver.test\r\nmax_age: 86400\r\n");
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.WrongCert), fixture.Ca.Issue("attacker.deliver.test"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var aggregator = new TlsReportAggregator(clock);
        await using var mailer = new DirectMailer(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile), timeProvider: clock);
        mailer.Delivery.TlsResults = aggregator;

        var sent = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("wrong certificate")));

        Assert.Equal(DeliveryStatus.Deferred, sent.Recipients[0].Status);
        var policy = Assert.Single(Assert.Single(await ReportAsync(aggregator, clock, domain)).Policies);
        Assert.Equal(TlsPolicyType.Sts, policy.PolicyType);
        Assert.Equal(domain, policy.PolicyDomain);
        Assert.Equal(["version: STSv1", "mode: enforce", "mx: mx.sts-wrongcert.deliver.test", "max_age: 86400"], policy.PolicyStrings.ToArray());
        Assert.Equal(["mx.sts-wrongcert.deliver.test"], policy.MxHosts.ToArray());
        Assert.Equal((0L, 1L), (policy.SuccessfulSessions, policy.FailedSessions));
        var failure = Assert.Single(policy.Failures);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, failure.ResultType);
        Assert.Equal("mx.sts-wrongcert.deliver.test", failure.ReceivingMxHost);
        Assert.Equal(TestAddresses.MtaSts.WrongCert, failure.ReceivingAddress);
        Assert.NotNull(failure.SendingAddress);
        Assert.True(IPAddress.IsLoopback(failure.SendingAddress!), failure.SendingAddress!.ToString());
        Assert.Equal("mx.test", failure.ReceivingHelo); // the name in the server's EHLO reply
        Assert.Equal(1, failure.FailedSessions);
        Assert.False(string.IsNullOrEmpty(failure.ReasonCode));
    }

    [Fact]
    public async Task A_policy_changed_mid_day_is_reported_as_two_policies()
    {
        // RFC 8460 section 4.4: the counts are per policy applied; sessions under the old and the new policy are not merged.
        const string domain = "sts-cached.deliver.test";
        const string first = "version: STSv1\nmode: testing\nmx: mx.sts-cached.deliver.test\nmax_age: 3600\n";
        const string second = "version: STSv1\nmode: enforce\nmx: mx.sts-cached.deliver.test\nmx: backup.sts-cached.deliver.test\nmax_age: 3600\n";
        fixture.Https.ServePolicy(domain, first);
        var clock = new FakeTimeProvider(new DateTimeOffset(DateTime.UtcNow.Date.AddHours(6), TimeSpan.Zero));
        var aggregator = new TlsReportAggregator(clock);
        await using var mailer = new DirectMailer(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile), timeProvider: clock);
        mailer.Delivery.TlsResults = aggregator;
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Cached), fixture.Ca.Issue("mx.sts-cached.deliver.test"));

        Assert.True((await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("policy 1")))).IsFullyDelivered);
        fixture.Https.ServePolicy(domain, second);
        clock.Advance(TimeSpan.FromMinutes(31)); // past half of max_age: fetched again, the new policy applies
        Assert.True((await mailer.SendAsync(new SmtpEnvelope(Sender, "two@" + domain), SmtpContent.FromBytes(Message("policy 2")))).IsFullyDelivered);

        var policies = Assert.Single(await ReportAsync(aggregator, clock, domain)).Policies;
        Assert.Equal(2, policies.Length);
        var testing = Assert.Single(policies, p => p.PolicyStrings.Contains("mode: testing"));
        var enforce = Assert.Single(policies, p => p.PolicyStrings.Contains("mode: enforce"));
        Assert.Equal(["mx.sts-cached.deliver.test"], testing.MxHosts.ToArray());
        Assert.Equal(["mx.sts-cached.deliver.test", "backup.sts-cached.deliver.test"], enforce.MxHosts.ToArray());
        Assert.Equal((1L, 1L), (testing.SuccessfulSessions, enforce.SuccessfulSessions));
    }

    /// <summary>The reports as the scheduler builds them: the counts flushed to a store, the day read back from it.</summary>
    private static async Task<TlsReportDomainDay[]> ReportAsync(TlsReportAggregator aggregator, FakeTimeProvider clock, string domain)
    {
        var store = new InMemoryTlsReportStore();
        var flusher = new TlsReportFlusher(aggregator, store, "test", clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.True(await flusher.FlushAsync(default));
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var unsent = await store.ListUnsentAsync(day, day.AddDays(1), default);
        return [.. await Task.WhenAll(unsent.Where(u => u.PolicyDomain == domain).Select(u => store.ReadCountsAsync(u.PolicyDomain, u.Day, default).AsTask()))];
    }
}
