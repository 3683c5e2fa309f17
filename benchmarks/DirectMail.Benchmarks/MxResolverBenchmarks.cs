using System;
using System.Net;
using BenchmarkDotNet.Attributes;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks;

/// <summary>
/// A cached MX resolution: what every message after the first to a domain costs. Target (issue 3): under 1 µs and no
/// allocation beyond the returned shuffle. The cache is filled by a real query to NSD, started here on 127.0.53.1 port
/// 10054 (the tests use 10053) with a small zone; nothing leaves loopback.
/// </summary>
[MemoryDiagnoser]
public class MxResolverBenchmarks
{
    private const string Zone = """
        $ORIGIN bench.test.
        $TTL 3600
        @           SOA   ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600
        @           NS    ns.bench.test.
        ns          A     127.0.53.1
        single      MX    10 mx.single
        mx.single   A     192.0.2.1
        mx.single   AAAA  2001:db8::1
        equal       MX    10 a.equal
        equal       MX    10 b.equal
        equal       MX    10 c.equal
        equal       MX    20 backup.equal
        a.equal     A     192.0.2.2
        b.equal     A     192.0.2.3
        c.equal     A     192.0.2.4
        backup.equal A    192.0.2.5
        """;

    private static readonly IPEndPoint Server = new(IPAddress.Parse("127.0.53.1"), 10054);

    private NsdServer? _nsd;
    private MxResolver _resolver = null!;

    [GlobalSetup]
    public void Setup()
    {
        _nsd = new NsdServer(Server, [new NsdZone("bench.test", Zone)]);
        _resolver = new MxResolver(new MxResolverOptions { NameServers = [Server], QueryTimeout = TimeSpan.FromMilliseconds(300), Retries = 0 });
        foreach (var domain in new[] { "single.bench.test", "equal.bench.test" })
        {
            var resolution = _resolver.ResolveAsync(domain).AsTask().GetAwaiter().GetResult();
            if (!resolution.IsSuccess)
            {
                throw new InvalidOperationException($"{domain} did not resolve: {resolution}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _nsd?.Dispose();

    /// <summary>One MX host: nothing to shuffle, the cached result itself is returned.</summary>
    [Benchmark(Baseline = true)]
    public MxResolution CachedSingleMx() => _resolver.ResolveAsync("single.bench.test").GetAwaiter().GetResult();

    /// <summary>Three hosts of equal preference and a backup: a fresh shuffle per call (one array and one result object).</summary>
    [Benchmark]
    public MxResolution CachedEqualPreferenceShuffle() => _resolver.ResolveAsync("equal.bench.test").GetAwaiter().GetResult();

    /// <summary>The same domain spelled in capitals: the case-insensitive cache finds it without normalising.</summary>
    [Benchmark]
    public MxResolution CachedUpperCaseSpelling() => _resolver.ResolveAsync("SINGLE.BENCH.TEST").GetAwaiter().GetResult();
}
