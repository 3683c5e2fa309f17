using System;
using System.Collections.Immutable;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>What the aggregator counts, per policy domain, policy and UTC day.</summary>
public sealed class TlsReportAggregatorTests
{
    private static readonly ImmutableArray<string> StsPolicy = ["version: STSv1", "mode: enforce", "mx: *.mail.example.com", "max_age: 86400"];
    private static readonly IPAddress Sending = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Mx1 = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Mx2 = IPAddress.Parse("198.51.100.20");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Successes_and_failures_of_one_policy_are_summed()
    {
        var aggregator = new TlsReportAggregator(_time);
        for (var i = 0; i < 3; i++)
        {
            aggregator.Record(Sts("mx1.mail.example.com", Mx1, failure: null));
        }

        aggregator.Record(Sts("mx1.mail.example.com", Mx1, TlsFailureType.CertificateExpired));

        var policy = Assert.Single(Assert.Single(TakeAll(aggregator)).Policies);
        Assert.Equal(3, policy.SuccessfulSessions);
        Assert.Equal(1, policy.FailedSessions);
        Assert.Equal(TlsPolicyType.Sts, policy.PolicyType);
        Assert.Equal(StsPolicy, policy.PolicyStrings.ToArray());
        Assert.Equal(["*.mail.example.com"], policy.MxHosts.ToArray());
    }

