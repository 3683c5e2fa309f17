using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// What every report claim store must do, run over two store instances on one database (two application instances):
/// of instances racing for one report exactly one wins; a sent report is never claimed again; a claim whose holder
/// died lapses.
/// </summary>
public abstract class TlsReportStoreContractTests
{
    private static readonly DateOnly Day = new(2026, 12, 1);
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 0, 20, 0, TimeSpan.Zero);

    private protected abstract ITlsReportStore One { get; }

    private protected abstract ITlsReportStore Two { get; }

    [Fact]
    public async Task Of_instances_racing_for_one_report_exactly_one_claims_it()
    {
        var domain = Domain();
        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? One : Two).TryClaimAsync(domain, Day, "holder-" + i, Now, Now.AddMinutes(30), CancellationToken.None))));

        Assert.Equal(1, claims.Count(c => c));
    }

    [Fact]
    public async Task A_sent_report_is_not_claimed_again_even_after_the_claim_time()
    {
        var domain = Domain();
        Assert.True(await One.TryClaimAsync(domain, Day, "a", Now, Now.AddMinutes(30), CancellationToken.None));
        await One.MarkSentAsync(domain, Day, "a", Now, CancellationToken.None);

        Assert.False(await Two.TryClaimAsync(domain, Day, "b", Now.AddHours(2), Now.AddHours(3), CancellationToken.None));
        Assert.False(await One.TryClaimAsync(domain, Day, "a", Now.AddHours(2), Now.AddHours(3), CancellationToken.None));
    }

    [Fact]
    public async Task A_claim_lapses_when_its_holder_neither_sends_nor_releases_it()
    {
        var domain = Domain();
        Assert.True(await One.TryClaimAsync(domain, Day, "a", Now, Now.AddMinutes(30), CancellationToken.None));

        Assert.False(await Two.TryClaimAsync(domain, Day, "b", Now.AddMinutes(29), Now.AddMinutes(59), CancellationToken.None));
        Assert.True(await Two.TryClaimAsync(domain, Day, "b", Now.AddMinutes(30), Now.AddMinutes(60), CancellationToken.None));
    }

    [Fact]
    public async Task A_released_claim_can_be_taken_at_once_and_a_release_by_another_holder_does_nothing()
    {
        var domain = Domain();
        Assert.True(await One.TryClaimAsync(domain, Day, "a", Now, Now.AddMinutes(30), CancellationToken.None));
        await Two.ReleaseAsync(domain, Day, "b", CancellationToken.None);
        Assert.False(await Two.TryClaimAsync(domain, Day, "b", Now, Now.AddMinutes(30), CancellationToken.None));

        await One.ReleaseAsync(domain, Day, "a", CancellationToken.None);

        Assert.True(await Two.TryClaimAsync(domain, Day, "b", Now, Now.AddMinutes(30), CancellationToken.None));
    }

    [Fact]
    public async Task Days_and_domains_are_claimed_apart()
    {
        var domain = Domain();
        Assert.True(await One.TryClaimAsync(domain, Day, "a", Now, Now.AddMinutes(30), CancellationToken.None));

        Assert.True(await Two.TryClaimAsync(domain, Day.AddDays(-1), "b", Now, Now.AddMinutes(30), CancellationToken.None));
        Assert.True(await Two.TryClaimAsync("other." + domain, Day, "b", Now, Now.AddMinutes(30), CancellationToken.None));
    }

    [Fact]
    public async Task Counts_of_two_instances_add_up_and_a_batch_sent_again_is_not_added_twice()
    {
        // Stops: a flush whose answer was lost, sent again, counting its sessions twice; and two instances' counts
        // of one policy reported as two entries instead of their sum.
        var domain = Domain();
        var failure = new TlsReportFailure(DirectMail.Security.TlsFailureType.CertificateExpired, System.Net.IPAddress.Parse("192.0.2.1"), "mx." + domain, System.Net.IPAddress.Parse("198.51.100.7"), 2, "expired", "mx.helo.example");
        TlsReportDomainDay Batch(long successes, long failures) => new(Day, domain,
            [new TlsReportPolicy(domain, DirectMail.Security.TlsPolicyType.Sts, ["version: STSv1", "mode: enforce", "mx: mx." + domain, "max_age: 86400"], ["mx." + domain], successes, failures, [failure with { FailedSessions = failures }])]);

        await One.AddCountsAsync("a", 1, [Batch(3, 2)], CancellationToken.None);
        await One.AddCountsAsync("a", 1, [Batch(3, 2)], CancellationToken.None); // the same batch again
        await Two.AddCountsAsync("b", 1, [Batch(4, 1)], CancellationToken.None);
        await One.AddCountsAsync("a", 2, [Batch(1, 0) with { Policies = [Batch(1, 0).Policies[0] with { Failures = [] }] }], CancellationToken.None);

        var report = await Two.ReadCountsAsync(domain, Day, CancellationToken.None);
        var policy = Assert.Single(report.Policies);
        Assert.Equal((8L, 3L), (policy.SuccessfulSessions, policy.FailedSessions));
        Assert.Equal(["version: STSv1", "mode: enforce", "mx: mx." + domain, "max_age: 86400"], policy.PolicyStrings.ToArray());
        Assert.Equal(["mx." + domain], policy.MxHosts.ToArray());
        var row = Assert.Single(policy.Failures);
        Assert.Equal(failure with { FailedSessions = 3 }, row);
    }

    [Fact]
    public async Task A_policy_changed_mid_day_is_an_entry_of_its_own_and_sent_days_are_not_listed()
    {
        var domain = Domain();
        TlsReportPolicy Policy(string mode, long successes) => new(domain, DirectMail.Security.TlsPolicyType.Sts, ["version: STSv1", "mode: " + mode], [], successes, 0, []);
        await One.AddCountsAsync("a", 1, [new TlsReportDomainDay(Day, domain, [Policy("testing", 1)])], CancellationToken.None);
        await Two.AddCountsAsync("b", 1, [new TlsReportDomainDay(Day, domain, [Policy("enforce", 2)])], CancellationToken.None);

        var report = await One.ReadCountsAsync(domain, Day, CancellationToken.None);
        Assert.Equal([("mode: enforce", 2L), ("mode: testing", 1L)], report.Policies.Select(p => (p.PolicyStrings[1], p.SuccessfulSessions)).OrderBy(p => p.Item1));
        Assert.Contains((domain, Day), await Two.ListUnsentAsync(Day, Day.AddDays(1), CancellationToken.None));
        Assert.DoesNotContain((domain, Day), await Two.ListUnsentAsync(Day.AddDays(1), Day.AddDays(2), CancellationToken.None));

        Assert.True(await One.TryClaimAsync(domain, Day, "a", Now, Now.AddMinutes(30), CancellationToken.None));
        await One.MarkSentAsync(domain, Day, "a", Now, CancellationToken.None);
        Assert.DoesNotContain((domain, Day), await Two.ListUnsentAsync(Day, Day.AddDays(1), CancellationToken.None));
    }

    private static string Domain() => Guid.NewGuid().ToString("N")[..12] + ".example";
}

/// <summary>The in-memory store (one instance: "two instances" share it, as the threads of one process do).</summary>
public sealed class InMemoryTlsReportStoreTests : TlsReportStoreContractTests
{
    private readonly InMemoryTlsReportStore _store = new();

    private protected override ITlsReportStore One => _store;

    private protected override ITlsReportStore Two => _store;
}
