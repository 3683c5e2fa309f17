using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DnsClient;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace DirectMail.Benchmarks;

/// <summary>
/// Issue 5's benchmark: 10 KB messages to 100 domains (d00 … d99.deliverbench.test, each MX on the smtp-sink at
/// 127.0.26.200:10025), 8 at a time, DNS cached (every domain resolved once in setup). One operation is one message;
/// each invocation sends a batch. Compared in the same run:
/// <list type="bullet">
/// <item>DirectMail: <see cref="IDirectMailer.SendAsync(DirectMail.Smtp.SmtpEnvelope, DirectMail.Smtp.SmtpContent, System.Threading.CancellationToken)"/> (resolver, pool, report), 8 callers at once.</item>
/// <item>What public .NET code does today: a DnsClient MX lookup (cached LookupClient), an A lookup of the MX host, then
/// a MailKit <see cref="SmtpClient"/> connect, send, disconnect per message, 8 at once.</item>
/// <item>Postfix's <c>smtp-source -s 8 -l 10240</c> straight into the sink (no DNS), with and without <c>-d</c>
/// (connection reuse, what DirectMail's pool does), for the ceiling.</item>
/// </list>
/// Allocation per message is measured for the two .NET paths (smtp-source runs in its own process: its column is
/// this process's waiting only). Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*DeliveryBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class DeliveryBenchmarks
{
    public const int Size = 10 * 1024;
    public const int Concurrency = 8;
    private const int DirectMailBatch = 2000;
    private const int MailKitBatch = 400;
    private const int SmtpSourceBatch = 2000;

    private DeliveryBenchmarkRig _rig = null!;
    private DirectMailer _mailer = null!;
    private DirectMailer _mailerWithoutTransportSecurity = null!;
    private SmtpContent _content = null!;
    private SmtpEnvelope[] _envelopes = null!;
    private LookupClient _dns = null!;
    private MimeMessage _message = null!;
    private MailboxAddress _sender = null!;
    private MailboxAddress[][] _recipients = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _rig = new DeliveryBenchmarkRig();
        var bytes = BenchmarkMessages.Create(Size);
        _content = SmtpContent.FromBytes(bytes);
        _envelopes = Enumerable.Range(0, DeliveryBenchmarkRig.Domains).Select(i => new SmtpEnvelope(BenchmarkMessages.Sender, "recipient@" + DeliveryBenchmarkRig.Domain(i))).ToArray();
        _mailer = new DirectMailer(DeliveryBenchmarkRig.MailerOptions(Concurrency)); // every MX is the same sink: let the 8 callers each have one
        var withoutTransportSecurity = DeliveryBenchmarkRig.MailerOptions(Concurrency);
        withoutTransportSecurity.UseMtaSts = false; // issue 14: the path before transport security, for comparison
        withoutTransportSecurity.UseDane = false;
        _mailerWithoutTransportSecurity = new DirectMailer(withoutTransportSecurity);

        _dns = new LookupClient(new LookupClientOptions(DeliveryBenchmarkRig.NameServer) { UseCache = true });
        _message = MailKitClients.Load(bytes); // checked to write the same bytes
        _sender = MailboxAddress.Parse(BenchmarkMessages.Sender);
        _recipients = Enumerable.Range(0, DeliveryBenchmarkRig.Domains).Select(i => new[] { MailboxAddress.Parse("recipient@" + DeliveryBenchmarkRig.Domain(i)) }).ToArray();

        // DNS cached for both paths: every domain once.
        for (var i = 0; i < DeliveryBenchmarkRig.Domains; i++)
        {
            await DirectMailOne(i);
            await DirectMailWithoutTransportSecurityOne(i);
            await MailKitOne(i);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _mailer.DisposeAsync();
        await _mailerWithoutTransportSecurity.DisposeAsync();
        _rig.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = MailKitBatch, Description = "DnsClient + MailKit, connect-send-disconnect per message")]
    public Task DnsClientAndMailKit() => RunAsync(MailKitBatch, MailKitOne);

    [Benchmark(OperationsPerInvoke = DirectMailBatch, Description = "DirectMail IDirectMailer.SendAsync")]
    public Task DirectMail() => RunAsync(DirectMailBatch, DirectMailOne);

    [Benchmark(OperationsPerInvoke = DirectMailBatch, Description = "DirectMail IDirectMailer.SendAsync, MTA-STS and DANE off")]
    public Task DirectMailWithoutTransportSecurity() => RunAsync(DirectMailBatch, DirectMailWithoutTransportSecurityOne);

    [Benchmark(OperationsPerInvoke = SmtpSourceBatch, Description = "Postfix smtp-source -s 8 (no DNS, a connection per message)")]
    public TimeSpan SmtpSource() => DeliveryBenchmarkRig.SmtpSource(Concurrency, SmtpSourceBatch, Size, reuse: false);

    [Benchmark(OperationsPerInvoke = SmtpSourceBatch, Description = "Postfix smtp-source -s 8 -d (no DNS, connections reused)")]
    public TimeSpan SmtpSourceReuse() => DeliveryBenchmarkRig.SmtpSource(Concurrency, SmtpSourceBatch, Size, reuse: true);

    /// <summary>Runs <paramref name="send"/> for 0 … count-1, <see cref="Concurrency"/> at a time.</summary>
    internal static async Task RunAsync(int count, Func<int, Task> send)
    {
        var next = -1;
        var workers = new Task[Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await send(i);
                }
            });
        }

        await Task.WhenAll(workers);
    }

    private async Task DirectMailWithoutTransportSecurityOne(int i)
    {
        var report = await _mailerWithoutTransportSecurity.SendAsync(_envelopes[i % _envelopes.Length], _content);
        if (!report.IsFullyDelivered)
        {
            throw new InvalidOperationException("DirectMail did not deliver: " + string.Join("; ", report.Recipients));
        }
    }

    private async Task DirectMailOne(int i)
    {
        var report = await _mailer.SendAsync(_envelopes[i % _envelopes.Length], _content);
        if (!report.IsFullyDelivered)
        {
            throw new InvalidOperationException("DirectMail did not deliver: " + string.Join("; ", report.Recipients));
        }
    }

    /// <summary>What a .NET developer writes today: MX lookup, host lookup, MailKit connect-send-disconnect.</summary>
    private async Task MailKitOne(int i)
    {
        var domain = DeliveryBenchmarkRig.Domain(i);
        var mx = (await _dns.QueryAsync(domain, QueryType.MX)).Answers.MxRecords().OrderBy(r => r.Preference).First();
        var address = (await _dns.QueryAsync(mx.Exchange.Value, QueryType.A)).Answers.ARecords().First().Address;
        using var client = new SmtpClient { LocalDomain = BenchmarkMessages.HeloName };
        await client.ConnectAsync(address.ToString(), DeliveryBenchmarkRig.Port, SecureSocketOptions.None);
        await client.SendAsync(_message, _sender, _recipients[i % _recipients.Length]);
        await client.DisconnectAsync(quit: true);
    }
}
