using System;
using System.Collections.Immutable;
using System.Net;
using BenchmarkDotNet.Attributes;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Benchmarks;

/// <summary>
/// TLS-RPT's costs: <see cref="TlsReportAggregator.Record"/>, which the delivery path pays once per TLS session (a
/// success of a cached MTA-STS policy, and a failure whose row exists), and building one domain's day: the aggregate
/// taken, its JSON written and gzipped (50 MX addresses' failure rows, 3 policies).
/// Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*TlsReport*' --job short --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class TlsReportBenchmarks
{
    private static readonly ImmutableArray<string> Policy = ["version: STSv1", "mode: enforce", "mx: *.mail.example.com", "max_age: 604800"];
    private static readonly ImmutableArray<string> Patterns = ["*.mail.example.com"];
    private static readonly IPAddress Sending = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Receiving = IPAddress.Parse("198.51.100.7");
    private static readonly TlsReportHeading Heading = new("Example Inc.", "tlsrpt@example.org", "mail.example.org", "20261201.0123456789abcdef01234567");

    private readonly TlsReportAggregator _hot = new();
    private TlsSessionResult _success;
    private TlsSessionResult _failure;

    [GlobalSetup]
    public void Setup()
    {
        _success = new TlsSessionResult("example.com", TlsPolicyType.Sts, "mx1.mail.example.com", Receiving, null, null) { SendingAddress = Sending, PolicyStrings = Policy, PolicyMxHosts = Patterns };
        _failure = _success with { Failure = TlsFailureType.CertificateExpired, Detail = "certificate expired" };
        _hot.Record(_success);
        _hot.Record(_failure);
    }

    [Benchmark(Description = "Record: a success")]
    public void RecordSuccess() => _hot.Record(_success);

    [Benchmark(Description = "Record: a failure")]
    public void RecordFailure() => _hot.Record(_failure);

    [Benchmark(Description = "One day's report: take, JSON, gzip")]
    public int BuildDay()
    {
        var aggregator = new TlsReportAggregator();
        for (var i = 0; i < 50; i++)
        {
            var mx = new IPAddress(0xC6336400u + (uint)i);
            aggregator.Record(_success with { ReceivingAddress = mx });
            aggregator.Record(_failure with { ReceivingAddress = mx, MxHost = "mx" + (i % 3) + ".mail.example.com" });
            aggregator.Record(_failure with { ReceivingAddress = mx, Failure = TlsFailureType.StartTlsNotSupported });
        }

        aggregator.Record(_success with { PolicyType = TlsPolicyType.NoPolicyFound, PolicyStrings = [], PolicyMxHosts = [] });
        aggregator.Record(_success with { PolicyStrings = ["version: STSv1", "mode: testing"] });
        var day = aggregator.TakeDaysBefore(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1))[0];
        return TlsReportJson.WriteGzip(Heading, day).Length;
    }
}
