using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks;

/// <summary>
/// Issue 15's benchmark: 10 KB messages, 8 callers at once, into one in-process TLS sink (<see cref="TlsSmtpSink"/>),
/// by the two ways an <see cref="IDirectMailer"/> can go, in the same run:
/// <list type="bullet">
/// <item>Direct, with TLS: the MX (the sink's STARTTLS port), opportunistic STARTTLS, pooled connections.</item>
/// <item>Through a relay: the relay route to the sink's submission port, implicit TLS, the certificate pinned and
/// validated, AUTH PLAIN once per pooled connection (the cleanup checks that there is at most one AUTH per connection).</item>
/// </list>
/// Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*RelayBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class RelayBenchmarks
{
    private const int Concurrency = 8;
    private const int Batch = 2000;

    private TlsSmtpSink _sink = null!;
    private DirectMailer _direct = null!;
    private DirectMailer _relay = null!;
    private SmtpContent _content = null!;
    private SmtpEnvelope[] _envelopes = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _sink = new TlsSmtpSink(System.Net.IPAddress.Parse("127.0.25.21"), 10027, 10028);
        _content = SmtpContent.FromBytes(BenchmarkMessages.Create(10 * 1024));
        _envelopes = Enumerable.Range(0, 100).Select(i => new SmtpEnvelope(BenchmarkMessages.Sender, $"recipient@d{i:00}.relaybench.test")).ToArray();
        var resolver = new SinkResolver(_sink.DirectEndPoint.Address);
        _direct = new DirectMailer(Options(o =>
        {
            o.Port = _sink.DirectEndPoint.Port;
            o.TlsMode = SmtpTlsMode.Opportunistic;
        }), resolver);
        var pinned = _sink.Thumbprint;
        _relay = new DirectMailer(Options(o =>
        {
            o.Relays["submission"] = new SmtpRelayOptions
            {
                Hosts = { _sink.RelayEndPoint.ToString() },
                TlsMode = SmtpTlsMode.Implicit,
                UserName = "bench@client.bench.test",
                Password = "bench-password",
                CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
            };
            o.Routes.Default = "submission";
        }), resolver);

        // Every pooled connection opened (and, for the relay, authenticated) before measuring.
        await SendAsync(_direct, Concurrency * 4);
        await SendAsync(_relay, Concurrency * 4);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _direct.DisposeAsync();
        await _relay.DisposeAsync();
        Console.WriteLine($"// TlsSmtpSink: {_sink.Connections} connections, {_sink.Auths} AUTH commands");
        if (_sink.Auths > _sink.Connections)
        {
            throw new InvalidOperationException($"More AUTH commands ({_sink.Auths}) than connections ({_sink.Connections}): a pooled relay connection authenticated twice.");
        }

        _sink.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "Direct to the MX, STARTTLS, pooled")]
    public Task Direct() => SendAsync(_direct, Batch);

    [Benchmark(OperationsPerInvoke = Batch, Description = "Through the relay, implicit TLS + AUTH PLAIN, pooled")]
    public Task Relay() => SendAsync(_relay, Batch);

    private static DirectMailOptions Options(Action<DirectMailOptions> configure)
    {
        var options = new DirectMailOptions
        {
            HeloName = BenchmarkMessages.HeloName,
            AllowPrivateTargets = true,
            MaxConnectionsPerHost = Concurrency,
            MaxRetryAttempts = 0,
        };
        configure(options);
        return options;
    }

    private async Task SendAsync(DirectMailer mailer, int count)
    {
        var next = -1;
        var workers = new Task[Concurrency];
        for (var w = 0; w < Concurrency; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var report = await mailer.SendAsync(_envelopes[i % _envelopes.Length], _content);
                    if (!report.IsFullyDelivered)
                    {
                        throw new InvalidOperationException("Not delivered: " + report.Recipients[0]);
                    }
                }
            });
        }

        await Task.WhenAll(workers);
    }

    /// <summary>Every domain's MX is the sink: the benchmark measures delivery, not DNS.</summary>
    private sealed class SinkResolver(System.Net.IPAddress address) : IMxResolver
    {
        public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(MxResolution.FromTargets(domain, [new MxTarget("mx.relaybench.test", 10, [new MxAddress(address)])]));
    }
}
