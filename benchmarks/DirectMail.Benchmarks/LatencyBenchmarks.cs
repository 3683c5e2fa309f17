using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace DirectMail.Benchmarks;

/// <summary>
/// Issue 13's latency benchmark: 10 KB messages to 100 domains on one MX, 32 callers at once, through a relay that
/// holds every chunk 25 ms each way (<see cref="DelayingTcpRelay"/>, a 50 ms round trip), in front of a sink that
/// offers PIPELINING only (<c>smtp-sink</c>) or PIPELINING and CHUNKING (a private Postfix <c>smtpd</c>, discard
/// transport); see <see cref="LatencyBenchmarkRig"/>. One operation is one message (OperationsPerInvoke), so the
/// Op/s column reads as messages per second; each invocation sends a batch of <see cref="Batch"/>. Compared in the same
/// run, each method checking that every message was accepted:
/// <list type="bullet">
/// <item>DirectMail <see cref="IDirectMailer.SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/> with default
/// options (MaxConnectionsPerHost 5), DNS through the rig's NSD (cached after setup).</item>
/// <item>MailKit, 32 reused connections: one <see cref="SmtpClient"/> per caller, connected once in setup.</item>
/// <item>MailKit, 5 reused connections shared by the 32 callers (as many as DirectMail's pool opens).</item>
/// <item>MailKit, a new connection per message (connect, greeting, EHLO, send, QUIT).</item>
/// </list>
/// MailKit connects to the MX address itself (no DNS) on sockets with TCP_NODELAY (see <see cref="SmtpNagleBenchmarks"/>).
/// Each run's cleanup logs what the relay saw (connections, writes each way per message) and, for the Postfix sink,
/// that its queue is empty and nothing was deferred.
/// Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*LatencyBenchmarks*'</c>.
/// </summary>
[Config(typeof(ThroughputConfig))]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class LatencyBenchmarks
{
    public const int Size = 10 * 1024;
    public const int Callers = 32;
    public const int Batch = 320;
    private const int SharedConnections = 5;

    private LatencyBenchmarkRig _rig = null!;
    private DirectMailer _mailer = null!;
    private SmtpContent _content = null!;
    private SmtpEnvelope[] _envelopes = null!;
    private MimeMessage _message = null!;
    private MailboxAddress _sender = null!;
    private MailboxAddress[][] _recipients = null!;
    private SmtpClient[] _clients = [];
    private Channel<SmtpClient> _shared = null!;
    private long _sent;

    [Params(LatencySink.DataOnly, LatencySink.Chunking)]
    public LatencySink Sink { get; set; }

    [GlobalSetup(Target = nameof(DirectMail))]
    public async Task SetupDirectMailAsync()
    {
        Setup();
        _mailer = new DirectMailer(LatencyBenchmarkRig.MailerOptions());

        // Every domain resolved (MX, MTA-STS, TLSA) and the pool's connections opened before the first iteration.
        await RunAsync(LatencyBenchmarkRig.Domains, DirectMailOne);
    }

    [GlobalSetup(Target = nameof(MailKitReused32))]
    public async Task SetupMailKitReused32Async()
    {
        Setup();
        _clients = await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => ConnectMailKitAsync()));
    }

    [GlobalSetup(Target = nameof(MailKitReused5))]
    public async Task SetupMailKitReused5Async()
    {
        Setup();
        _clients = await Task.WhenAll(Enumerable.Range(0, SharedConnections).Select(_ => ConnectMailKitAsync()));
        _shared = Channel.CreateBounded<SmtpClient>(SharedConnections);
        foreach (var client in _clients)
        {
            _shared.Writer.TryWrite(client);
        }
    }

    [GlobalSetup(Target = nameof(MailKitConnectionPerMessage))]
    public void SetupMailKitConnectionPerMessage() => Setup();

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_mailer is not null)
        {
            await _mailer.DisposeAsync();
        }

        foreach (var client in _clients)
        {
            await client.DisconnectAsync(quit: true);
            client.Dispose();
        }

        Console.WriteLine($"// {Sink}: " + _rig.Report(Interlocked.Read(ref _sent)));
        _rig.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "DirectMail IDirectMailer.SendAsync, default options (5 connections)")]
    public Task DirectMail() => RunAsync(Batch, DirectMailOne);

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "MailKit, 32 reused connections (one per caller)")]
    public Task MailKitReused32() => RunAsync(Batch, (caller, i) => MailKitSendAsync(_clients[caller], i));

    [Benchmark(OperationsPerInvoke = Batch, Description = "MailKit, 5 reused connections shared by the 32 callers")]
    public Task MailKitReused5() => RunAsync(Batch, MailKitSharedOne);

    [Benchmark(OperationsPerInvoke = Batch, Description = "MailKit, a new connection per message")]
    public Task MailKitConnectionPerMessage() => RunAsync(Batch, MailKitNewConnectionOne);

    private void Setup()
    {
        _rig = new LatencyBenchmarkRig(Sink);
        var bytes = BenchmarkMessages.Create(Size);
        _content = SmtpContent.FromBytes(bytes);
        _envelopes = Enumerable.Range(0, LatencyBenchmarkRig.Domains).Select(i => new SmtpEnvelope(BenchmarkMessages.Sender, "recipient@" + LatencyBenchmarkRig.Domain(i))).ToArray();
        _message = MailKitClients.Load(bytes); // checked to write the same bytes
        _sender = MailboxAddress.Parse(BenchmarkMessages.Sender);
        _recipients = Enumerable.Range(0, LatencyBenchmarkRig.Domains).Select(i => new[] { MailboxAddress.Parse("recipient@" + LatencyBenchmarkRig.Domain(i)) }).ToArray();
    }

    /// <summary>
    /// Sends messages 0 … count-1 from <see cref="Callers"/> callers at once, each taking the next message when its
    /// last is accepted; throws unless every one of them was.
    /// </summary>
    private async Task RunAsync(int count, Func<int, int, Task> send)
    {
        var next = -1;
        var accepted = 0;
        var callers = new Task[Callers];
        for (var c = 0; c < callers.Length; c++)
        {
            var caller = c;
            callers[c] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await send(caller, i);
                    Interlocked.Increment(ref accepted);
                }
            });
        }

        await Task.WhenAll(callers);
        if (accepted != count)
        {
            throw new InvalidOperationException($"Only {accepted} of {count} messages were accepted.");
        }

        Interlocked.Add(ref _sent, count);
    }

    private async Task DirectMailOne(int caller, int i)
    {
        var report = await _mailer.SendAsync(_envelopes[i % _envelopes.Length], _content);
        if (!report.IsFullyDelivered)
        {
            throw new InvalidOperationException("DirectMail did not deliver: " + string.Join("; ", report.Recipients));
        }
    }

    private async Task MailKitSharedOne(int caller, int i)
    {
        var client = await _shared.Reader.ReadAsync();
        try
        {
            await MailKitSendAsync(client, i);
        }
        finally
        {
            _shared.Writer.TryWrite(client);
        }
    }

    private async Task MailKitNewConnectionOne(int caller, int i)
    {
        using var client = await ConnectMailKitAsync();
        await MailKitSendAsync(client, i);
        await client.DisconnectAsync(quit: true);
    }

    /// <summary>Sends message i; MailKit throws when the server refuses it, so returning is acceptance.</summary>
    private Task<string> MailKitSendAsync(SmtpClient client, int i) =>
        client.SendAsync(FormatOptions.Default, _message, _sender, _recipients[i % _recipients.Length]);

    /// <summary>A MailKit client connected to the MX (the relay) on a socket with TCP_NODELAY, greeted and EHLO done.</summary>
    private static async Task<SmtpClient> ConnectMailKitAsync()
    {
        var endPoint = LatencyBenchmarkRig.Mx;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new SmtpClient { LocalDomain = BenchmarkMessages.HeloName };
        try
        {
            await socket.ConnectAsync(endPoint);
            await client.ConnectAsync(socket, LatencyBenchmarkRig.MxHost, endPoint.Port, SecureSocketOptions.None);
            return client;
        }
        catch
        {
            client.Dispose();
            socket.Dispose();
            throw;
        }
    }
}
