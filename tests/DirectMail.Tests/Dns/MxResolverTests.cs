using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;
using DnsClient;

namespace DirectMail.Tests.Dns;

/// <summary>The resolution rules of issue 3 (RFC 5321 section 5.1, RFC 7505), against NSD serving dm.test.</summary>
[Collection(DnsServerCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MxResolverTests
{
    private static MxResolver Resolver(Action<MxResolverOptions>? configure = null) => new(DnsServerFixture.Options(configure));

    private static string[] Hosts(MxResolution resolution) => resolution.Targets.Select(t => t.Host).ToArray();

    [Fact]
    public async Task Single_MX_host_gives_its_addresses_IPv4_first_by_default()
    {
        var resolution = await Resolver().ResolveAsync("single.dm.test");

        Assert.Equal(MxResolutionStatus.Success, resolution.Status);
        Assert.True(resolution.IsSuccess);
        Assert.False(resolution.IsImplicitMx);
        Assert.Null(resolution.FailureReply);
        var target = Assert.Single(resolution.Targets);
        Assert.Equal("mx.single.dm.test", target.Host);
        Assert.Equal(10, target.Preference);
        Assert.Equal(["192.0.2.10", "2001:db8::10"], target.Addresses.Select(a => a.Address.ToString()));
    }

    [Fact]
    public async Task Different_preferences_come_lowest_first_whatever_the_zone_order()
    {
        var resolver = Resolver();
        for (var i = 0; i < 20; i++)
        {
            var resolution = await resolver.ResolveAsync("ordered.dm.test");
            Assert.Equal(["a.ordered.dm.test", "b.ordered.dm.test", "c.ordered.dm.test"], Hosts(resolution));
            Assert.Equal([10, 20, 30], resolution.Targets.Select(t => t.Preference));
        }
    }

    [Fact]
    public async Task Equal_preferences_are_shuffled_uniformly_on_every_resolution_and_the_backup_is_never_first()
    {
        // RFC 5321 section 5.1: hosts of equal preference MUST be randomised. 1,000 resolutions (all but the first from
        // the cache) of three hosts at 10 and one at 20. For a uniform shuffle each of the 3 hosts comes first about
        // 333 times and each of the 6 orders about 167 times; the chi-square bounds below (2 and 5 degrees of freedom)
        // are exceeded with probability 1e-6 by a correct shuffle, and by any noticeably biased one almost always.
        var resolver = Resolver();
        var first = new Dictionary<string, int>();
        var orders = new Dictionary<string, int>();
        const int Rounds = 1000;
        for (var i = 0; i < Rounds; i++)
        {
            var hosts = Hosts(await resolver.ResolveAsync("equal.dm.test"));
            Assert.Equal(4, hosts.Length);
            Assert.Equal("backup.equal.dm.test", hosts[3]);
            first[hosts[0]] = first.GetValueOrDefault(hosts[0]) + 1;
            var order = string.Join(",", hosts.Take(3));
            orders[order] = orders.GetValueOrDefault(order) + 1;
        }

        Assert.Equal(3, first.Count);
        Assert.Equal(6, orders.Count);
        Assert.InRange(ChiSquare(first.Values, Rounds / 3.0), 0, 27.63);
        Assert.InRange(ChiSquare(orders.Values, Rounds / 6.0), 0, 35.9);
    }

    private static double ChiSquare(IEnumerable<int> observed, double expected) =>
        observed.Sum(o => (o - expected) * (o - expected) / expected);

    [Fact]
    public async Task No_MX_records_make_the_domain_its_own_implicit_MX_with_preference_0()
    {
        var resolution = await Resolver().ResolveAsync("implicit.dm.test");

        Assert.True(resolution.IsSuccess);
        Assert.True(resolution.IsImplicitMx);
        var target = Assert.Single(resolution.Targets);
        Assert.Equal("implicit.dm.test", target.Host);
        Assert.Equal(0, target.Preference);
        Assert.Equal(["192.0.2.30", "2001:db8::30"], target.Addresses.Select(a => a.Address.ToString()));
    }

    [Fact]
    public async Task No_MX_and_no_address_is_a_permanent_failure()
    {
        var resolution = await Resolver().ResolveAsync("noaddress.dm.test");

        Assert.Equal(MxResolutionStatus.NoUsableTargets, resolution.Status);
        Assert.True(resolution.IsPermanent);
        Assert.Empty(resolution.Targets);
        Assert.Equal(550, resolution.FailureReply!.Code);
    }

    [Fact]
    public async Task Null_MX_is_permanent_with_556_5_1_10_and_its_A_record_is_never_used()
    {
        var transport = new CountingTransport(DnsServerFixture.Options());
        var resolution = await new MxResolver(DnsServerFixture.Options(), transport, null, null).ResolveAsync("nullmx.dm.test");

        Assert.Equal(MxResolutionStatus.NullMx, resolution.Status);
        Assert.True(resolution.IsPermanent);
        Assert.False(resolution.IsTransient);
        Assert.Empty(resolution.Targets);
        Assert.Equal(556, resolution.FailureReply!.Code);
        Assert.Equal("5.1.10", resolution.FailureReply.EnhancedStatusCode.ToString());
        Assert.True(resolution.FailureReply.IsSynthetic);
        Assert.DoesNotContain("192.0.2.40", resolution.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, transport.Count("nullmx.dm.test", QueryType.A));
        Assert.Equal(0, transport.Count("nullmx.dm.test", QueryType.AAAA));
    }

    [Fact]
    public async Task NXDOMAIN_is_a_permanent_failure()
    {
        var resolution = await Resolver().ResolveAsync("no-such-domain.dm.test");

        Assert.Equal(MxResolutionStatus.DomainNotFound, resolution.Status);
        Assert.True(resolution.IsPermanent);
        Assert.Equal(550, resolution.FailureReply!.Code);
        Assert.Equal("5.1.2", resolution.FailureReply.EnhancedStatusCode.ToString());
        Assert.Contains("does not exist", resolution.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SERVFAIL_is_transient_and_never_falls_back_to_the_A_record()
    {
        var transport = new CountingTransport(DnsServerFixture.Options());
        var resolution = await new MxResolver(DnsServerFixture.Options(), transport, null, null).ResolveAsync("x.servfail.dm.test");

        Assert.Equal(MxResolutionStatus.DnsFailure, resolution.Status);
        Assert.True(resolution.IsTransient);
        Assert.False(resolution.IsPermanent);
        Assert.Empty(resolution.Targets);
        Assert.Contains("SERVFAIL", resolution.Message, StringComparison.Ordinal);
        Assert.Equal(451, resolution.FailureReply!.Code);
        Assert.Equal(1, transport.Count("x.servfail.dm.test", QueryType.MX));
        Assert.Equal(0, transport.Count("x.servfail.dm.test", QueryType.A));
    }

    [Fact]
    public async Task REFUSED_is_transient()
    {
        // NSD refuses questions outside its zones.
        var resolution = await Resolver().ResolveAsync("example.org");

        Assert.Equal(MxResolutionStatus.DnsFailure, resolution.Status);
        Assert.Contains("REFUSED", resolution.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_transient_failure_after_the_timeout()
    {
        // A UDP socket that reads queries and never replies: a real timeout, on loopback.
        using var silent = new UdpClient(TestAddresses.Dns.SilentNameServer);
        using var drain = new CancellationTokenSource();
        var queries = 0;
        var swallow = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await silent.ReceiveAsync(drain.Token);
                    Interlocked.Increment(ref queries);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var resolver = new MxResolver(new MxResolverOptions
        {
            NameServers = [(IPEndPoint)silent.Client.LocalEndPoint!],
            QueryTimeout = TimeSpan.FromMilliseconds(300),
            Retries = 1,
        });
        var resolution = await resolver.ResolveAsync("single.dm.test").Bounded();
        await drain.CancelAsync();
        await swallow.Bounded();

        Assert.Equal(MxResolutionStatus.DnsFailure, resolution.Status);
        Assert.True(resolution.IsTransient);
        Assert.Contains("timeout", resolution.Message, StringComparison.Ordinal);
        // The query and its one retry, each left to time out (not a failure at the first silence).
        Assert.Equal(2, Volatile.Read(ref queries));
    }

    [Fact]
    public async Task An_MX_host_that_is_a_CNAME_is_followed()
    {
        var resolution = await Resolver().ResolveAsync("cname.dm.test");

        var target = Assert.Single(resolution.Targets);
        Assert.Equal("alias.cname.dm.test", target.Host);
        Assert.Equal("192.0.2.50", Assert.Single(target.Addresses).Address.ToString());
    }

    [Fact]
    public async Task A_CNAME_chain_longer_than_the_limit_is_not_followed_and_fails_transiently()
    {
        // Nine CNAMEs; the default limit is 8. A resolver answers SERVFAIL for loops, so a chain this long is treated as
        // one: transient. With a higher limit the same domain resolves.
        var tooDeep = await Resolver().ResolveAsync("deepcname.dm.test");
        var allowed = await Resolver(o => o.MaxCnameDepth = 9).ResolveAsync("deepcname.dm.test");

        Assert.Equal(MxResolutionStatus.DnsFailure, tooDeep.Status);
        Assert.Contains("CNAME", tooDeep.Message, StringComparison.Ordinal);
        Assert.Equal("192.0.2.51", Assert.Single(Assert.Single(allowed.Targets).Addresses).Address.ToString());
    }

    [Fact]
    public async Task A_host_that_does_not_resolve_is_skipped_and_the_others_are_used()
    {
        var resolution = await Resolver().ResolveAsync("partial.dm.test");

        Assert.True(resolution.IsSuccess);
        Assert.Equal(["good.partial.dm.test"], Hosts(resolution));
        Assert.Contains(resolution.Warnings, w => w.Contains("missing.partial.dm.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_no_host_resolves_and_every_lookup_failed_permanently_the_outcome_is_permanent()
    {
        var resolution = await Resolver().ResolveAsync("allmissing.dm.test");

        Assert.Equal(MxResolutionStatus.NoUsableTargets, resolution.Status);
        Assert.True(resolution.IsPermanent);
        Assert.Equal("5.4.4", resolution.FailureReply!.EnhancedStatusCode.ToString());
    }

    [Fact]
    public async Task When_no_host_resolves_and_one_lookup_failed_transiently_the_outcome_is_transient()
    {
        var resolution = await Resolver().ResolveAsync("halfbroken.dm.test");

        Assert.Equal(MxResolutionStatus.DnsFailure, resolution.Status);
        Assert.True(resolution.IsTransient);
        Assert.Contains("SERVFAIL", resolution.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_MX_target_written_as_an_IP_address_is_skipped_with_a_warning_by_default()
    {
        var resolution = await Resolver().ResolveAsync("iplit.dm.test");

        Assert.Equal(["good.iplit.dm.test"], Hosts(resolution));
        Assert.Contains(resolution.Warnings, w => w.Contains("192.0.2.70", StringComparison.Ordinal) && w.Contains("IP address", StringComparison.Ordinal));

        var only = await Resolver().ResolveAsync("iponly.dm.test");
        Assert.Equal(MxResolutionStatus.NoUsableTargets, only.Status);
        Assert.Contains(only.Warnings, w => w.Contains("192.0.2.72", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_MX_target_written_as_an_IP_address_is_used_when_allowed()
    {
        var resolution = await Resolver(o => o.AllowIpLiteralMxTargets = true).ResolveAsync("iplit.dm.test");

        Assert.Equal(["192.0.2.70", "good.iplit.dm.test"], Hosts(resolution));
        Assert.Equal("192.0.2.70", Assert.Single(resolution.Targets[0].Addresses).Address.ToString());
    }

    [Fact]
    public async Task A_Unicode_domain_is_resolved_by_its_A_labels()
    {
        var resolution = await Resolver().ResolveAsync("Bücher.dm.test");

        Assert.True(resolution.IsSuccess, resolution.ToString());
        Assert.Equal("xn--bcher-kva.dm.test", resolution.Domain);
        Assert.Equal("mx.xn--bcher-kva.dm.test", Assert.Single(resolution.Targets).Host);
    }

    [Fact]
    public async Task An_invalid_Unicode_label_is_an_InvalidDomain_result_without_a_query()
    {
        var transport = new CountingTransport(DnsServerFixture.Options());
        var resolver = new MxResolver(DnsServerFixture.Options(), transport, null, null);

        var resolution = await resolver.ResolveAsync("bad_label.bücher.dm.test");

        Assert.Equal(MxResolutionStatus.InvalidDomain, resolution.Status);
        Assert.True(resolution.IsPermanent);
        Assert.Equal(553, resolution.FailureReply!.Code);
        Assert.Equal(0, transport.Total);
    }

    [Fact]
    public async Task A_truncated_UDP_answer_of_24_MX_records_is_asked_again_over_TCP()
    {
        // Precondition: over UDP alone the answer does not fit and comes back truncated (TC) and incomplete.
        var udpOnly = new LookupClient(new LookupClientOptions(DnsServerFixture.EndPoint) { UseTcpFallback = false, UseCache = false });
        var truncated = await Assert.ThrowsAsync<DnsResponseException>(() => udpOnly.QueryAsync("many.dm.test", QueryType.MX));
        Assert.Contains("truncated", truncated.Message, StringComparison.Ordinal);

        var resolution = await Resolver(o =>
        {
            o.MaxMxHosts = 24;
            o.MaxAddresses = 24;
        }).ResolveAsync("many.dm.test");

        Assert.True(resolution.IsSuccess);
        Assert.Equal(Enumerable.Range(1, 24), resolution.Targets.Select(t => t.Preference));
        Assert.Equal("192.0.2.124", resolution.Targets[23].Addresses[0].Address.ToString());
    }

    [Fact]
    public async Task The_MX_host_limit_keeps_the_lowest_preferences()
    {
        var resolution = await Resolver(o => o.MaxMxHosts = 3).ResolveAsync("many.dm.test");

        Assert.Equal([1, 2, 3], resolution.Targets.Select(t => t.Preference));
        Assert.Contains(resolution.Warnings, w => w.Contains("24 MX hosts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task At_most_5_addresses_are_kept_by_default_like_Postfix()
    {
        var five = await Resolver().ResolveAsync("manyaddr.dm.test");
        var eight = await Resolver(o => o.MaxAddresses = 8).ResolveAsync("manyaddr.dm.test");

        Assert.Equal(5, Assert.Single(five.Targets).Addresses.Length);
        Assert.Equal(8, Assert.Single(eight.Targets).Addresses.Length);
    }

    [Fact]
    public async Task The_address_limit_counts_over_all_hosts_in_order()
    {
        var resolution = await Resolver(o => o.MaxAddresses = 2).ResolveAsync("ordered.dm.test");

        Assert.Equal(["a.ordered.dm.test", "b.ordered.dm.test"], Hosts(resolution));
    }

    [Fact]
    public async Task Every_address_is_classified_by_scope()
    {
        var resolution = await Resolver(o => o.MaxAddresses = 20).ResolveAsync("scopes.dm.test");

        var scopes = Assert.Single(resolution.Targets).Addresses.ToDictionary(a => a.Address.ToString(), a => a.Scope);
        Assert.Equal(AddressScope.Loopback, scopes["127.0.0.1"]);
        Assert.Equal(AddressScope.Private, scopes["10.1.2.3"]);
        Assert.Equal(AddressScope.SharedCgnat, scopes["100.64.0.1"]);
        Assert.Equal(AddressScope.LinkLocal, scopes["169.254.1.1"]);
        Assert.Equal(AddressScope.Documentation, scopes["203.0.113.9"]);
        Assert.Equal(AddressScope.Public, scopes["8.8.8.8"]);
        Assert.Equal(AddressScope.Loopback, scopes["::1"]);
        Assert.Equal(AddressScope.LinkLocal, scopes["fe80::1"]);
        Assert.Equal(AddressScope.Private, scopes["fd00::1"]);
    }

    [Theory]
    [InlineData(AddressFamilyPreference.PreferIPv4, new[] { "192.0.2.90", "2001:db8::90" })]
    [InlineData(AddressFamilyPreference.PreferIPv6, new[] { "2001:db8::90", "192.0.2.90" })]
    [InlineData(AddressFamilyPreference.IPv4Only, new[] { "192.0.2.90" })]
    [InlineData(AddressFamilyPreference.IPv6Only, new[] { "2001:db8::90" })]
    public async Task The_address_family_preference_orders_and_filters_addresses(AddressFamilyPreference preference, string[] expected)
    {
        var resolution = await Resolver(o => o.AddressFamilyPreference = preference).ResolveAsync("dual.dm.test");

        Assert.Equal(expected, Assert.Single(resolution.Targets).Addresses.Select(a => a.Address.ToString()));
    }

    [Fact]
    public async Task IPv6_only_with_an_IPv4_only_host_has_no_usable_target()
    {
        var resolution = await Resolver(o => o.AddressFamilyPreference = AddressFamilyPreference.IPv6Only).ResolveAsync("v4only.dm.test");

        Assert.Equal(MxResolutionStatus.NoUsableTargets, resolution.Status);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "[192.0.2.1]", "192.0.2.1")]
    [InlineData("[IPv6:2001:DB8:0:0::1]", "[IPv6:2001:db8::1]", "2001:db8::1")]
    public async Task An_address_literal_is_the_single_target_and_no_DNS_is_asked(string domain, string host, string address)
    {
        var transport = new CountingTransport(DnsServerFixture.Options());
        var resolver = new MxResolver(DnsServerFixture.Options(), transport, null, null);

        var resolution = await resolver.ResolveAsync(domain);

        Assert.True(resolution.IsSuccess);
        Assert.True(resolution.IsAddressLiteral);
        var target = Assert.Single(resolution.Targets);
        Assert.Equal(host, target.Host);
        Assert.Equal(0, target.Preference);
        Assert.Equal(address, Assert.Single(target.Addresses).Address.ToString());
        Assert.Equal(0, transport.Total);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-bad.dm.test")]
    [InlineData("a..dm.test")]
    [InlineData("under_score.dm.test")]
    [InlineData("192.0.2.1")]
    [InlineData("[192.0.2]")]
    [InlineData("[tag:content]")]
    [InlineData("dm.test\r\nRCPT TO:<x@y>")]
    public async Task Invalid_input_is_an_InvalidDomain_result_not_an_exception(string domain)
    {
        var resolution = await Resolver().ResolveAsync(domain);

        Assert.Equal(MxResolutionStatus.InvalidDomain, resolution.Status);
        Assert.DoesNotContain('\r', resolution.FailureReply!.Text);
        Assert.DoesNotContain('\n', resolution.FailureReply.Text);
    }

    [Fact]
    public async Task Null_input_throws_ArgumentNullException()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Resolver().ResolveAsync(null!));
    }

    [Fact]
    public async Task Case_and_a_trailing_dot_do_not_change_the_domain()
    {
        var resolver = Resolver();

        var resolution = await resolver.ResolveAsync("SINGLE.Dm.Test.");

        Assert.Equal("single.dm.test", resolution.Domain);
        Assert.Equal("mx.single.dm.test", Assert.Single(resolution.Targets).Host);
    }

    [Fact]
    public async Task A_cancelled_caller_gets_OperationCanceledException()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Resolver().ResolveAsync("single.dm.test", cancelled.Token));
    }
}
