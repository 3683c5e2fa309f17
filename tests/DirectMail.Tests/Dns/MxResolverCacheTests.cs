using System;
using System.Linq;
using System.Threading.Tasks;
using DirectMail.Dns;
using DnsClient;

namespace DirectMail.Tests.Dns;

/// <summary>Caching (TTLs, negative and failure bounds) and single flight, counting the queries that reach NSD.</summary>
[Collection(DnsServerCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MxResolverCacheTests
{
    private readonly FakeTimeProvider _clock = new();

    private (MxResolver Resolver, CountingTransport Transport) Create(Action<MxResolverOptions>? configure = null)
    {
        var options = DnsServerFixture.Options(configure);
        var transport = new CountingTransport(options);
        return (new MxResolver(options, transport, null, _clock), transport);
    }

    [Fact]
    public async Task A_resolution_is_kept_for_the_smallest_TTL_of_the_records_used()
    {
        // ttl.dm.test: MX TTL 120 s, its host's A record 40 s.
        var (resolver, transport) = Create();

        await resolver.ResolveAsync("ttl.dm.test");
        var queries = transport.Total;
        _clock.Advance(TimeSpan.FromSeconds(39));
        var cached = await resolver.ResolveAsync("ttl.dm.test");
        Assert.Equal(queries, transport.Total);
        Assert.True(cached.IsSuccess);

        _clock.Advance(TimeSpan.FromSeconds(2));
        await resolver.ResolveAsync("ttl.dm.test");
        Assert.Equal(2, transport.Count("ttl.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task A_resolution_is_never_kept_longer_than_MaxCacheTime()
    {
        var (resolver, transport) = Create(o => o.MaxCacheTime = TimeSpan.FromSeconds(10));

        await resolver.ResolveAsync("single.dm.test");
        _clock.Advance(TimeSpan.FromSeconds(11));
        await resolver.ResolveAsync("single.dm.test");

        Assert.Equal(2, transport.Count("single.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task NXDOMAIN_is_kept_for_the_SOA_negative_TTL_bounded_by_MaxNegativeCacheTime()
    {
        // The zone's negative TTL is 60 s (SOA MINIMUM); the bound here is 10 s.
        var (resolver, transport) = Create(o => o.MaxNegativeCacheTime = TimeSpan.FromSeconds(10));

        await resolver.ResolveAsync("gone.dm.test");
        _clock.Advance(TimeSpan.FromSeconds(9));
        var cached = await resolver.ResolveAsync("gone.dm.test");
        Assert.Equal(MxResolutionStatus.DomainNotFound, cached.Status);
        Assert.Equal(1, transport.Count("gone.dm.test", QueryType.MX));

        _clock.Advance(TimeSpan.FromSeconds(2));
        await resolver.ResolveAsync("gone.dm.test");
        Assert.Equal(2, transport.Count("gone.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task NXDOMAIN_is_kept_no_longer_than_the_SOA_negative_TTL()
    {
        var (resolver, transport) = Create(o => o.MaxNegativeCacheTime = TimeSpan.FromMinutes(5));

        await resolver.ResolveAsync("gone.dm.test");
        _clock.Advance(TimeSpan.FromSeconds(61));
        await resolver.ResolveAsync("gone.dm.test");

        Assert.Equal(2, transport.Count("gone.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task A_transient_failure_is_kept_only_for_TransientFailureCacheTime()
    {
        var (resolver, transport) = Create(o => o.TransientFailureCacheTime = TimeSpan.FromSeconds(5));

        await resolver.ResolveAsync("x.servfail.dm.test");
        _clock.Advance(TimeSpan.FromSeconds(4));
        await resolver.ResolveAsync("x.servfail.dm.test");
        Assert.Equal(1, transport.Count("x.servfail.dm.test", QueryType.MX));

        _clock.Advance(TimeSpan.FromSeconds(2));
        var again = await resolver.ResolveAsync("x.servfail.dm.test");
        Assert.True(again.IsTransient);
        Assert.Equal(2, transport.Count("x.servfail.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task Without_the_cache_every_resolution_asks_DNS()
    {
        var (resolver, transport) = Create(o => o.UseCache = false);

        await resolver.ResolveAsync("single.dm.test");
        await resolver.ResolveAsync("single.dm.test");

        Assert.Equal(2, transport.Count("single.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task A_cached_resolution_is_found_by_any_spelling_of_the_domain()
    {
        var (resolver, transport) = Create();

        await resolver.ResolveAsync("single.dm.test");
        await resolver.ResolveAsync("SINGLE.DM.TEST");
        await resolver.ResolveAsync("single.dm.test.");

        Assert.Equal(1, transport.Count("single.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task A_domain_without_equal_preferences_gets_the_same_cached_instance_every_time()
    {
        // Nothing to shuffle, so nothing to allocate per call.
        var (resolver, _) = Create();

        var first = await resolver.ResolveAsync("ordered.dm.test");
        var second = await resolver.ResolveAsync("ordered.dm.test");

        Assert.Same(first, second);
    }

    [Fact]
    public async Task Concurrent_callers_for_one_domain_share_one_query()
    {
        var (resolver, transport) = Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.Gate = release.Task;

        var callers = Enumerable.Range(0, 50).Select(_ => resolver.ResolveAsync("equal.dm.test").AsTask()).ToArray();
        await Task.Delay(100);
        Assert.Equal(1, transport.Count("equal.dm.test", QueryType.MX));
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.All(results, r => Assert.Equal(4, r.Targets.Length));
        Assert.Equal(1, transport.Count("equal.dm.test", QueryType.MX));
        Assert.Equal(1, transport.Count("a.equal.dm.test", QueryType.A));
    }

    [Fact]
    public async Task Single_flight_holds_without_the_cache_too_and_later_callers_ask_again()
    {
        var (resolver, transport) = Create(o => o.UseCache = false);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.Gate = release.Task;

        var callers = Enumerable.Range(0, 10).Select(_ => resolver.ResolveAsync("single.dm.test").AsTask()).ToArray();
        await Task.Delay(50);
        release.SetResult();
        await Task.WhenAll(callers);
        Assert.Equal(1, transport.Count("single.dm.test", QueryType.MX));

        await resolver.ResolveAsync("single.dm.test");
        Assert.Equal(2, transport.Count("single.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task A_caller_that_cancels_does_not_cancel_the_shared_lookup_for_the_others()
    {
        var (resolver, transport) = Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.Gate = release.Task;
        using var cancel = new System.Threading.CancellationTokenSource();

        var impatient = resolver.ResolveAsync("single.dm.test", cancel.Token).AsTask();
        var patient = resolver.ResolveAsync("single.dm.test").AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        release.SetResult();

        Assert.True((await patient).IsSuccess);
        Assert.Equal(1, transport.Count("single.dm.test", QueryType.MX));
    }

    [Fact]
    public async Task When_the_cache_is_full_new_domains_are_resolved_but_not_kept()
    {
        var (resolver, transport) = Create(o => o.MaxCacheEntries = 1);

        await resolver.ResolveAsync("single.dm.test");
        await resolver.ResolveAsync("ordered.dm.test");
        await resolver.ResolveAsync("ordered.dm.test");
        await resolver.ResolveAsync("single.dm.test");

        Assert.Equal(1, transport.Count("single.dm.test", QueryType.MX));
        Assert.Equal(2, transport.Count("ordered.dm.test", QueryType.MX));
    }
}
