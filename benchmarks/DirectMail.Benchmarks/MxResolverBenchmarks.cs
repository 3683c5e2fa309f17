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
    private static readonly IPEndPoint Server = new(IPAddress.Parse("127.0.53.1"), 10054);

    private static readonly NsdZone Zone = new ZoneBuilder("bench.test", ttl: 3600)
        .WithSoa("ns.bench.test.", "hostmaster.bench.test.", minimum: 3600)
        .WithNameServer(Server.Address)
        .Mx("single", 10, "mx.single").A("mx.single", "192.0.2.1").Aaaa("mx.single", "2001:db8::1")
        .Mx("equal", 10, "a.equal").Mx("equal", 10, "b.equal").Mx("equal", 10, "c.equal").Mx("equal", 20, "backup.equal")
        .A("a.equal", "192.0.2.2").A("b.equal", "192.0.2.3").A("c.equal", "192.0.2.4").A("backup.equal", "192.0.2.5")
        .Build();

    private NsdServer? _nsd;
    private MxResolver _resolver = null!;

    [GlobalSetup]
    public void Setup()
    {
        _nsd = new NsdServer(Server, [Zone]);
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