    [Fact]
    public void Failures_are_grouped_by_type_sending_address_mx_host_and_receiving_address()
    {
        var aggregator = new TlsReportAggregator(_time);
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, TlsFailureType.CertificateExpired));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, TlsFailureType.CertificateExpired));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, TlsFailureType.StartTlsNotSupported));
        aggregator.Record(Sts("mx2.mail.example.com", Mx2, TlsFailureType.CertificateExpired));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, TlsFailureType.CertificateExpired) with { SendingAddress = IPAddress.Parse("192.0.2.2") });

        var policy = Assert.Single(Assert.Single(TakeAll(aggregator)).Policies);
        Assert.Equal(5, policy.FailedSessions);
        Assert.Equal(4, policy.Failures.Length);
        var twice = policy.Failures.Single(f => f.FailedSessions == 2);
        Assert.Equal((TlsFailureType.CertificateExpired, "mx1.mail.example.com", Mx1, Sending), (twice.ResultType, twice.ReceivingMxHost, twice.ReceivingAddress, twice.SendingAddress));
        Assert.Equal("certificate expired", twice.ReasonCode);
    }

    [Fact]
    public void Domains_policy_types_and_policy_strings_are_counted_apart()
    {
        var aggregator = new TlsReportAggregator(_time);
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null) with { PolicyStrings = ["version: STSv1", "mode: testing"] });
        aggregator.Record(new TlsSessionResult("example.com", TlsPolicyType.NoPolicyFound, "mx1.mail.example.com", Mx1, null, null));
        aggregator.Record(new TlsSessionResult("example.net", TlsPolicyType.NoPolicyFound, "mx.example.net", Mx2, null, null));

        var days = TakeAll(aggregator);

        Assert.Equal(["example.com", "example.net"], days.Select(d => d.PolicyDomain));
        Assert.Equal(3, days[0].Policies.Length);
        Assert.All(days.SelectMany(d => d.Policies), p => Assert.Equal(1, p.SuccessfulSessions));
    }

    [Fact]
    public void Equal_policy_strings_in_different_arrays_are_one_policy()
    {
        var aggregator = new TlsReportAggregator(_time);
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null) with { PolicyStrings = [.. StsPolicy] });

        Assert.Equal(2, Assert.Single(Assert.Single(TakeAll(aggregator)).Policies).SuccessfulSessions);
    }

    [Fact]
    public void A_tlsa_policy_is_the_mx_hosts_own()
    {
        // RFC 7672: TLSA records belong to an MX host, so two hosts of one domain are two policies.
        var aggregator = new TlsReportAggregator(_time);
        aggregator.Record(new TlsSessionResult("example.com", TlsPolicyType.Tlsa, "mx1.example.com", Mx1, null, null) { PolicyStrings = ["3 1 1 AB12"] });
        aggregator.Record(new TlsSessionResult("example.com", TlsPolicyType.Tlsa, "mx2.example.com", Mx2, null, null) { PolicyStrings = ["3 1 1 AB12"] });

        var policies = Assert.Single(TakeAll(aggregator)).Policies;
        Assert.Equal(2, policies.Length);
        Assert.Equal(["mx1.example.com", "mx2.example.com"], policies.Select(p => Assert.Single(p.MxHosts)).Order());
    }

    [Fact]
    public void Domain_case_does_not_split_a_policy()
    {
        var aggregator = new TlsReportAggregator(_time);
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null) with { PolicyDomain = "EXAMPLE.com" });

        var day = Assert.Single(TakeAll(aggregator));
        Assert.Equal("example.com", day.PolicyDomain);
        Assert.Equal(2, Assert.Single(day.Policies).SuccessfulSessions);
    }

    [Fact]
    public void Results_are_counted_on_the_utc_day_they_happen_and_today_is_not_taken()
    {
        var aggregator = new TlsReportAggregator(_time);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 23, 59, 59, TimeSpan.Zero));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));
        aggregator.Record(Sts("mx1.mail.example.com", Mx1, null));

        var taken = aggregator.TakeDaysBefore(new DateOnly(2026, 12, 2));

        var yesterday = Assert.Single(taken);
        Assert.Equal(new DateOnly(2026, 12, 1), yesterday.Day);
        Assert.Equal(1, Assert.Single(yesterday.Policies).SuccessfulSessions);
        Assert.Empty(aggregator.TakeDaysBefore(new DateOnly(2026, 12, 2)));
        Assert.Equal(2, Assert.Single(Assert.Single(aggregator.TakeDaysBefore(new DateOnly(2026, 12, 3))).Policies).SuccessfulSessions);
    }

    [Fact]
    public async Task Concurrent_records_lose_no_count()
    {
        var aggregator = new TlsReportAggregator(_time);
        const int Threads = 8;
        const int PerThread = 20_000;
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                aggregator.Record(Sts(i % 2 == 0 ? "mx1.mail.example.com" : "mx2.mail.example.com", i % 2 == 0 ? Mx1 : Mx2, i % 4 == 1 ? TlsFailureType.StartTlsNotSupported : null));
            }
        })));

        var policy = Assert.Single(Assert.Single(TakeAll(aggregator)).Policies);
        Assert.Equal(Threads * PerThread * 3 / 4, policy.SuccessfulSessions);
        Assert.Equal(Threads * PerThread / 4, policy.FailedSessions);
        Assert.Equal(Threads * PerThread / 4, Assert.Single(policy.Failures).FailedSessions);
    }

    [Fact]
    public void Failure_rows_are_bounded_per_policy_and_the_total_still_counts_every_failure()
    {
        // Stops a destination with thousands of MX addresses from growing one policy's rows without end.
        var aggregator = new TlsReportAggregator(_time);
        var sessions = TlsReportAggregator.MaxFailureRows + 50;
        for (var i = 0; i < sessions; i++)
        {
            aggregator.Record(Sts("mx1.mail.example.com", new IPAddress(0x0A000000 + i), TlsFailureType.ValidationFailure));
        }

        var policy = Assert.Single(Assert.Single(TakeAll(aggregator)).Policies);
        Assert.Equal(TlsReportAggregator.MaxFailureRows, policy.Failures.Length);
        Assert.Equal(sessions, policy.FailedSessions);
    }

    private static TlsSessionResult Sts(string mxHost, IPAddress address, TlsFailureType? failure) =>
        new("example.com", TlsPolicyType.Sts, mxHost, address, failure, failure is null ? null : "certificate expired")
        {
            SendingAddress = Sending,
            PolicyStrings = StsPolicy,
            PolicyMxHosts = ["*.mail.example.com"],
        };

    private System.Collections.Generic.IReadOnlyList<TlsReportDomainDay> TakeAll(TlsReportAggregator aggregator)
        => aggregator.TakeDaysBefore(DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime).AddDays(1));
}
