using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Threading;
using BenchmarkDotNet.Attributes;
using DirectMail.Dns;

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

    private Process? _nsd;
    private string? _directory;
    private MxResolver _resolver = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("directmail-bench-nsd-").FullName;
        File.WriteAllText(Path.Combine(_directory, "bench.test.zone"), Zone);
        var config = Path.Combine(_directory, "nsd.conf");
        File.WriteAllText(config, $"""
            server:
              ip-address: {Server.Address}@{Server.Port}
              port: {Server.Port}
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "{_directory}"
              database: ""
              pidfile: "{_directory}/nsd.pid"
              logfile: "{_directory}/nsd.log"
              xfrdfile: "{_directory}/xfrd.state"
              zonelistfile: "{_directory}/zone.list"
              server-count: 1
            remote-control:
              control-enable: no
            zone:
              name: "bench.test"
              zonefile: "bench.test.zone"
            """);

        var nsd = File.Exists("/usr/sbin/nsd") ? "/usr/sbin/nsd" : throw new InvalidOperationException("The benchmark needs NSD: apt-get install nsd.");
        _nsd = Process.Start(new ProcessStartInfo(nsd) { ArgumentList = { "-d", "-c", config }, UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });

        _resolver = new MxResolver(new MxResolverOptions { NameServers = [Server], QueryTimeout = TimeSpan.FromMilliseconds(300), Retries = 0 });
        var ready = Stopwatch.StartNew();
        while (true)
        {
            var single = _resolver.ResolveAsync("single.bench.test").AsTask().GetAwaiter().GetResult();
            if (single.IsSuccess)
            {
                break;
            }

            if (ready.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"NSD did not answer on {Server}: {single}");
            }

            // Failures are kept for 30 s; a fresh resolver asks again.
            Thread.Sleep(100);
            _resolver = new MxResolver(new MxResolverOptions { NameServers = [Server], QueryTimeout = TimeSpan.FromMilliseconds(300), Retries = 0 });
        }

        if (!_resolver.ResolveAsync("equal.bench.test").AsTask().GetAwaiter().GetResult().IsSuccess)
        {
            throw new InvalidOperationException("equal.bench.test did not resolve.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_nsd is { HasExited: false })
        {
            _nsd.Kill(entireProcessTree: true);
            _nsd.WaitForExit(5000);
        }

        _nsd?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

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
