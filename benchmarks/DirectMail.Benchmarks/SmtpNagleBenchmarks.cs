using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DirectMail.Benchmarks.Infrastructure;
using MailKit.Net.Smtp;
using MimeKit;

namespace DirectMail.Benchmarks;

/// <summary>
/// Why DirectMail always sets TCP_NODELAY: MailKit's default socket (Nagle on) against the same client on a socket
/// with NoDelay, 10 KB messages into smtp-sink. With Nagle, the small last segment of each round trip waits for the
/// peer's delayed ACK (~40 ms on Linux), so few operations are run.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 20)]
public class SmtpNagleBenchmarks
{
    private SmtpSink _sink = null!;
    private SmtpClient _default = null!;
    private SmtpClient _noDelay = null!;
    private MimeMessage _message = null!;
    private MailboxAddress _sender = null!;
    private MailboxAddress[] _recipients = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _sink = SmtpSink.Start();
        _message = MailKitClients.Load(BenchmarkMessages.Create(10 * 1024));
        _sender = MailboxAddress.Parse(BenchmarkMessages.Sender);
        _recipients = [MailboxAddress.Parse(BenchmarkMessages.Recipient)];
        _default = await MailKitClients.ConnectAsync(_sink, noDelay: false);
        _noDelay = await MailKitClients.ConnectAsync(_sink, noDelay: true);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _default.DisconnectAsync(quit: true);
        await _noDelay.DisconnectAsync(quit: true);
        _default.Dispose();
        _noDelay.Dispose();
        _sink.Dispose();
    }

    [Benchmark(Baseline = true, Description = "MailKit (default socket, Nagle on)")]
    public Task<string> MailKitDefault() => _default.SendAsync(FormatOptions.Default, _message, _sender, _recipients);

    [Benchmark(Description = "MailKit (NoDelay)")]
    public Task<string> MailKitNoDelay() => _noDelay.SendAsync(FormatOptions.Default, _message, _sender, _recipients);
}
