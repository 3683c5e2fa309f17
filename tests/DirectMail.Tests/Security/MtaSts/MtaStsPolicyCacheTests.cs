using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Security;
using DirectMail.Security.MtaSts;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>The cache rules of RFC 8461 section 5.1, on a clock moved by hand.</summary>
public sealed class MtaStsPolicyCacheTests
{
    private const string Domain = "example.test";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Rig _rig = new();

    private static string PolicyText(string mode = "enforce", int maxAge = 86400) => $"version: STSv1\nmode: {mode}\nmx: mx.example.test\nmax_age: {maxAge}\n";

    private MtaStsPolicyCache Cache(IMtaStsPolicyStore? store = null) => new(_rig.TxtAsync, _rig.FetchAsync, store, _time, NullLogger.Instance);

    [Fact]
    public async Task A_cached_policy_with_the_same_id_is_not_fetched_again()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        var cache = Cache();

        var first = await cache.GetPolicyAsync(Domain, default);
        _time.Advance(TimeSpan.FromMinutes(10)); // past the TXT TTL: the record is asked again, the policy is not
        var second = await cache.GetPolicyAsync(Domain, default);

        Assert.Equal(MtaStsMode.Enforce, first.Policy!.Mode);
        Assert.Same(first.Policy, second.Policy);
        Assert.Equal(1, _rig.Fetches);
        Assert.Equal(2, _rig.TxtLookups);
    }

    [Fact]
    public async Task Within_the_TXT_TTL_the_cached_policy_is_served_synchronously()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        var cache = Cache();
        await cache.GetPolicyAsync(Domain, default);

        var again = cache.GetPolicyAsync(Domain, default);

        Assert.True(again.IsCompletedSuccessfully);
        Assert.Equal(1, _rig.TxtLookups);
    }

    [Fact]
    public async Task A_changed_id_makes_the_policy_be_fetched_again()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText("testing");
        var cache = Cache();
        await cache.GetPolicyAsync(Domain, default);

        _rig.Txt = ["v=STSv1; id=two"];
        _rig.Policy = PolicyText("enforce");
        _time.Advance(TimeSpan.FromMinutes(10));
        var after = await cache.GetPolicyAsync(Domain, default);

        Assert.Equal(MtaStsMode.Enforce, after.Policy!.Mode);
        Assert.Equal(2, _rig.Fetches);
    }

    [Fact]
    public async Task A_failed_fetch_keeps_the_cached_policy_serving_and_reports_the_failure()
    {
        // Stops: an attacker who blocks the policy host after a first fetch from downgrading the domain to plaintext.
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        var cache = Cache();
        var first = await cache.GetPolicyAsync(Domain, default);

        _rig.Txt = ["v=STSv1; id=two"];
        _rig.Policy = null;
        _time.Advance(TimeSpan.FromMinutes(10));
        var after = await cache.GetPolicyAsync(Domain, default);

        Assert.Same(first.Policy, after.Policy);
        Assert.Equal(TlsFailureType.StsPolicyFetchError, after.Failure);
    }

    [Fact]
    public async Task A_missing_TXT_record_keeps_the_cached_policy_until_it_expires()
    {
        // Stops: an attacker who strips the _mta-sts TXT answer from downgrading a domain whose policy is cached.
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText(maxAge: 3600);
        var cache = Cache();
        var first = await cache.GetPolicyAsync(Domain, default);

        _rig.Txt = [];
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Same(first.Policy, (await cache.GetPolicyAsync(Domain, default)).Policy);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Null((await cache.GetPolicyAsync(Domain, default)).Policy);
    }

    [Fact]
    public async Task A_DNS_failure_keeps_the_cached_policy()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        var cache = Cache();
        var first = await cache.GetPolicyAsync(Domain, default);

        _rig.TxtFails = true;
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Same(first.Policy, (await cache.GetPolicyAsync(Domain, default)).Policy);
    }

    [Fact]
    public async Task An_expired_policy_is_fetched_again_even_with_the_same_id()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText(maxAge: 600);
        var cache = Cache();
        await cache.GetPolicyAsync(Domain, default);

        _time.Advance(TimeSpan.FromMinutes(11));
        await cache.GetPolicyAsync(Domain, default);

        Assert.Equal(2, _rig.Fetches);
    }

    [Fact]
    public async Task A_policy_is_refreshed_in_the_background_once_half_its_max_age_passed()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText(maxAge: 3600);
        _rig.TxtTtl = TimeSpan.FromHours(1);
        var cache = Cache();
        var first = await cache.GetPolicyAsync(Domain, default);

        // 35 minutes: past half of max_age, within the TXT answer's hour.
        _time.Advance(TimeSpan.FromMinutes(35));
        var served = cache.GetPolicyAsync(Domain, default);

        Assert.True(served.IsCompletedSuccessfully);
        Assert.Same(first.Policy, (await served).Policy); // the cached one serves while the refresh runs
        var refreshedUntil = _time.GetUtcNow() + TimeSpan.FromHours(1);
        for (var i = 0; i < 500 && cache.Peek(Domain)!.Value.ExpiresAt != refreshedUntil; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(refreshedUntil, cache.Peek(Domain)!.Value.ExpiresAt);
        Assert.Equal(2, _rig.Fetches);
    }

    [Fact]
    public async Task Without_a_cached_policy_a_failed_fetch_means_no_policy_and_is_not_retried_at_once()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = null;
        var cache = Cache();

        var first = await cache.GetPolicyAsync(Domain, default);
        var second = await cache.GetPolicyAsync(Domain, default);

        Assert.Null(first.Policy);
        Assert.Equal(TlsFailureType.StsPolicyFetchError, first.Failure);
        Assert.Null(second.Failure); // reported once
        Assert.Equal(1, _rig.Fetches);
        _time.Advance(MtaStsPolicyCache.FailureHoldTime);
        await cache.GetPolicyAsync(Domain, default);
        Assert.Equal(2, _rig.Fetches);
    }

    [Fact]
    public async Task A_stored_policy_serves_after_a_restart_while_the_fetch_fails()
    {
        // Stops: a restart opening a downgrade window (RFC 8461 section 5.1 wants the policy kept for max_age).
        var store = new MemoryStore();
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        await Cache(store).GetPolicyAsync(Domain, default);

        _rig.Policy = null;
        _rig.Txt = ["v=STSv1; id=two"];
        var restarted = Cache(store);
        var served = await restarted.GetPolicyAsync(Domain, default);

        Assert.Equal(MtaStsMode.Enforce, served.Policy!.Mode);
        Assert.Equal(TlsFailureType.StsPolicyFetchError, served.Failure);
    }

    [Fact]
    public async Task Concurrent_lookups_of_one_domain_fetch_once()
    {
        _rig.Txt = ["v=STSv1; id=one"];
        _rig.Policy = PolicyText();
        _rig.Gate = new TaskCompletionSource();
        var cache = Cache();

        var lookups = new List<Task<MtaStsLookup>>();
        for (var i = 0; i < 5; i++)
        {
            lookups.Add(cache.GetPolicyAsync(Domain, default).AsTask());
        }

        _rig.Gate.SetResult();
        await Task.WhenAll(lookups).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, _rig.Fetches);
    }

    private sealed class Rig
    {
        private int _fetches;

        public string[] Txt { get; set; } = [];

        public bool TxtFails { get; set; }

        public TimeSpan TxtTtl { get; set; } = TimeSpan.FromMinutes(5);

        public string? Policy { get; set; }

        public TaskCompletionSource? Gate { get; set; }

        public int Fetches => Volatile.Read(ref _fetches);

        public int TxtLookups { get; private set; }

        public ValueTask<MxResolver.TextRecords> TxtAsync(string name, CancellationToken cancellationToken)
        {
            Assert.Equal("_mta-sts." + Domain, name);
            TxtLookups++;
            return new(TxtFails ? new MxResolver.TextRecords([], true, TimeSpan.FromMinutes(1), "SERVFAIL") : new MxResolver.TextRecords(Txt, false, TxtTtl, string.Empty));
        }

        public async Task<MtaStsFetchResult> FetchAsync(string domain, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _fetches);
            if (Gate is not null)
            {
                await Gate.Task;
            }

            return Policy is null ? MtaStsFetchResult.Failed(TlsFailureType.StsPolicyFetchError, "connection refused") : new MtaStsFetchResult(MtaStsPolicy.Parse(Policy, out _), null, null);
        }
    }

    private sealed class MemoryStore : IMtaStsPolicyStore
    {
        private readonly ConcurrentDictionary<string, StoredMtaStsPolicy> _policies = new();

        public ValueTask<StoredMtaStsPolicy?> LoadAsync(string domain, CancellationToken cancellationToken) => new(_policies.TryGetValue(domain, out var p) ? p : null);

        public ValueTask SaveAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken)
        {
            _policies[policy.Domain] = policy;
            return ValueTask.CompletedTask;
        }
    }
}
