using System;
using System.Net;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DirectMail.Dns;
using DirectMail.Security;
using DirectMail.Security.MtaSts;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Benchmarks;

/// <summary>
/// The transport-security decision of a domain whose MTA-STS state is cached: what every delivery after the first pays
/// (issue 14: under 1 µs, no allocation). The cache is filled once through its own TXT and fetch steps (given here, no
/// network); then each operation is <see cref="TransportSecurityResolver.DecideAsync"/> plus the requirement of one MX host.
/// Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*TransportSecurity*' --job short --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class TransportSecurityBenchmarks
{
    private const string Enforced = "enforce.example";
    private const string Unprotected = "plain.example";

    private static readonly MxResolution EnforcedMx = MxResolution.FromTargets(Enforced, [new MxTarget("mx1.enforce.example", 10, [new MxAddress(IPAddress.Parse("192.0.2.1"))])]);
    private static readonly MxResolution PlainMx = MxResolution.FromTargets(Unprotected, [new MxTarget("mx.plain.example", 10, [new MxAddress(IPAddress.Parse("192.0.2.2"))])]);

    private TransportSecurityResolver _resolver = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var cache = new MtaStsPolicyCache(
            (name, _) => new ValueTask<MxResolver.TextRecords>(name == "_mta-sts." + Enforced
                ? new MxResolver.TextRecords(["v=STSv1; id=1"], false, TimeSpan.FromHours(1), string.Empty)
                : new MxResolver.TextRecords([], false, TimeSpan.FromHours(1), "NXDOMAIN")),
            (_, _) => Task.FromResult(new MtaStsFetchResult(MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: *.enforce.example\nmax_age: 604800\n", out _), null, null)),
            null,
            TimeProvider.System,
            NullLogger.Instance);
        _resolver = new TransportSecurityResolver(cache, null, TrustAnchors.Platform);
        if ((await _resolver.DecideAsync(Enforced, EnforcedMx, default)).Policy.For("mx1.enforce.example").Kind != TlsRequirementKind.AuthenticationRequired)
        {
            throw new InvalidOperationException("The enforce policy was not cached.");
        }

        await _resolver.DecideAsync(Unprotected, PlainMx, default);
    }

    [Benchmark(Description = "cached MTA-STS enforce policy: decision + MX requirement")]
    public int CachedEnforce()
    {
        var decision = _resolver.DecideAsync(Enforced, EnforcedMx, default);
        return decision.IsCompletedSuccessfully ? (int)decision.Result.Policy.For("mx1.enforce.example").Kind : throw new InvalidOperationException("not cached");
    }

    [Benchmark(Description = "cached no-policy domain: decision + MX requirement")]
    public int CachedNoPolicy()
    {
        var decision = _resolver.DecideAsync(Unprotected, PlainMx, default);
        return decision.IsCompletedSuccessfully ? (int)decision.Result.Policy.For("mx.plain.example").Kind : throw new InvalidOperationException("not cached");
    }
}
